"""A CRD's structural schema applied to a custom resource, as kube-apiserver applies it.

Three steps, in the API server's order:

- :func:`prune` drops every field the schema does not know (silently, not an error), except under
  ``x-kubernetes-preserve-unknown-fields: true``; ``metadata`` keeps only ObjectMeta's fields;
- :func:`default` drops ``null`` values of non-nullable fields, then fills in ``default:`` values
  (recursively, so a defaulted object gets its own fields' defaults);
- :func:`validate` checks types (``x-kubernetes-int-or-string`` too), formats, ``enum``, numeric
  bounds, string lengths and patterns, ``required``, item and property counts, and the uniqueness of
  ``x-kubernetes-list-type: set/map`` lists, with kube-openapi's messages.

Generic over any schema: nothing here knows this project's kinds.
"""
from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from headlamp_operator_testing.kubernetes.fielderrors import (
    FieldError,
    Path,
    go_float,
    go_quote,
    go_value,
    render_path,
)

Schema = Mapping[str, Any]
INT64: Final = (-(2 ** 63), 2 ** 63 - 1)
INT32: Final = (-(2 ** 31), 2 ** 31 - 1)
OBJECT_META: Final = frozenset({
    'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation',
    'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations',
    'ownerReferences', 'finalizers', 'managedFields'})
_DATE_TIME: Final = re.compile(r'^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')
_UUID: Final = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$')


def type_name(value: Any) -> str:
    """The OpenAPI type of a JSON value, as kube's messages name it."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    if isinstance(value, str):
        return 'string'
    return 'array' if isinstance(value, list) else 'object'


def normalize_numbers(value: Any) -> Any:
    """Integral floats become integers (``80.0`` is ``80``), as the API server's JSON decoding makes them."""
    if isinstance(value, float) and value.is_integer() and INT64[0] <= value <= INT64[1]:
        return int(value)
    if isinstance(value, dict):
        return {key: normalize_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize_numbers(item) for item in value]
    return value


def _child(schema: Schema | None, key: str) -> Schema | None:
    """The schema of an object's field: its property, or ``additionalProperties``; None if unknown."""
    if schema is None:
        return None
    properties = schema.get('properties') or {}
    if key in properties:
        return properties[key]  # type: ignore[no-any-return]
    additional = schema.get('additionalProperties')
    return additional if isinstance(additional, Mapping) else None


def _keeps_unknown(schema: Schema) -> bool:
    return schema.get('x-kubernetes-preserve-unknown-fields') is True or schema.get('additionalProperties') is True


def prune(schema: Schema, value: Any, *, root: bool = False) -> Any:
    """``value`` without the fields that ``schema`` does not declare (a new value; the input is kept)."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            sub = _child(schema, key)
            if root and key == 'metadata' and isinstance(item, dict):
                result[key] = {k: v for k, v in item.items() if k in OBJECT_META}
            elif root and key in ('apiVersion', 'kind'):
                result[key] = item
            elif sub is not None:
                result[key] = prune(sub, item)
            elif _keeps_unknown(schema):
                result[key] = copy.deepcopy(item)
        return result
    if isinstance(value, list) and isinstance(schema.get('items'), Mapping):
        return [prune(schema['items'], item) for item in value]
    return copy.deepcopy(value)


def default(schema: Schema, value: Any) -> Any:
    """``value`` with non-nullable nulls dropped and the schema's defaults filled in (a new value)."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            sub = _child(schema, key)
            if sub is None:
                result[key] = item
            elif item is not None or sub.get('nullable') is True:
                result[key] = default(sub, item)
        for key, sub in (schema.get('properties') or {}).items():
            if key not in result and 'default' in sub:
                result[key] = default(sub, copy.deepcopy(sub['default']))
        return result
    if isinstance(value, list) and isinstance(schema.get('items'), Mapping):
        return [default(schema['items'], item) for item in value]
    return value


def _number(limit: Any) -> str:
    return go_float(limit) if isinstance(limit, float) else str(limit)


def _format_ok(form: str, value: str) -> bool:
    if form == 'date-time':
        return bool(_DATE_TIME.match(value))
    if form == 'date':
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if form == 'uuid':
        return bool(_UUID.match(value))
    return True  # other formats: not checked here


def validate(schema: Schema, value: Any, path: Path = (), *, offset: int = 0) -> list[FieldError]:
    """The schema errors of ``value`` at ``path``. Messages name the path without its first ``offset``
    parts (kube-apiserver validates ``/status`` writes against the status schema alone)."""
    return list(_node(schema, value, path, offset))


