"""A recorded transcript of a real headlamp-server: its file, its placeholders, and how two answers compare.

``tests/kit/headlamp/transcripts/headlamp-{release}.json`` is written by ``python -m tests.harness.realpeers.record``
(a real control plane and the real binary) and replayed by ``tests/kit/headlamp/test_transcript.py`` against
the Headlamp emulator. The file is::

    {"format": 1,
     "recorded": {...},                 # when, which binary (its -version), the peers' versions
     "seed": {...},                     # the objects and tokens both sides start from
     "known_differences": [...],        # kept by hand: {"exchanges": [globs], "paths": [globs], "why": "..."}
     "steps": [...]}                    # in order: exchanges and actions

An exchange is ``{"name", "server": "plain"|"guarded", "request", "answer"}`` (plus ``"poll": {"within": s}``
when the recorder repeated the request until the server's state settled, and ``"unordered": true`` for the
port-forward list, whose order is a Go map's). A request is ``{"method", "path", "query", "headers": [[name,
value], ...]}`` with ``"json"`` (a document, sent as ``json.dumps`` of it) or ``"body"`` (text). An answer is
``{"status", "content_type", "set_cookie": [{"name", "value", "attributes"}], "x_reload"}`` with ``"json"``
(a JSON body) or ``"text"``. An action (``{"action": "hold_port"|"delete_pod", ...}``) is something the
recorder did to the world between two exchanges, which the replay does to its own.

What changes from run to run is a placeholder ``{{kind:name}}`` in any string:

- bound by the first answer that holds it (``id``: an id the server made; ``port``: a local port; ``uid``),
  then filled into later requests and required equal in later answers; one first met in a request (a
  port the client picks) gets a fresh value of the replay's own;
- given before the replay starts, from the file's ``seed`` (``token``, ``pod``, ``kubeconfig``);
- wildcards, never bound (``rv``: a resourceVersion; ``time``: a timestamp; ``server``: the API server's URL;
  ``workdir``: the recorder's work folder).
"""
from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

FORMAT = 1
PLACEHOLDER = re.compile(r"\{\{([a-z]+)(?::([A-Za-z0-9_.-]+))?\}\}")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
BOUND = {"id": UUID, "uid": UUID, "port": r"[0-9]{1,5}"}  # bound by the first answer that holds them
GIVEN = ("token", "pod", "kubeconfig")  # bound from the file's ``seed`` before the first step
WILDCARDS = {"rv": r"[0-9]+", "time": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
             "server": r"https://[^\s\"/]+", "workdir": r"/[^\s\"]*?"}
MISSING = "<absent>"


def placeholder(kind: str, name: str | None = None) -> str:
    """``{{kind:name}}`` (``{{kind}}`` for a wildcard)."""
    return f"{{{{{kind}:{name}}}}}" if name is not None else f"{{{{{kind}}}}}"


