"""``metadata.managedFields``: which field manager last wrote which field, as kube-apiserver keeps it.

Every create, update and patch (``Update`` operations; server-side apply is not served) names a field manager:
the request's ``?fieldManager=``, else what kube-apiserver makes of its ``User-Agent`` (:func:`manager_of`).
The fields the write added or changed go to that manager and are taken from every other one; the fields it
removed are taken from all; a manager left with no field is dropped (structured-merge-diff's ``Update``).
An entry is keyed by manager, operation, apiVersion and subresource, and its ``time`` is that of the last write
that changed a field of it; entries are sorted as kube-apiserver sorts them.

Field sets are written as FieldsV1 (``{"f:data": {".": {}, "f:mode": {}}}``). One simplification: every list
is atomic (one field), as for a type the API server does not know; kube-apiserver tracks the items of some
built-in lists (containers by name, ...) one by one. The fields the server owns (name, uid, resourceVersion, ...)
belong to nobody, as kube-apiserver strips them.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

Body = dict[str, Any]
Path = tuple[str, ...]  # FieldsV1 keys from the root: ("f:metadata", "f:labels", "f:app")
MAX_MANAGER = 128  # kube-apiserver's FieldManagerMaxLength

# kube-apiserver's stripMetaManager: fields no manager ever owns.
_STRIPPED: frozenset[Path] = frozenset({('f:apiVersion',), ('f:kind',), ('f:metadata',)} | {
    ('f:metadata', f'f:{name}') for name in (
        'name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation',
        'managedFields', 'resourceVersion')})


def manager_of(user_agent: str) -> str:
    """The field manager kube-apiserver records for a write without ``?fieldManager=``: the agent up to
    its first ``/``, printable characters only, at most 128 bytes (its ``prefixFromUserAgent``)."""
    kept = ''
    for char in user_agent.split('/', 1)[0]:
        if not char.isprintable():
            continue
        if len((kept + char).encode()) > MAX_MANAGER:
            break
        kept += char
    return kept


def _walk(value: Any, path: Path, into: set[Path]) -> None:
    """Every field path in ``value`` below ``path`` (a map's keys recursively; a list is one field)."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            into.add((*path, f'f:{key}'))
            _walk(child, (*path, f'f:{key}'), into)


def compare(old: Any, new: Any, path: Path = ()) -> tuple[set[Path], set[Path]]:
    """(the paths ``new`` added or changed, the paths it removed), comparing maps key by key."""
    changed: set[Path] = set()
    removed: set[Path] = set()
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in old.keys() | new.keys():
            child = (*path, f'f:{key}')
            if key not in new:
                removed.add(child)
                _walk(old[key], child, removed)
            elif key not in old:
                changed.add(child)
                _walk(new[key], child, changed)
            else:
                more, fewer = compare(old[key], new[key], child)
                changed |= more
                removed |= fewer
    elif old != new and path:
        changed.add(path)
        _walk(new, path, changed)
        _walk(old, path, removed)
        removed -= changed
    return changed, removed


def encode(paths: Iterable[Path]) -> Body:
    """A set of field paths as FieldsV1: a member with children is marked ``".": {}``."""
    members = set(paths)
    root: Body = {}
    for path in sorted(members):
        node = root
        for depth, key in enumerate(path):
            node = node.setdefault(key, {})
            if (path[:depth + 1] in members) and depth + 1 < len(path):
                node.setdefault('.', {})
    return root


def decode(fields: Any, path: Path = ()) -> set[Path]:
    """The field paths of a FieldsV1 document (keys other than ``f:`` ones are kept as opaque path parts)."""
    found: set[Path] = set()
    if not isinstance(fields, Mapping):
        return found
    for key, child in fields.items():
        if key == '.':
            found.add(path)
        elif not child:
            found.add((*path, key))
        else:
            found |= decode(child, (*path, key))
    return found


def _content(body: Mapping[str, Any]) -> Body:
    """The object without its managedFields (what the comparison looks at)."""
    meta = {k: v for k, v in (body.get('metadata') or {}).items() if k != 'managedFields'}
    return {**body, 'metadata': meta}


def _entry_key(entry: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(entry.get('manager', '')), str(entry.get('operation', '')), str(entry.get('apiVersion', '')),
            str(entry.get('subresource', '')))


def _sort_key(entry: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    manager, operation, api_version, subresource = _entry_key(entry)
    return operation, str(entry.get('time', '')), manager, api_version, subresource


def update(old: Mapping[str, Any] | None, new: Body, *, manager: str, api_version: str,
           subresource: str | None = None, now: datetime.datetime | None = None) -> list[Body]:
    """The managedFields of ``new`` once ``manager`` has written it over ``old`` (None: a create).

    The entries to start from are those ``new`` carries (a client may send them), else those of ``old``.
    """
    base = (new.get('metadata') or {}).get('managedFields')
    if not isinstance(base, list) or not base:
        base = ((old or {}).get('metadata') or {}).get('managedFields') or []
    changed, removed = compare(_content(old or {}), _content(new))
    changed -= _STRIPPED
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime('%Y-%m-%dT%H:%M:%SZ')
    mine = {'manager': manager, 'operation': 'Update', 'apiVersion': api_version,
            **({'subresource': subresource} if subresource else {})}
    entries: dict[tuple[str, str, str, str], Body] = {}
    own: set[Path] = set()
    for entry in base:
        if not isinstance(entry, Mapping):
            continue
        fields = decode(entry.get('fieldsV1'))
        if _entry_key(entry) == _entry_key(mine):
            own = fields - removed
            entries[_entry_key(entry)] = dict(entry)
            continue
        kept = fields - changed - removed - _STRIPPED
        if kept:
            entries[_entry_key(entry)] = {**entry, 'fieldsType': 'FieldsV1', 'fieldsV1': encode(kept)}
    if changed:
        previous = entries.get(_entry_key(mine), {})
        entries[_entry_key(mine)] = {**previous, **mine, 'time': stamp, 'fieldsType': 'FieldsV1',
                                     'fieldsV1': encode(own | changed)}
    elif own:
        entries[_entry_key(mine)] = {**entries[_entry_key(mine)], 'fieldsV1': encode(own)}
    else:
        entries.pop(_entry_key(mine), None)
    return sorted(entries.values(), key=_sort_key)