def _node(schema: Schema, value: Any, path: Path, offset: int) -> Iterator[FieldError]:
    where = render_path(path[offset:]) if len(path) > offset else ''
    yield from _type(schema, value, path, where)
    if 'enum' in schema and not any(type(value) is type(e) and value == e for e in schema['enum']):
        supported = ', '.join(go_value(e) for e in schema['enum'])
        yield FieldError('NotSupported', path, f'supported values: {supported}', value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield from _numeric(schema, value, path, where)
    elif isinstance(value, str):
        yield from _string(schema, value, path, where)
    elif isinstance(value, dict):
        yield from _object(schema, value, path, where, offset)
    elif isinstance(value, list):
        yield from _array(schema, value, path, where, offset)


def _type(schema: Schema, value: Any, path: Path, where: str) -> Iterator[FieldError]:
    actual = type_name(value)
    if value is None and schema.get('nullable') is True:
        return
    if schema.get('x-kubernetes-int-or-string') is True:
        if actual not in ('integer', 'string'):
            yield FieldError('TypeInvalid', path, f'{where} in body must be of type integer,string: "{actual}"', actual)
        return
    expected = schema.get('type')
    if expected and actual != expected and not (expected == 'number' and actual == 'integer'):
        yield FieldError('TypeInvalid', path, f'{where} in body must be of type {expected}: "{actual}"', actual)
    form = schema.get('format')
    if expected == 'integer' and actual == 'number':
        how = f'with format {form}' if form else '(default format)'
        yield FieldError('Invalid', None, f'Checked value must be of type integer {how} in {where}', '')
    elif expected == 'integer' and actual == 'integer' and form in ('int32', 'int64'):
        low, high = INT32 if form == 'int32' else INT64
        if not low <= value <= high:
            detail = f'Checked value must be of type integer with format {form} in {where}'
            yield FieldError('Invalid', None, detail, '')
    elif actual == 'string' and isinstance(form, str) and not _format_ok(form, value):
        yield FieldError('TypeInvalid', path, f'{where} in body must be of type {form}: {go_quote(value)}', value)


def _numeric(schema: Schema, value: float, path: Path, where: str) -> Iterator[FieldError]:
    if (high := schema.get('maximum')) is not None:
        if schema.get('exclusiveMaximum') is True and value >= high:
            yield FieldError('Invalid', path, f'{where} in body should be less than {_number(high)}', value)
        elif value > high:
            yield FieldError('Invalid', path, f'{where} in body should be less than or equal to {_number(high)}', value)
    if (low := schema.get('minimum')) is not None:
        if schema.get('exclusiveMinimum') is True and value <= low:
            yield FieldError('Invalid', path, f'{where} in body should be greater than {_number(low)}', value)
        elif value < low:
            yield FieldError('Invalid', path, f'{where} in body should be greater than or equal to {_number(low)}',
                             value)
    if (factor := schema.get('multipleOf')) and (value / factor) != int(value / factor):
        yield FieldError('Invalid', path, f'{where} in body should be a multiple of {_number(factor)}', value)


def _string(schema: Schema, value: str, path: Path, where: str) -> Iterator[FieldError]:
    """maxLength, minLength, pattern: only the first that fails is reported (kube-openapi stops there)."""
    if (longest := schema.get('maxLength')) is not None and len(value) > longest:
        yield FieldError('TooLong', path, f'may not be more than {longest} {"byte" if longest == 1 else "bytes"}')
    elif (shortest := schema.get('minLength')) is not None and len(value) < shortest:
        yield FieldError('Invalid', path, f'{where} in body should be at least {shortest} chars long', value)
    elif (pattern := schema.get('pattern')) is not None and not re.search(pattern, value):
        yield FieldError('Invalid', path, f"{where} in body should match '{pattern}'", value)


def _too_many(path: Path, count: int, most: int) -> FieldError:
    return FieldError('TooMany', path, f'must have at most {most} {"item" if most == 1 else "items"}', count)


def _object(schema: Schema, value: dict[str, Any], path: Path, where: str, offset: int) -> Iterator[FieldError]:
    for key in schema.get('required') or ():
        if key not in value:
            yield FieldError('Required', (*path, key))
    if (most := schema.get('maxProperties')) is not None and len(value) > most:
        yield _too_many(path, len(value), most)
    if (least := schema.get('minProperties')) is not None and len(value) < least:
        yield FieldError('Invalid', path, f'{where} in body should have at least {least} properties', len(value))
    for key, item in value.items():
        sub = _child(schema, key)
        if sub is not None:
            yield from _node(sub, item, (*path, key), offset)


def _array(schema: Schema, value: list[Any], path: Path, where: str, offset: int) -> Iterator[FieldError]:
    if (most := schema.get('maxItems')) is not None and len(value) > most:
        yield _too_many(path, len(value), most)
    if (least := schema.get('minItems')) is not None and len(value) < least:
        yield FieldError('Invalid', path, f'{where} in body should have at least {least} items', len(value))
    items = schema.get('items')
    for index, item in enumerate(value):
        if isinstance(items, Mapping):
            yield from _node(items, item, (*path, index), offset)
    yield from _duplicates(schema, value, path)


def _duplicates(schema: Schema, value: list[Any], path: Path) -> Iterator[FieldError]:
    """``x-kubernetes-list-type``: a set has no repeated item, a map no repeated key (kube's listtype check)."""
    list_type = schema.get('x-kubernetes-list-type')
    keys = list(schema.get('x-kubernetes-list-map-keys') or ())
    seen: list[Any] = []
    for index, item in enumerate(value):
        if list_type == 'set':
            identity = item
        elif list_type == 'map' and isinstance(item, dict):
            identity = {key: item[key] for key in keys if key in item}
        else:
            continue
        if identity in seen:
            yield FieldError('Duplicate', (*path, index), value=identity)
        else:
            seen.append(identity)


def lookup(body: Any, path: Path) -> tuple[bool, Any]:
    """``(True, value)`` at ``path`` in ``body``, or ``(False, None)`` when there is nothing there."""
    for part in path:
        if isinstance(part, int) and isinstance(body, list) and 0 <= part < len(body):
            body = body[part]
        elif isinstance(part, str) and isinstance(body, dict) and part in body:
            body = body[part]
        else:
            return False, None
    return True, body