class Bindings:
    """The values the placeholders stand for in one replay (or one recording)."""

    def __init__(self, given: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(given or {})

    def fill(self, text: str, *, make: Callable[[str], str] | None = None) -> str:
        """``text`` with every placeholder replaced by its value; an unbound one gets ``make(kind)``.

        Raises:
            KeyError: a placeholder is unbound and there is no ``make`` (or it is a wildcard).
        """
        def one(match: re.Match[str]) -> str:
            key, kind = match.group(0), match.group(1)
            if key not in self.values:
                if make is None or kind in WILDCARDS:
                    raise KeyError(f"{key} is not bound")
                self.values[key] = make(kind)
            return self.values[key]
        return PLACEHOLDER.sub(one, text)

    def fill_known(self, value: Any) -> Any:
        """A JSON value with the bound placeholders of its strings filled, the others left as they are."""
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [self.fill_known(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill_known(v) for k, v in value.items()}
        return value

    def fill_document(self, value: Any, *, make: Callable[[str], str] | None = None) -> Any:
        """A JSON value with every placeholder of its strings filled (see :meth:`fill`)."""
        if isinstance(value, str):
            return self.fill(value, make=make)
        if isinstance(value, list):
            return [self.fill_document(v, make=make) for v in value]
        if isinstance(value, dict):
            return {k: self.fill_document(v, make=make) for k, v in value.items()}
        return value

    def match(self, expected: str, actual: str) -> bool:
        """Whether ``actual`` is ``expected`` with its placeholders filled; binds the unbound ones if so."""
        if PLACEHOLDER.search(expected) is None:
            return expected == actual
        pattern, at = "", 0
        groups: dict[str, str] = {}  # regex group -> placeholder
        for found in PLACEHOLDER.finditer(expected):
            pattern += re.escape(expected[at:found.start()])
            at = found.end()
            key, kind = found.group(0), found.group(1)
            if key in self.values:
                pattern += re.escape(self.values[key])
            elif kind in WILDCARDS:
                pattern += f"(?:{WILDCARDS[kind]})"
            elif key in groups.values():
                pattern += f"(?P=g{list(groups.values()).index(key)})"
            else:
                pattern += f"(?P<g{len(groups)}>{BOUND.get(kind, '.+?')})"
                groups[f"g{len(groups)}"] = key
        pattern += re.escape(expected[at:])
        matched = re.fullmatch(pattern, actual, re.DOTALL)
        if matched is None:
            return False
        for group, key in groups.items():
            self.values[key] = matched.group(group)
        return True


@dataclasses.dataclass(frozen=True)
class Difference:
    """One place where the replayed answer is not the recorded one: ``path`` is ``status``, ``content_type``,
    ``x_reload``, ``set_cookie/{i}/{name|value|attribute}`` or ``body[/{key or index}...]``."""

    path: str
    recorded: Any
    replayed: Any

    def __str__(self) -> str:
        return f"{self.path}: recorded {self.recorded!r}, emulator {self.replayed!r}"


# -- answers ------------------------------------------------------------------------------------------------

def parse_set_cookie(header: str) -> dict[str, Any]:
    """``name=value; Path=/x; Max-Age=0; HttpOnly`` as ``{"name", "value", "attributes": {"Path": "/x",
    "Max-Age": "0", "HttpOnly": true}}`` (attribute names as sent)."""
    first, *rest = header.split(";")
    name, _, value = first.strip().partition("=")
    attributes: dict[str, Any] = {}
    for part in rest:
        key, sep, val = part.strip().partition("=")
        if key:
            attributes[key] = val if sep else True
    return {"name": name, "value": value, "attributes": attributes}


def answer_of(status: int, content_type: str | None, set_cookies: list[str], x_reload: str | None,
              body: bytes) -> dict[str, Any]:
    """The answer record of an HTTP answer: a JSON body as ``json`` (when its type says JSON), else ``text``."""
    answer: dict[str, Any] = {"status": status, "content_type": content_type,
                              "set_cookie": [parse_set_cookie(h) for h in set_cookies], "x_reload": x_reload}
    text = body.decode("utf-8", errors="replace")
    if content_type is not None and "json" in content_type and text.strip():
        try:
            answer["json"] = json.loads(text)
            return answer
        except ValueError:
            pass
    answer["text"] = text
    return answer


def request_body(request: Mapping[str, Any], bindings: Bindings, *,
                 make: Callable[[str], str] | None = None) -> bytes | None:
    """The bytes a recorded request sends, placeholders filled (None: no body)."""
    if "json" in request:
        return json.dumps(bindings.fill_document(request["json"], make=make)).encode()
    if "body" in request:
        return bindings.fill(request["body"], make=make).encode()
    return None


def _entry_key(entry: Any) -> str:
    return f"{entry.get('cluster')}/{entry.get('id')}" if isinstance(entry, dict) else json.dumps(entry)


def _compare_entries(want: list[Any], have: list[Any], bindings: Bindings, out: list[Difference]) -> None:
    """A list whose order means nothing: entries paired by cluster and id (the recorded id, once filled),
    each difference under ``body/{cluster}/{recorded id}``."""
    replayed = {_entry_key(entry): entry for entry in have}
    seen: set[str] = set()
    for entry in want:
        key, path = _entry_key(bindings.fill_known(entry)), f"body/{_entry_key(entry)}"
        if key not in replayed:
            out.append(Difference(path, entry, MISSING))
            continue
        seen.add(key)
        _compare_json(entry, replayed[key], bindings, path, out)
    out.extend(Difference(f"body/{key}", MISSING, entry) for key, entry in replayed.items() if key not in seen)


def compare(recorded: Mapping[str, Any], replayed: Mapping[str, Any], bindings: Bindings, *,
            unordered: bool = False) -> list[Difference]:
    """Every difference between a recorded and a replayed answer; binds what the recorded one leaves open.

    ``unordered``: the body is a list whose order means nothing (entries are matched by cluster and id).
    """
    out: list[Difference] = []
    for key in ("status", "content_type", "x_reload"):
        if recorded.get(key) != replayed.get(key):
            out.append(Difference(key, recorded.get(key), replayed.get(key)))
    cookies, got = recorded.get("set_cookie", []), replayed.get("set_cookie", [])
    if len(cookies) != len(got):
        out.append(Difference("set_cookie", [c["name"] + "; " + _attrs(c) for c in cookies],
                              [c["name"] + "; " + _attrs(c) for c in got]))
    else:
        for i, (want, have) in enumerate(zip(cookies, got, strict=True)):
            for part in ("name", "value"):
                if not bindings.match(want[part], have[part]):
                    out.append(Difference(f"set_cookie/{i}/{part}", want[part], have[part]))
            for attr in sorted(set(want["attributes"]) | set(have["attributes"])):
                a, b = want["attributes"].get(attr, MISSING), have["attributes"].get(attr, MISSING)
                if a != b:
                    out.append(Difference(f"set_cookie/{i}/{attr}", a, b))
    if "json" in recorded and "json" in replayed:
        if unordered and isinstance(recorded["json"], list) and isinstance(replayed["json"], list):
            _compare_entries(recorded["json"], replayed["json"], bindings, out)
        else:
            _compare_json(recorded["json"], replayed["json"], bindings, "body", out)
    elif "text" in recorded and "text" in replayed:
        if not bindings.match(recorded["text"], replayed["text"]):
            out.append(Difference("body", recorded["text"], replayed["text"]))
    else:
        out.append(Difference("body", recorded.get("json", recorded.get("text")),
                              replayed.get("json", replayed.get("text"))))
    return out


def _attrs(cookie: Mapping[str, Any]) -> str:
    return "; ".join(k if v is True else f"{k}={v}" for k, v in cookie["attributes"].items())


def _compare_json(want: Any, have: Any, bindings: Bindings, path: str, out: list[Difference]) -> None:
    if isinstance(want, dict) and isinstance(have, dict):
        for key in want:
            if key not in have:
                out.append(Difference(f"{path}/{key}", want[key], MISSING))
            else:
                _compare_json(want[key], have[key], bindings, f"{path}/{key}", out)
        out.extend(Difference(f"{path}/{key}", MISSING, have[key]) for key in have if key not in want)
    elif isinstance(want, list) and isinstance(have, list):
        for i, (a, b) in enumerate(zip(want, have, strict=False)):
            _compare_json(a, b, bindings, f"{path}/{i}", out)
        out.extend(Difference(f"{path}/{i}", want[i], MISSING) for i in range(len(have), len(want)))
        out.extend(Difference(f"{path}/{i}", MISSING, have[i]) for i in range(len(want), len(have)))
    elif isinstance(want, str) and isinstance(have, str):
        if not bindings.match(want, have):
            out.append(Difference(path, want, have))
    elif type(want) is not type(have) or want != have:
        out.append(Difference(path, want, have))


# -- known differences --------------------------------------------------------------------------------------

def covering(known: list[Mapping[str, Any]], exchange: str, difference: Difference) -> int | None:
    """The index of the first known difference that covers this one (its exchange and path globs match)."""
    for index, entry in enumerate(known):
        if any(fnmatch.fnmatchcase(exchange, glob) for glob in entry["exchanges"]) and any(
                fnmatch.fnmatchcase(difference.path, glob) for glob in entry["paths"]):
            return index
    return None
