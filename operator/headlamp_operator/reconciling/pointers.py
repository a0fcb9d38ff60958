"""The paths a ResourcePatch touches in its target, their bounded preview and their guarded undo, as pure functions.

Paths are JSON Pointers (RFC 6901) into the target object, such as ``/spec/replicas``. ``touched`` says which paths
a patch (merge, strategic or json) writes, each as a whole: a list is always touched as a whole, because the three
patch types replace or reorder lists in ways that an index cannot follow. ``preview`` renders the values before and
after at those paths for ``status.preview`` (docs/resourcepatch.md#preview) within ``PREVIEW_LIMIT`` bytes, with a
Secret's values redacted. ``record`` keeps, per path, the value before the first apply and a digest of the value the
patch set; ``plan`` turns that record into RFC 6902 operations that put back the prior values only where nobody has
changed them since (docs/resourcepatch.md#undo), each guarded by a ``test`` of the value it replaces.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final


class _Absent:
    """The type of `ABSENT`: a value missing from a document (not JSON ``null``, which is a value)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
VALUE_LIMIT = 256  # bytes (UTF-8): the most a preview shows of one value; a longer value is cut and digested
PREVIEW_LIMIT = 8192  # bytes (UTF-8): the whole status.preview as compact JSON stays within this
REDACTED_PREFIXES = ("/data", "/stringData")  # a Secret's values: never shown, only their size and digest
_BAD_ESCAPE = re.compile(r"~(?![01])")
_INDEX = re.compile(r"^(?:[0-9]+|-)$")  # a token that a json patch may mean as a list index
_LIST_DIRECTIVES = ("$setElementOrder/", "$deleteFromPrimitiveList/")  # strategic: they rewrite the named list
_WHOLE_DIRECTIVES = ("$patch", "$retainKeys")  # strategic: may replace, delete or prune the object that holds them


class PreviewTooLarge(ValueError):
    """A preview over its limit even with every value longer than its digest shown as the digest: too many (or
    too long) paths. ``size`` and ``limit`` in bytes of compact JSON."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the preview takes {size} bytes as JSON even with every long value shown as its digest, "
                         f"over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


def escape(token: str) -> str:
    """One reference token as it appears in a pointer (RFC 6901): ``~`` becomes ``~0``, ``/`` becomes ``~1``."""
    return token.replace("~", "~0").replace("/", "~1")


def tokens(pointer: str) -> list[str]:
    """The unescaped reference tokens of a pointer: ``""`` (the whole document) is ``[]``, ``/a~1b/c`` is
    ``["a/b", "c"]``. ValueError for a pointer that is neither ``""`` nor starts with ``/``, or has a ``~`` not
    followed by ``0`` or ``1``."""
    if not _valid(pointer):
        raise ValueError(f"{pointer!r} is not a JSON pointer (RFC 6901) such as /spec/replicas")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")] if pointer else []


def _valid(pointer: str) -> bool:
    return pointer == "" or (pointer.startswith("/") and not _BAD_ESCAPE.search(pointer))


def join(parts: Sequence[str]) -> str:
    """The pointer of some unescaped tokens: the inverse of `tokens`."""
    return "".join("/" + escape(part) for part in parts)


def _index(container: list[Any], token: str) -> int | None:
    if not token.isdigit() or (token != "0" and token.startswith("0")) or int(token) >= len(container):
        return None
    return int(token)


def get(document: Any, pointer: str) -> Any:
    """The value at a pointer, or `ABSENT` where there is none: a missing key, a token that is no valid index of a
    list (``-`` included), or a token below a scalar. ValueError for a malformed pointer (see `tokens`)."""
    value = document
    for token in tokens(pointer):
        if isinstance(value, Mapping) and token in value:
            value = value[token]
        elif isinstance(value, list) and (index := _index(value, token)) is not None:
            value = value[index]
        else:
            return ABSENT
    return value


def text(value: Any) -> str:
    """A value as compact JSON with sorted keys: the form records keep and digests hash, equal for equal values."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def digest(value: Any) -> str:
    """``sha256:`` and the hex SHA-256 of the UTF-8 of `text`: names a value without showing it."""
    return "sha256:" + hashlib.sha256(text(value).encode()).hexdigest()


