"""What the emulator records about requests, and how it fails on purpose (faults)."""
from __future__ import annotations

import dataclasses
import fnmatch
import json
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

GO_TEXT = "text/plain; charset=utf-8"


def go_error(status: int, message: str) -> web.Response:
    """Answer like Go's ``http.Error``: plain text, the message plus a newline."""
    return web.Response(
        status=status,
        body=(message + "\n").encode("utf-8"),
        headers={"Content-Type": GO_TEXT, "X-Content-Type-Options": "nosniff"},
    )


def json_response(data: Any, *, status: int = 200) -> web.Response:
    """Answer with a JSON document, as Go's ``json.NewEncoder(w).Encode`` does (trailing newline)."""
    body = json.dumps(data, separators=(",", ":")) + "\n"
    return web.Response(status=status, body=body.encode("utf-8"), content_type="application/json")


@dataclasses.dataclass(kw_only=True)
class RecordedRequest:
    """One request as the emulator received it, kept for assertions."""

    method: str
    path: str  # decoded, as sent (base path included)
    raw_path: str  # undecoded, without the query string
    query: dict[str, str]
    headers: CIMultiDict[str]
    cookies: dict[str, str]
    body: bytes
    json: Any  # the parsed body, or None when absent or not JSON
    cluster: str | None  # the {cluster} of a /clusters/{cluster}/... path
    time: float  # time.monotonic() on arrival
    status: int | None = None  # the answer's status, once answered
    dropped: bool = False  # the connection was dropped instead of answering (a disconnect fault)

    @classmethod
    def capture(cls, request: web.BaseRequest, body: bytes, *, cluster: str | None) -> RecordedRequest:
        """Build a record from an aiohttp request whose body was already read."""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return cls(
            method=request.method,
            path=request.path,
            raw_path=request.rel_url.raw_path,
            query={key: request.query[key] for key in request.query},
            headers=CIMultiDict(request.headers),
            cookies=dict(request.cookies),
            body=body,
            json=parsed,
            cluster=cluster,
            time=time.monotonic(),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fault:
    """A canned answer given instead of the real one; ``body`` may be bytes (huge, not UTF-8, ...).

    ``method`` and ``path`` (a glob over the decoded path) restrict which requests it hits;
    ``disconnect`` drops the connection without answering at all.
    """

    status: int = 503
    body: str | bytes = ""
    content_type: str = GO_TEXT
    retry_after: float | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    method: str | None = None
    path: str | None = None
    disconnect: bool = False

    def matches(self, record: RecordedRequest) -> bool:
        """Whether this fault applies to that request."""
        if self.method is not None and self.method.upper() != record.method:
            return False
        return self.path is None or fnmatch.fnmatchcase(record.path, self.path)

    def response(self) -> web.Response:
        """Render the canned answer."""
        body = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        headers = CIMultiDict(self.headers)
        headers["Content-Type"] = self.content_type
        if self.retry_after is not None:
            value = self.retry_after
            headers["Retry-After"] = str(int(value) if float(value).is_integer() else value)
        return web.Response(status=self.status, body=body, headers=headers)
