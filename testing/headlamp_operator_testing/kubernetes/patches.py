"""The three PATCH formats of the Kubernetes API, as pure functions over JSON-like values.

- ``application/merge-patch+json``: RFC 7386 (``null`` deletes a key, lists are replaced);
- ``application/json-patch+json``: RFC 6902 (add/remove/replace/move/copy/test);
- ``application/strategic-merge-patch+json``: the merge patch plus the list-merge rules that the
  built-in kinds use (merge keys, ``$patch`` and ``$deleteFromPrimitiveList`` directives).
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

MERGE_PATCH = 'application/merge-patch+json'
JSON_PATCH = 'application/json-patch+json'
STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json'

# Lists of objects that built-in kinds merge by a key instead of replacing (a practical subset).
STRATEGIC_MERGE_KEYS: Mapping[str, str] = {
    'containers': 'name', 'initContainers': 'name', 'ephemeralContainers': 'name',
    'volumes': 'name', 'env': 'name', 'volumeMounts': 'mountPath', 'ports': 'containerPort',
    'imagePullSecrets': 'name', 'conditions': 'type', 'ownerReferences': 'uid',
}
# Lists of scalars that built-in kinds merge as sets (``metadata.finalizers`` in every kind).
STRATEGIC_PRIMITIVE_SETS: frozenset[str] = frozenset({'finalizers'})


class PatchError(ValueError):
    """A patch that cannot be applied to the object (HTTP 422 in the API server)."""


class PatchTestFailed(PatchError):
    """An RFC 6902 ``test`` operation did not match (kopf relies on it for optimistic locking)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch; returns a new value and never mutates the inputs."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch with the list rules of the built-in kinds (a practical subset)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    directive = patch.get('$patch')
    if directive == 'replace':
        return {key: copy.deepcopy(val) for key, val in patch.items() if not key.startswith('$')}
    if directive == 'delete':
        return None
    result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if key.startswith('$deleteFromPrimitiveList/'):
            field = key.split('/', 1)[1]
            result[field] = [item for item in result.get(field) or [] if item not in value]
    for key, value in patch.items():
        if key.startswith('$'):
            continue  # directives: handled above, or ordering hints ($setElementOrder, $retainKeys)
        old = result.get(key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(old, list) and key in STRATEGIC_MERGE_KEYS:
            result[key] = _merge_keyed_lists(old, value, STRATEGIC_MERGE_KEYS[key])
        elif isinstance(value, list) and isinstance(old, list) and key in STRATEGIC_PRIMITIVE_SETS:
            result[key] = old + [item for item in value if item not in old]
        else:
            merged = strategic_merge_patch(old, value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def _merge_keyed_lists(old: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    result = list(old)
    for item in patch:
        if not isinstance(item, Mapping) or merge_key not in item:
            return copy.deepcopy(patch)  # not a keyed list after all: replace it as a whole
        index = next((i for i, existing in enumerate(result)
                      if isinstance(existing, Mapping) and existing.get(merge_key) == item[merge_key]), None)
        if item.get('$patch') == 'delete':
            if index is not None:
                del result[index]
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """Apply an RFC 6902 JSON patch to a deep copy of the target; raises `PatchError` on failures."""
    if not isinstance(operations, Sequence) or isinstance(operations, (str, bytes)):
        raise PatchError("a JSON patch must be a list of operations")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, Mapping) or 'op' not in operation or 'path' not in operation:
            raise PatchError(f"malformed JSON patch operation: {operation!r}")
        document = _apply_operation(document, operation)
    return document


def _apply_operation(document: Any, operation: Mapping[str, Any]) -> Any:
    op, path = operation['op'], _parse_pointer(operation['path'])
    if op == 'test':
        if _get(document, path) != operation.get('value'):
            raise PatchTestFailed(f"test failed at {operation['path']!r}")
        return document
    if op in ('add', 'replace') and 'value' not in operation:
        raise PatchError(f"{op!r} needs a value")
    if op == 'add':
        return _add(document, path, copy.deepcopy(operation['value']))
    if op == 'remove':
        return _remove(document, path)[0]
    if op == 'replace':
        _get(document, path)  # must exist
        return _add(_remove(document, path)[0], path, copy.deepcopy(operation['value']))
    if op in ('move', 'copy'):
        source = _parse_pointer(operation.get('from', ''))
        if op == 'move':
            if path[:len(source)] == source and path != source:
                raise PatchError("cannot move a value into one of its own children")
            document, value = _remove(document, source)
        else:
            value = copy.deepcopy(_get(document, source))
        return _add(document, path, value)
    raise PatchError(f"unknown JSON patch operation: {op!r}")


def _parse_pointer(pointer: str) -> list[str]:
    if pointer == '':
        return []
    if not pointer.startswith('/'):
        raise PatchError(f"malformed JSON pointer: {pointer!r}")
    return [part.replace('~1', '/').replace('~0', '~') for part in pointer[1:].split('/')]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if token == '-' and adding:
        return len(container)
    if not token.isdigit() or (token != '0' and token.startswith('0')):
        raise PatchError(f"bad list index: {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchError(f"list index out of range: {index}")
    return index


def _get(document: Any, path: list[str]) -> Any:
    for token in path:
        if isinstance(document, dict) and token in document:
            document = document[token]
        elif isinstance(document, list):
            document = document[_index(document, token, adding=False)]
        else:
            raise PatchError(f"path not found: /{'/'.join(path)}")
    return document


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1])
    if isinstance(parent, dict):
        parent[path[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, path[-1], adding=True), value)
    else:
        raise PatchError(f"cannot add into a scalar at /{'/'.join(path)}")
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        raise PatchError("cannot remove the whole document")
    parent = _get(document, path[:-1])
    if isinstance(parent, dict) and path[-1] in parent:
        return document, parent.pop(path[-1])
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, path[-1], adding=False))
    raise PatchError(f"path not found: /{'/'.join(path)}")
