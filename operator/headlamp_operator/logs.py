"""The operator's log lines: every line about a resource names it, and bookkeeping stays quiet.

Text lines (``--log-format=full``, the default, or ``plain``) start with ``[Kind namespace/name]``
when they are about one resource, e.g.::

    [2026-11-30 11:02:03,456] kopf.objects         [ERROR   ] [ResourcePatch team-a/scale-web] ...

JSON lines (``--log-format=json``, what the Deployment uses: one object a line, for log pipelines)
carry the same in an ``object`` field (``apiVersion``, ``kind``, ``namespace``, ``name``, ``uid``),
kopf's own layout, and the message without the prefix.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Collection

from headlamp_operator.settings import LOG_FORMATS, LOG_LEVELS

FORMATS, LEVELS = LOG_FORMATS, LOG_LEVELS  # the choices of --log-format and --log-level


class ResourceFormatter(logging.Formatter):
    """Text lines prefixed with ``[Kind namespace/name]`` when kopf says which resource they are about.

    kopf's own prefix (``log_prefix=True``) names the namespace and name only; with two kinds, a name
    alone does not say which resource a line is about.
    """

    def format(self, record: logging.LogRecord) -> str:
        ref = getattr(record, "k8s_ref", None)
        if isinstance(ref, dict) and ref.get("name"):
            where = f"{ref['namespace']}/{ref['name']}" if ref.get("namespace") else str(ref["name"])
            record = copy.copy(record)
            record.msg = f"[{ref.get('kind') or 'object'} {where}] {record.msg}"
        return super().format(record)


class QuietBookkeeping(logging.Filter):
    """Drops kopf's "... succeeded." lines that are not news to a user, and the bodies kopf dumps at DEBUG.

    A timer's tick (one per resource per interval) and handlers that only keep the operator's own books
    (named in ``handler_ids``) succeed all the time; their failures still show. kopf's "Creation is in
    progress: {body}" writes the whole resource into the log: a ResourcePatch of a Secret carries the
    Secret's new values in ``spec.patch``, which no log line may hold (docs/resourcepatch.md#secrets); the
    line keeps its words without the body.
    """

    def __init__(self, handler_ids: Collection[str] = ()) -> None:
        super().__init__()
        self.quiet = {f"Handler '{handler_id}' succeeded." for handler_id in handler_ids}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        if record.levelno == logging.DEBUG and " is in progress: " in message:
            record.msg, record.args = message.split(": ", 1)[0] + ".", ()
            return True
        return not ((message.startswith("Timer '") and message.endswith("succeeded.")) or message in self.quiet)


def quiet(handler_ids: Collection[str] = ()) -> None:
    """Install :class:`QuietBookkeeping` on kopf's per-resource logger (once; later calls add ids)."""
    objects = logging.getLogger("kopf.objects")
    for existing in objects.filters:
        if isinstance(existing, QuietBookkeeping):
            existing.quiet |= {f"Handler '{handler_id}' succeeded." for handler_id in handler_ids}
            return
    objects.addFilter(QuietBookkeeping(handler_ids))


class RetriedIsAWarning(logging.Filter):
    """kopf's "Request attempt N failed; will retry" to the Kubernetes API as a WARNING, not an ERROR.

    kopf logs every failed attempt of its API requests at ERROR, also the ones it retries: under load,
    the API server's priority and fairness answers 429 and kopf's retry succeeds (ERROR lines for
    resources that all got Ready). An error line is for what failed; the
    last attempt's ("...; escalating") stays an ERROR.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and isinstance(record.msg, str) \
                and record.msg.startswith("Request attempt") and "failed; will retry" in record.msg:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


def configure(*, log_format: str = "full", level: str = "info") -> None:
    """Set up the process's logging: kopf's handler with our formatter, at ``level``.

    Raises:
        ValueError: an unknown format or level (the CLI offers only the known ones).
    """
    import kopf  # here, not at the top: importing this module must not load kopf

    if log_format not in FORMATS or level not in LEVELS:
        raise ValueError(f"log format must be one of {FORMATS} and level one of {LEVELS}")
    kopf_format = kopf.LogFormat[log_format.upper()]
    kopf.configure(log_format=kopf_format, log_prefix=False)
    root = logging.getLogger()
    handler = root.handlers[-1]  # the one kopf just added
    if log_format != "json":
        handler.setFormatter(ResourceFormatter(kopf_format.value))
    handler.addFilter(RetriedIsAWarning())
    root.setLevel(level.upper())
    # One line per liveness probe and per admission request is not news; debug shows them.
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