def _outermost(parts: Iterable[Sequence[str]]) -> list[str]:
    """The pointers of some token lists, deduplicated, without any that has an ancestor among them, sorted."""
    kept: set[tuple[str, ...]] = set()
    for path in sorted({tuple(p) for p in parts}, key=len):  # ancestors first
        if not any(path[:depth] in kept for depth in range(len(path))):
            kept.add(path)
    return sorted(join(path) for path in kept)


def _object_paths(patch: Mapping[str, Any], *, strategic: bool) -> list[list[str]]:
    """The leaves of a merge or strategic patch: a key whose value is a non-empty object is descended into; any
    other value (scalar, list, null, ``{}``) writes that key as a whole."""
    found: list[list[str]] = []
    stack: list[tuple[list[str], Mapping[str, Any]]] = [([], patch)]
    while stack:
        prefix, node = stack.pop()
        if strategic and any(key in node for key in _WHOLE_DIRECTIVES):
            found.append(prefix)  # $patch: replace/delete, $retainKeys: keys not listed go
            continue
        for key, value in node.items():
            key = str(key)
            if strategic and key.startswith("$"):
                # $setElementOrder/x reorders list x, $deleteFromPrimitiveList/x takes items out of it
                found += [[*prefix, key.split("/", 1)[1]] for p in _LIST_DIRECTIVES if key.startswith(p)]
            elif isinstance(value, Mapping) and value:
                stack.append(([*prefix, key], value))
            else:
                found.append([*prefix, key])
    return found


def _json_paths(patch: list[Any]) -> list[list[str]] | None:
    """The paths of a json patch's operations, each cut before its first list index; None if one is malformed."""
    found: list[list[str]] = []
    for operation in patch:
        if not isinstance(operation, Mapping) or operation.get("op") not in ("add", "remove", "replace", "move",
                                                                              "copy", "test"):
            return None
        if operation["op"] == "test":
            continue
        for field in ("path", "from") if operation["op"] == "move" else ("path",):
            pointer = operation.get(field)
            if not isinstance(pointer, str) or not _valid(pointer):
                return None
            parts = tokens(pointer)
            cut = next((depth for depth, part in enumerate(parts) if _INDEX.match(part)), len(parts))
            found.append(parts[:cut])
    return found


def touched(patch: Any, patch_type: str, *, secret: bool = False) -> list[str]:
    """The pointers a patch of ``patch_type`` (``merge``, ``strategic``, ``json``) touches, sorted, with no
    duplicates and no pointer whose ancestor is also there.

    Merge and strategic: the leaves of the patch object; strategic directives name what they rewrite (the object
    holding ``$patch`` or ``$retainKeys`` as a whole, the list ``x`` of ``$setElementOrder/x`` and
    ``$deleteFromPrimitiveList/x``). Json: each operation's ``path`` (and a ``move``'s ``from``; ``test`` touches
    nothing), cut before a token that reads as a list index (digits or ``-``): the list as a whole. With ``secret``
    (the target is a v1 Secret) ``/stringData/...`` is ``/data/...``: the API server stores stringData into data.
    A patch that validation refuses (not an object, not a list of operations, an unknown type) touches ``[]``.
    """
    paths: list[list[str]] | None = None
    if patch_type in ("merge", "strategic") and isinstance(patch, Mapping):
        paths = _object_paths(patch, strategic=patch_type == "strategic")
    elif patch_type == "json" and isinstance(patch, list):
        paths = _json_paths(patch)
    if secret:
        paths = [["data", *path[1:]] if path[:1] == ["stringData"] else path for path in paths or []]
    return _outermost(paths or [])


def normalise(pointers: Sequence[str], document: Any) -> list[str]:
    """`touched` made exact for one object, ``document`` (the target before the patch): each pointer is cut where
    ``document`` holds a list (touched as a whole) or a non-object (a merge replaces it as a whole) on its way;
    where a key is missing the pointer stays. Returns them sorted, deduplicated, without descendants of others.
    A ``document`` that is not an object (None: the target was not read) cuts nothing."""
    if not isinstance(document, Mapping):
        return _outermost(map(tokens, pointers))
    cut: list[list[str]] = []
    for pointer in pointers:
        parts, value = tokens(pointer), document
        for depth, part in enumerate(parts):
            if part not in value:
                break
            value = value[part]
            if not isinstance(value, Mapping):  # a list, a scalar or null: touched as a whole
                parts = parts[:depth + 1]
                break
        cut.append(parts)
    return _outermost(cut)


