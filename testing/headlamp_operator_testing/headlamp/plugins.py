"""Headlamp's plugin list and the ``X-Reload`` signal of a plugin change, as v0.45.0 gives them.

``GET /plugins`` lists the plugins the backend found (``[{"path", "type", "name"}]``; ``[]`` for none) and,
once it was asked, lets the backend signal changes: a change of its plugin folders (a plugin folder added,
here :meth:`Plugins.add`) arms the signal, and the next PROXIED Kubernetes API answer carries
``X-Reload: reload`` (and ``Access-Control-Expose-Headers: X-Reload``), once; port-forward, set-token and
backend-made error answers never do (``backend/pkg/plugins/plugins.go``, ``HandlePluginReload`` and
``HandlePluginEvents``; recorded: tests/kit/headlamp/transcripts/headlamp-v0.45.0.json, ``plugins/*``).
A change before the first ``GET /plugins`` is not signalled. The scaffold's ``reload`` knob, which puts
the header on every answer, is a fault, not this.
"""
from __future__ import annotations

from aiohttp import web

from .records import json_response


class Plugins:
    """The backend's plugin cache: the listed plugins, whether a change may be signalled, whether one is due."""

    def __init__(self) -> None:
        self.listed: list[dict[str, str]] = []
        self.can_signal = False  # the plugin list was asked for (PLUGIN_CAN_SEND_REFRESH)
        self.due = False  # a change waits for the next proxied answer (PLUGIN_REFRESH)

    def answer_list(self) -> web.Response:
        """``GET /plugins``: the list, and from now on changes are signalled."""
        self.can_signal = True
        return json_response(self.listed)

    def add(self, name: str, *, kind: str = "development") -> None:
        """A plugin folder appeared (``development``: the backend's plugin folder; ``user``; ``shipped``)."""
        self.listed.append({"path": f"plugins/{name}", "type": kind, "name": name})
        self.due = self.can_signal

    def mark(self, response: web.StreamResponse) -> web.StreamResponse:
        """Put the signal on a proxied answer if one is due (once)."""
        if self.due:
            self.due = False
            response.headers["Access-Control-Expose-Headers"] = "X-Reload"
            response.headers["X-Reload"] = "reload"
        return response

    def reset(self) -> None:
        """A backend restart: the plugins are found again, and no change may be signalled until listed again."""
        self.can_signal = self.due = False
