"""Log lines name the kind, namespace and name; bookkeeping stays quiet; JSON keeps kopf's object field."""
from __future__ import annotations

import io
import json
import logging

import kopf
import pytest

from headlamp_operator import logs

REF = {"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "PortForward", "namespace": "team-a", "name": "web",
       "uid": "u-1"}


def record(message: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("kopf.objects", level, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_a_text_line_about_a_resource_starts_with_its_kind_namespace_and_name() -> None:
    formatter = logs.ResourceFormatter(kopf.LogFormat.PLAIN.value)
    assert formatter.format(record("Handler 'reconcile' succeeded.", k8s_ref=REF)) == \
        "[PortForward team-a/web] Handler 'reconcile' succeeded."
    assert formatter.format(record("Operator started.")) == "Operator started."


def test_bookkeeping_successes_are_dropped_and_failures_kept() -> None:
    quiet = logs.QuietBookkeeping(["forget-portforwards"])
    assert not quiet.filter(record("Handler 'forget-portforwards' succeeded."))
    assert not quiet.filter(record("Timer 'sync' succeeded."))
    assert quiet.filter(record("Handler 'reconcile' succeeded."))
    assert quiet.filter(record("Handler 'forget-portforwards' failed with an exception.", logging.ERROR))


@pytest.mark.parametrize(("log_format", "level"), [("json", "info"), ("full", "warning")])
def test_configure_sets_the_format_and_the_level(log_format: str, level: str) -> None:
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, root_level, access_level = root.handlers[:], root.level, access.level
    try:
        logs.configure(log_format=log_format, level=level)
        handler = root.handlers[-1]
        assert root.level == logging.getLevelName(level.upper())
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        handler.handle(record("Handler 'reconcile' failed.", logging.ERROR, k8s_ref=REF))
        line = stream.getvalue().strip()
        if log_format == "json":
            parsed = json.loads(line)
            assert parsed["message"] == "Handler 'reconcile' failed."  # no prefix: the object field says it
            assert parsed["object"] == REF and parsed["severity"] == "error"
        else:
            assert "[ERROR   ] [PortForward team-a/web] Handler 'reconcile' failed." in line
        assert logging.getLogger("aiohttp.access").level == logging.WARNING
        stream.seek(0)
        stream.truncate()
        attempt = "Request attempt #1/9 failed; {}: PATCH https://k8s/x/status -> APITooManyRequestsError(429)"
        handler.handle(record(attempt.format("will retry"), logging.ERROR, k8s_ref=REF))  # retried: a warning
        handler.handle(record(attempt.format("escalating"), logging.ERROR, k8s_ref=REF))  # the last: an error
        handler.handle(record("A warning.", logging.WARNING))
        retried, escalated, warning = stream.getvalue().strip().splitlines()
        if log_format == "json":  # (kopf's JSON writes a warning's severity as "warn")
            severities = [json.loads(line)["severity"] for line in (retried, escalated, warning)]
            assert severities[0] == severities[2] and severities[1] == "error"
        else:
            assert "[WARNING ]" in retried and "[ERROR   ]" in escalated
    finally:
        root.handlers[:] = handlers
        root.setLevel(root_level)
        access.setLevel(access_level)
