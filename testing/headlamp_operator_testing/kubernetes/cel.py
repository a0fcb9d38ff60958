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

On an update, rules are not run where their result cannot matter, as kube-apiserver's CRD
validation ratcheting (``CRDValidationRatcheting``, on by default since 1.30, GA in 1.33) decides it:
in ``staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go``, the error of
a rule without ``oldSelf`` becomes a warning when its node, or its nearest correlatable ancestor, is
deep-equal to the value at the same place in the old object (``addErr``: ``!compiled.UsesOldSelf &&
correlation.shouldRatchetError()``). So such a rule is skipped on an unchanged value, and so is every
rule without ``oldSelf`` below it. A transition rule's error is never ratcheted there, so transition
rules still run on unchanged values (``self != oldSelf`` fails exactly when nothing changed).

Evaluating is costly (celpy interprets the parse tree), and a burst of writes runs the same rules on
the same few values again and again (an immutable field's ``self == oldSelf`` on every status
write). So :class:`Validator` compiles a schema's rules once, walks only the subtrees that hold
rules, converts a value to CEL once for all the rules of its node, and remembers each rule's outcome
for the values (``self``, and ``oldSelf`` for a transition rule) it has seen: a rule is a pure function
of them (Kubernetes' CEL environment has no clock and no randomness), so the answer is the same.

What this does not do: cost estimation and budgets, ``optionalOldSelf``, Kubernetes' CEL library
extensions (``quantity()``, ``url()``, ``ip()``...): a rule using them fails to compile here, and
registering its CRD is refused.
"""
from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Hashable, Iterator, Mapping
from typing import Any, Final

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, Evaluator

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
_REMEMBERED: Final = 512  # outcomes kept per rule (the oldest go first)


class Program:
    """A compiled expression, evaluated many times.

    celpy's runner builds a fresh base activation (the environment's annotations, the functions) for
    every evaluation; this builds it once. Each evaluation still gets its own activation: celpy's
    evaluator clones the base one before binding the variables, so evaluations never share state.
    """

    def __init__(self, runner: celpy.Runner) -> None:
        self._ast = runner.ast
        self._base = runner.new_activation()

    def evaluate(self, variables: dict[str, Any]) -> Any:
        """The expression's value for these variables; raises celpy's CELEvalError (or a TypeError) if it fails."""
        result = Evaluator(ast=self._ast, activation=self._base).evaluate(variables)
        if isinstance(result, CELEvalError):
            raise result
        return result


@functools.lru_cache(maxsize=1024)
def program(expression: str) -> Program:
    """The compiled expression (cached: rules are compiled once per text); raises ValueError if it does not parse."""
    try:
        return Program(_ENVIRONMENT.program(_ENVIRONMENT.compile(expression), functions={'duration': _duration}))
    except CELParseError as e:
        raise ValueError(f'CEL expression {expression!r} does not compile: {e}') from e


def _describe(error: Exception) -> str:
    """An evaluation error in cel-go's words where they differ."""
    text = str(error.args[0]) if error.args else str(error)
    if (missing := re.fullmatch(r"no such member in mapping: '(.*)'", text)) is not None:
        return f'no such key: {missing.group(1)}'
    return text