def secret_kind(api_version: Any, kind: Any) -> bool:
    """Whether a target is a core v1 Secret, whose ``data`` is never shown (docs/resourcepatch.md#secrets)."""
    return bool(api_version == "v1" and kind == "Secret")


def redacted(pointer: str, *, secret: bool) -> bool:
    """Whether a Secret's preview must hide the value at a pointer: at or under ``/data`` or ``/stringData``, or an
    ancestor of them (the whole object). Always False when the target is not a Secret (``secret`` false)."""
    if not secret:
        return False
    parts = tokens(pointer)
    return any(parts[:len(prefix)] == prefix or prefix[:len(parts)] == parts
               for prefix in map(tokens, REDACTED_PREFIXES))


def _sized(value: Any, label: str = "") -> str:
    data = text(value).encode()
    return f"[{label}{len(data)} bytes, sha256:{hashlib.sha256(data).hexdigest()}]"


def shown(value: Any, *, redact: bool) -> str:
    """How a preview shows one value (never `ABSENT`: the caller leaves that side out).

    Redacted: ``[redacted: N bytes, sha256:HEX]``, N the bytes of its `text`. Else its `text` if at most
    `VALUE_LIMIT` bytes; else the longest prefix of it (whole characters) that leaves room for
    ``… [N bytes, sha256:HEX]`` within `VALUE_LIMIT` bytes, and that suffix.
    """
    if redact:
        return _sized(value, "redacted: ")
    full = text(value)
    if len(data := full.encode()) <= VALUE_LIMIT:
        return full
    suffix = "… " + _sized(value)
    return data[:VALUE_LIMIT - len(suffix.encode())].decode(errors="ignore") + suffix


def _bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def preview(pointers: Sequence[str], before: Any, after: Any, *, secret: bool) -> list[dict[str, str]]:
    """``status.preview``: per pointer, in order, ``{"path", "before"?, "after"?}`` with values as `shown` (a side
    is left out where the value is `ABSENT`), ``before`` and ``after`` being the target without and with the patch.

    Its compact JSON takes at most `PREVIEW_LIMIT` bytes: over it, the longest sides are shown as
    ``[N bytes, sha256:HEX]`` until it fits. PreviewTooLarge if it does not fit even so.
    """
    entries: list[dict[str, str]] = []
    long: list[tuple[int, str, Any]] = []  # (entry, side, value) of the sides that a digest would shorten
    for pointer in pointers:
        entry = {"path": pointer}
        redact = redacted(pointer, secret=secret)
        for side, document in (("before", before), ("after", after)):
            if (value := get(document, pointer)) is not ABSENT:
                entry[side] = shown(value, redact=redact)
                if not redact and _bytes(entry[side]) > _bytes(_sized(value)):
                    long.append((len(entries), side, value))
        entries.append(entry)
    size = _bytes(entries)
    long.sort(key=lambda item: -_bytes(entries[item[0]][item[1]]))
    for index, side, value in long:
        if size <= PREVIEW_LIMIT:
            break
        old = _bytes(entries[index][side])
        entries[index][side] = _sized(value)
        size += _bytes(entries[index][side]) - old
    if size > PREVIEW_LIMIT:
        raise PreviewTooLarge(size, PREVIEW_LIMIT)
    return entries


def min_preview_bytes(pointers: Sequence[str]) -> int:
    """The bytes of the compact JSON of the smallest preview these pointers can have: their paths alone, as where
    a path is absent both before and after. A value adds to it, and a value shorter than its digest is shown as it
    is, so no bound on the values holds for every object. Validation refuses a dryRun patch over `PREVIEW_LIMIT`."""
    return _bytes([{"path": pointer} for pointer in pointers])


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """What the undo of one path needs: the value before the first apply and a digest of what the patch set."""

    path: str
    before: str | None  # `text` of the value before the first apply; None: the path was absent
    applied: str | None  # `digest` of the value the patch set (read from the PATCH answer); None: it left it absent


