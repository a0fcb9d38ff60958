"""PATCH bodies as the Kubernetes API server takes them: RFC 7386, RFC 6902, strategic (as merge)."""
from __future__ import annotations

import copy
import json
from typing import Any

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
SUPPORTED = (JSON_PATCH, MERGE, STRATEGIC)


class PatchError(Exception):
    """A patch that cannot be taken: ``status`` is 400 (malformed), 415 (media type) or 422 (does not apply)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def apply_patch(content_type: str, target: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Apply a PATCH request's body to a copy of ``target`` according to its content type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in SUPPORTED:
        raise PatchError(415, "the body of the request was in an unknown format - accepted media types "
                              "include: " + ", ".join(SUPPORTED))
    try:
        patch = json.loads(body)
    except ValueError as exc:
        raise PatchError(400, f"error decoding patch: {exc}") from exc
    if media_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError(400, "json patch must be a JSON array of operations")
        result = json_patch(target, patch)
    else:
        if not isinstance(patch, dict):
            raise PatchError(400, "merge patch must be a JSON object")
        if media_type == STRATEGIC:
            patch = _strip_directives(patch)
        result = merge_patch(target, patch)
    if not isinstance(result, dict):
        raise PatchError(422, "the patched object is not a JSON object")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strip_directives(patch: Any) -> Any:
    if isinstance(patch, dict):
        return {k: _strip_directives(v) for k, v in patch.items() if not k.startswith("$")}
    return patch


def json_patch(target: Any, operations: list[Any]) -> Any:
    """RFC 6902: apply the operations in order to a copy; any failure leaves nothing applied."""
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise PatchError(422, f"invalid json patch operation: {json.dumps(operation)}")
        op, path = operation.get("op"), _pointer(operation["path"])
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(422, f"{op} operation has no value: {operation['path']}")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            doc, _ = _remove(doc, path)
        elif op == "replace":
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            if not isinstance(operation.get("from"), str):
                raise PatchError(422, f"{op} operation has no from: {operation['path']}")
            source = _pointer(operation["from"])
            if op == "move":
                doc, value = _remove(doc, source)
            else:
                value = copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value)
        elif op == "test":
            if not _equal(_get(doc, path), operation["value"]):
                raise PatchError(422, f"testing value {operation['path']} failed: test failed")
        else:
            raise PatchError(422, f"unexpected json patch operation: {op!r}")
    return doc


def _pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(422, f"invalid JSON pointer: {pointer!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _show(tokens: list[str]) -> str:
    return "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens) if tokens else ""


def _index(array: list[Any], token: str, tokens: list[str], *, end: bool) -> int:
    if end and token == "-":
        return len(array)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(422, f"doc is missing path: {_show(tokens)!r}: invalid array index {token!r}")
    index = int(token)
    if index > len(array) - (0 if end else 1):
        raise PatchError(422, f"doc is missing path: {_show(tokens)!r}: index out of range")
    return index


def _get(doc: Any, tokens: list[str]) -> Any:
    for position, token in enumerate(tokens):
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list):
            doc = doc[_index(doc, token, tokens[:position + 1], end=False)]
        else:
            raise PatchError(422, f"doc is missing path: {_show(tokens[:position + 1])!r}")
    return doc


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _get(doc, tokens[:-1])
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], tokens, end=True), value)
    else:
        raise PatchError(422, f"doc is missing path: {_show(tokens)!r}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> tuple[Any, Any]:
    if not tokens:
        return None, doc
    parent = _get(doc, tokens[:-1])
    if isinstance(parent, dict) and tokens[-1] in parent:
        return doc, parent.pop(tokens[-1])
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, tokens[-1], tokens, end=False))
    raise PatchError(422, f"doc is missing path: {_show(tokens)!r}")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)
