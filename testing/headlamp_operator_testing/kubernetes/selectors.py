"""Label and field selectors as the API server filters lists and watches with them."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, Any]], bool]

_SET_REQUIREMENT = re.compile(r'^\s*(?P<key>[^\s!=]+)\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)\s*$')
_EQUALITY_REQUIREMENT = re.compile(r'^\s*(?P<key>[^\s!=]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s,]*)\s*$')
_EXISTENCE_REQUIREMENT = re.compile(r'^\s*(?P<neg>!?)\s*(?P<key>[^\s!=(),]+)\s*$')


class SelectorError(ValueError):
    """A selector the emulator cannot parse (HTTP 400 in the API server)."""


def _split(selector: str) -> list[str]:
    """Split on the commas that are outside of ``in (a, b)`` value sets."""
    parts, depth, current = [], 0, ''
    for char in selector:
        depth += (char == '(') - (char == ')')
        if char == ',' and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _requirement(text: str, lookup: Callable[[Mapping[str, Any], str], str | None]) -> Matcher:
    if match := _SET_REQUIREMENT.match(text):
        key, values = match['key'], {value.strip() for value in match['values'].split(',')}
        if match['op'] == 'in':
            return lambda obj: lookup(obj, key) in values
        return lambda obj: lookup(obj, key) not in values
    if match := _EQUALITY_REQUIREMENT.match(text):
        key, value = match['key'], match['value']
        if match['op'] == '!=':
            return lambda obj: lookup(obj, key) != value
        return lambda obj: lookup(obj, key) == value
    if match := _EXISTENCE_REQUIREMENT.match(text):
        key, negated = match['key'], bool(match['neg'])
        return lambda obj: (lookup(obj, key) is None) == negated
    raise SelectorError(f"unable to parse requirement: {text!r}")


def _label(obj: Mapping[str, Any], key: str) -> str | None:
    value = (obj.get('metadata') or {}).get('labels', {}).get(key)
    return None if value is None else str(value)


def _field(obj: Mapping[str, Any], key: str) -> str | None:
    value: Any = obj
    for part in key.split('.'):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return None if value is None else str(value)


def parse_selectors(label_selector: str | None, field_selector: str | None) -> Matcher:
    """Build one predicate from the ``labelSelector`` and ``fieldSelector`` query parameters."""
    matchers = [_requirement(part, _label) for part in _split(label_selector or '')]
    matchers += [_requirement(part, _field) for part in _split(field_selector or '')]
    return lambda obj: all(matcher(obj) for matcher in matchers)