def record(pointers: Sequence[str], before: Any, after: Any) -> list[Entry]:
    """The undo record of a patch: ``before`` is the target read before the first apply, ``after`` the answer of
    the PATCH (the target as the patch left it)."""
    entries = []
    for pointer in pointers:
        prior, applied = get(before, pointer), get(after, pointer)
        entries.append(Entry(path=pointer, before=None if prior is ABSENT else text(prior),
                             applied=None if applied is ABSENT else digest(applied)))
    return entries


def entries_to_status(entries: Sequence[Entry]) -> list[dict[str, str]]:
    """A record as the status keeps it: ``{"path", "before"?, "applied"?}``, a key left out where it is None."""
    return [{"path": e.path, **({} if e.before is None else {"before": e.before}),
             **({} if e.applied is None else {"applied": e.applied})} for e in entries]


def _entry(item: Any) -> Entry | None:
    if not isinstance(item, Mapping) or not isinstance(path := item.get("path"), str) or not _valid(path):
        return None
    before, applied = item.get("before"), item.get("applied")
    if not all(value is None or isinstance(value, str) for value in (before, applied)):
        return None
    try:
        json.loads(before) if before is not None else None
    except ValueError:  # only the record's own JSON text can be restored
        return None
    return Entry(path=path, before=before, applied=applied)


def entries_from_status(items: Any) -> list[Entry]:
    """A record read back from the status: the inverse of `entries_to_status`. An item that is not an object, has
    no string path or a malformed one, or a ``before`` that is not JSON text, is skipped (the status is writable by
    anybody who can write the resource): its path is left as it is rather than set to a guess."""
    entries = [_entry(item) for item in items] if isinstance(items, list) else []
    return [entry for entry in entries if entry is not None]


def record_bytes(entries: Sequence[Entry]) -> int:
    """The UTF-8 bytes of the compact JSON of `entries_to_status`: what the record takes in the status."""
    return _bytes(entries_to_status(entries))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """The undo of a record against the target as it is now."""

    operations: list[dict[str, Any]]  # RFC 6902 operations for one application/json-patch+json PATCH; [] for none
    restored: list[str]  # pointers the operations put back to their prior value
    unchanged: list[str]  # pointers already at their prior value: nothing to do
    conflicts: list[str]  # pointers changed by somebody since the patch set them: left as they are


def plan(entries: Sequence[Entry], current: Any) -> Plan:
    """The undo of a record (`record`) against ``current``, the target as it is now, in the record's order.

    A path already at its prior value is unchanged. A path whose value is no longer what the patch set (its digest
    differs), or whose prior value would go back under an object that is gone, is a conflict: somebody else owns it
    now. Otherwise it is restored: ``test`` the current value then ``replace`` it (or ``remove`` it, where it was
    absent before), or ``add`` it where the patch removed it (RFC 6902 has no test for absence). The ``test``
    operations fail the whole PATCH if the target changes between reading ``current`` and sending it.
    """
    operations: list[dict[str, Any]] = []
    restored: list[str] = []
    unchanged: list[str] = []
    conflicts: list[str] = []
    for entry in entries:
        now = get(current, entry.path)
        if (now is ABSENT and entry.before is None) or (now is not ABSENT and text(now) == entry.before):
            unchanged.append(entry.path)
        elif (None if now is ABSENT else digest(now)) != entry.applied:
            conflicts.append(entry.path)
        elif entry.before is None:
            operations += [{"op": "test", "path": entry.path, "value": now}, {"op": "remove", "path": entry.path}]
            restored.append(entry.path)
        elif now is not ABSENT:
            operations += [{"op": "test", "path": entry.path, "value": now},
                           {"op": "replace", "path": entry.path, "value": json.loads(entry.before)}]
            restored.append(entry.path)
        elif entry.path and isinstance(get(current, join(tokens(entry.path)[:-1])), Mapping):
            operations.append({"op": "add", "path": entry.path, "value": json.loads(entry.before)})
            restored.append(entry.path)
        else:
            conflicts.append(entry.path)
    return Plan(operations=operations, restored=restored, unchanged=unchanged, conflicts=conflicts)