def _frozen(value: Any) -> Hashable:
    """A hashable image of a JSON value that tells apart what CEL tells apart (``1``, ``1.0``, ``true``;
    key order, which ``all()`` and ``string()`` see)."""
    if isinstance(value, dict):
        return dict, tuple((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list):
        return list, tuple(_frozen(item) for item in value)
    if isinstance(value, float):
        return float, repr(value)  # -0.0 == 0.0, but they print differently
    return type(value), value


# A rule's outcome for one value: None (it holds), or (True, detail) for an evaluation error, or
# (False, message) for a rule that evaluated to false.
_Outcome = tuple[bool, str] | None


class _Value:
    """A value at a rule's node, converted to CEL once for all the rules of the node (on their first need)."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._cel: Any = None
        self._key: Hashable | None = None

    @property
    def cel(self) -> Any:
        if self._cel is None:
            self._cel = json_to_cel(self.value)
        return self._cel

    @property
    def key(self) -> Hashable:
        if self._key is None:
            self._key = _frozen(self.value)
        return self._key


class _Rule:
    """One ``x-kubernetes-validations`` entry, compiled, with the outcomes it has had."""

    def __init__(self, rule: Mapping[str, Any]) -> None:
        self.expression = str(rule['rule'])
        self.program = program(self.expression)
        self.message = str(rule.get('message') or '')
        expression = str(rule.get('messageExpression') or '')
        self.message_program = program(expression) if expression else None
        self.transition = bool(_TRANSITION.search(self.expression))
        self.field_path: Path = tuple(part for part in str(rule.get('fieldPath') or '').split('.') if part)
        self.reason = REASONS.get(str(rule.get('reason') or ''), 'Invalid')
        self._outcomes: dict[Hashable, _Outcome] = {}

    def outcome(self, value: _Value, old: _Value | None) -> _Outcome:
        """Whether the rule holds for ``self`` (and ``oldSelf`` for a transition rule), remembered."""
        try:
            key = (value.key, old.key if old is not None else None)
            if key in self._outcomes:
                return self._outcomes[key]
        except TypeError:  # not a JSON value (something unhashable): evaluate it every time
            return self._evaluate(value, old)
        result = self._outcomes[key] = self._evaluate(value, old)
        if len(self._outcomes) > _REMEMBERED:
            del self._outcomes[next(iter(self._outcomes))]
        return result

    def _evaluate(self, value: _Value, old: _Value | None) -> _Outcome:
        variables = {'self': value.cel} if old is None else {'self': value.cel, 'oldSelf': old.cel}
        try:
            passed = self.program.evaluate(variables)
        except Exception as e:  # CELEvalError, and celpy's own type errors
            return True, f'{_describe(e)} evaluating rule: {self.message or self.expression}'
        if passed is True or (isinstance(passed, celtypes.BoolType) and bool(passed)):
            return None
        message = self.message
        if not message and self.message_program is not None:
            try:
                message = str(self.message_program.evaluate(variables))
            except Exception:  # noqa: S110  # a failing messageExpression falls back to the default message
                pass
        return False, message or f'failed rule: {self.expression.strip()}'

    def errors(self, value: _Value, old: _Value | None, path: Path) -> Iterator[FieldError]:
        """The rule's error at ``path`` (none if it holds)."""
        outcome = self.outcome(value, old)
        if outcome is None:
            return
        failed, detail = outcome
        if failed:
            yield FieldError('Invalid', path, detail, type_name(value.value), self.transition)
            return
        where = (*path, *self.field_path)
        shown = value.value if where == path and not isinstance(value.value, (dict, list)) else OMIT
        yield FieldError(self.reason, where, detail, shown, self.transition)


class Validator:
    """The CEL rules of a schema, compiled once; only the parts of the schema that hold rules are kept."""

    def __init__(self, schema: Schema) -> None:
        """Compile the rules of ``schema`` and below; raises ValueError for one that does not compile."""
        self.rules = tuple(_Rule(rule) for rule in schema.get('x-kubernetes-validations') or ())
        # A property with a (non-empty) schema of its own: its validator, None if it holds no rules.
        self.properties: dict[str, Validator | None] = {
            key: _below(sub) for key, sub in (schema.get('properties') or {}).items() if sub}
        additional, items = schema.get('additionalProperties'), schema.get('items')
        self.additional = _below(additional) if isinstance(additional, Mapping) else None
        self.items = _below(items) if isinstance(items, Mapping) else None
        self.map_keys = (tuple(schema.get('x-kubernetes-list-map-keys') or ())
                         if schema.get('x-kubernetes-list-type') == 'map' else None)
        below = [v for v in (*self.properties.values(), self.additional, self.items) if v is not None]
        self.empty: bool = not self.rules and not below
        self.transitions: bool = any(rule.transition for rule in self.rules) or any(v.transitions for v in below)

    def check(self, value: Any, old: tuple[bool, Any], path: Path = ()) -> list[FieldError]:
        """The errors of every rule for ``value``; ``old`` is ``(True, old value)`` on an update."""
        errors: list[FieldError] = []
        self._walk(value, old, False, path, errors)
        return errors

    def _walk(self, value: Any, old: tuple[bool, Any], unchanged: bool, path: Path,
              errors: list[FieldError]) -> None:
        # unchanged: the value is the old one (here, or at an ancestor): rules without oldSelf are not
        # run (ratcheting would drop their errors), and with no transition rules below, nothing is.
        unchanged = unchanged or (old[0] and (old[1] is value or old[1] == value))
        if unchanged and not self.transitions:
            return
        if self.rules:
            current, previous = _Value(value), _Value(old[1]) if old[0] else None
            for rule in self.rules:
                if rule.transition and previous is not None:
                    errors.extend(rule.errors(current, previous, path))
                elif not rule.transition and not unchanged:
                    errors.extend(rule.errors(current, None, path))
        if isinstance(value, dict):
            old_map = old[1] if old[0] and isinstance(old[1], dict) else {}
            for key, item in value.items():
                sub = self.properties[key] if key in self.properties else self.additional
                if sub is not None:
                    sub._walk(item, (key in old_map, old_map.get(key)), unchanged, (*path, key), errors)
        elif isinstance(value, list) and self.items is not None:
            correlate = self.map_keys is not None and old[0] and isinstance(old[1], list)
            for index, item in enumerate(value):
                previous_item: tuple[bool, Any] = (False, None)
                if correlate and isinstance(item, dict):
                    keys = self.map_keys or ()
                    identity = [item.get(key) for key in keys]
                    matches = [o for o in old[1] if isinstance(o, dict) and [o.get(key) for key in keys] == identity]
                    previous_item = (True, matches[0]) if matches else previous_item
                self.items._walk(item, previous_item, unchanged, (*path, index), errors)


def _below(schema: Schema) -> Validator | None:
    validator = Validator(schema)
    return None if validator.empty else validator
