"""A CRD's CEL rules (``x-kubernetes-validations``) evaluated as kube-apiserver evaluates them.

The expressions run on cel-python (``celpy``), a maintained pure-Python CEL implementation; this
module adds what Kubernetes puts around CEL:

- a rule runs at its schema node with ``self`` bound to the value there; a transition rule (one that
  names ``oldSelf``) runs only on an update where the old object has a value at the same place
  (object fields by name, ``x-kubernetes-list-type: map`` items by their keys);
- a failed rule gives its ``message``, else its ``messageExpression``'s result, else
  ``failed rule: <rule>``; its ``reason`` and ``fieldPath`` when set; a rule that cannot be evaluated
  gives ``<error> evaluating rule: <message or rule>``, as cel-go words the error;
- ``duration()`` parses Go durations (``1h30m``, ``500ms``), as Kubernetes' CEL does (celpy's own
  accepts days, and words its errors differently).

What this does not do: cost estimation and budgets, ``optionalOldSelf``, Kubernetes' CEL library
extensions (``quantity()``, ``url()``, ``ip()``...): a rule using them fails to compile here, and
registering its CRD is refused.
"""
from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from headlamp_operator_testing.kubernetes.fielderrors import OMIT, REASONS, FieldError, Path
from headlamp_operator_testing.kubernetes.structural import Schema, type_name

_DURATION_PART: Final = re.compile(r'(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)')
_UNITS: Final = {'ns': 1e-9, 'us': 1e-6, 'µs': 1e-6, 'μs': 1e-6, 'ms': 1e-3, 's': 1.0, 'm': 60.0, 'h': 3600.0}
_NO_DURATION: Final = "type conversion error from 'string' to 'google.protobuf.Duration'"
_TRANSITION: Final = re.compile(r'\boldSelf\b')


def go_duration(text: str) -> datetime.timedelta | None:
    """A Go duration string (``time.ParseDuration``: ``1h30m``, ``-1.5s``, ``0``), or None if it is not one."""
    sign, rest = (-1, text[1:]) if text.startswith('-') else (1, text.removeprefix('+'))
    if rest == '0':
        return datetime.timedelta(0)
    parts = list(_DURATION_PART.finditer(rest))
    if not rest or ''.join(part.group(0) for part in parts) != rest:
        return None
    return datetime.timedelta(seconds=sign * sum(float(p.group(1)) * _UNITS[p.group(2)] for p in parts))


def _duration(value: Any) -> Any:
    if isinstance(value, celtypes.DurationType):
        return value
    if isinstance(value, celtypes.StringType) and (parsed := go_duration(str(value))) is not None:
        return celtypes.DurationType(parsed)
    return CELEvalError(_NO_DURATION)


_ENVIRONMENT: Final = celpy.Environment()


@functools.lru_cache(maxsize=1024)
def program(expression: str) -> celpy.Runner:
    """The compiled expression (cached: rules are compiled once per text); raises ValueError if it does not parse."""
    try:
        return _ENVIRONMENT.program(_ENVIRONMENT.compile(expression), functions={'duration': _duration})
    except CELParseError as e:
        raise ValueError(f'CEL expression {expression!r} does not compile: {e}') from e


def compile_rules(schema: Schema) -> None:
    """Compile every rule (and message expression) of a schema, raising ValueError for one that does not."""
    for rule in schema.get('x-kubernetes-validations') or ():
        program(str(rule['rule']))
        if rule.get('messageExpression'):
            program(str(rule['messageExpression']))
    for key in ('properties',):
        for sub in (schema.get(key) or {}).values():
            compile_rules(sub)
    for key in ('items', 'additionalProperties'):
        if isinstance(schema.get(key), Mapping):
            compile_rules(schema[key])


def _describe(error: Exception) -> str:
    """An evaluation error in cel-go's words where they differ."""
    text = str(error.args[0]) if error.args else str(error)
    if (missing := re.fullmatch(r"no such member in mapping: '(.*)'", text)) is not None:
        return f'no such key: {missing.group(1)}'
    return text


def _evaluate(expression: str, activation: dict[str, Any]) -> Any:
    result = program(expression).evaluate(activation)
    if isinstance(result, CELEvalError):
        raise result
    return result


def _run(rule: Mapping[str, Any], value: Any, old: tuple[bool, Any], path: Path) -> Iterator[FieldError]:
    expression = str(rule['rule'])
    transition = bool(_TRANSITION.search(expression))
    if transition and not old[0]:
        return  # a transition rule needs an old value: it is skipped on create and for new fields
    activation = {'self': json_to_cel(value)}
    if transition:
        activation['oldSelf'] = json_to_cel(old[1])
    message = rule.get('message') or ''
    try:
        passed = _evaluate(expression, activation)
    except Exception as e:  # CELEvalError, and celpy's own type errors
        detail = f'{_describe(e)} evaluating rule: {message or expression}'
        yield FieldError('Invalid', path, detail, type_name(value), transition)
        return
    if passed is True or (isinstance(passed, celtypes.BoolType) and bool(passed)):
        return
    if not message and rule.get('messageExpression'):
        try:
            message = str(_evaluate(str(rule['messageExpression']), activation))
        except Exception:  # noqa: S110  # a failing messageExpression falls back to the default message
            pass
    where = (*path, *[part for part in str(rule.get('fieldPath') or '').split('.') if part])
    shown = value if where == path and not isinstance(value, (dict, list)) else OMIT
    yield FieldError(REASONS.get(str(rule.get('reason') or ''), 'Invalid'), where,
                     message or f'failed rule: {expression.strip()}', shown, transition)


def check(schema: Schema, value: Any, old: tuple[bool, Any], path: Path = ()) -> list[FieldError]:
    """The errors of every rule under ``schema`` for ``value``; ``old`` is ``(True, old value)`` on an update."""
    return list(_walk(schema, value, old, path))


def _walk(schema: Schema, value: Any, old: tuple[bool, Any], path: Path) -> Iterator[FieldError]:
    # A rule without oldSelf on a value the update left as it was is not run: ratcheting would drop its
    # error anyway (kube-apiserver ratchets such rules; transition rules always run).
    unchanged = old[0] and old[1] == value
    for rule in schema.get('x-kubernetes-validations') or ():
        if not unchanged or _TRANSITION.search(str(rule['rule'])):
            yield from _run(rule, value, old, path)
    if isinstance(value, dict):
        properties = schema.get('properties') or {}
        additional = schema.get('additionalProperties')
        old_map = old[1] if old[0] and isinstance(old[1], dict) else {}
        for key, item in value.items():
            sub = properties.get(key) or (additional if isinstance(additional, Mapping) else None)
            if sub is not None:
                yield from _walk(sub, item, (key in old_map, old_map.get(key)), (*path, key))
    elif isinstance(value, list) and isinstance(schema.get('items'), Mapping):
        keys = list(schema.get('x-kubernetes-list-map-keys') or ())
        correlate = schema.get('x-kubernetes-list-type') == 'map' and old[0] and isinstance(old[1], list)
        for index, item in enumerate(value):
            previous: tuple[bool, Any] = (False, None)
            if correlate and isinstance(item, dict):
                identity = [item.get(key) for key in keys]
                matches = [o for o in old[1] if isinstance(o, dict) and [o.get(key) for key in keys] == identity]
                previous = (True, matches[0]) if matches else previous
            yield from _walk(schema['items'], item, previous, (*path, index))
