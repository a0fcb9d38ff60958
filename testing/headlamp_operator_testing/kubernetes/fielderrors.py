"""Field errors and the ``422 Invalid`` answer, rendered as kube-apiserver renders them.

kube-apiserver reports a refused custom resource as a ``Status`` with ``reason: Invalid``, one
``details.causes[]`` entry per field error and a message that joins them (in brackets when there is
more than one). The shapes here were taken from kube-apiserver v1.36's answers (the real-peer test
``tests/kit/kubernetes/test_crd_validation_differential_real.py`` keeps them in step), including Go's way of
printing values (``%q`` strings, ``%v`` numbers, ``null``).
"""
from __future__ import annotations

import dataclasses
import decimal
import json
import math
from collections.abc import Sequence
from typing import Any, Final

import kmock

Path = tuple[str | int, ...]


class _Omit:
    def __repr__(self) -> str:
        return 'OMIT'


OMIT: Final = _Omit()  # the value is not printed (kube's omitValue, and errors that never print one)

# error type -> (cause reason, how the message starts, whether the value is printed)
_TYPES: Final[dict[str, tuple[str, str, bool]]] = {
    'Invalid': ('FieldValueInvalid', 'Invalid value', True),
    'TypeInvalid': ('FieldValueTypeInvalid', 'Invalid value', True),
    'NotSupported': ('FieldValueNotSupported', 'Unsupported value', True),
    'Duplicate': ('FieldValueDuplicate', 'Duplicate value', True),
    'TooMany': ('FieldValueTooMany', 'Too many', True),
    'Required': ('FieldValueRequired', 'Required value', False),
    'TooLong': ('FieldValueTooLong', 'Too long', False),
    'Forbidden': ('FieldValueForbidden', 'Forbidden', False),
}
REASONS: Final[dict[str, str]] = {reason: name for name, (reason, _, _) in _TYPES.items()}
# Schema errors after which kube-apiserver does not evaluate the CEL rules (its hasBlockingErr).
BLOCKING: Final = frozenset({'TypeInvalid', 'NotSupported', 'Required', 'TooLong', 'TooMany'})
RULES_NOT_CHECKED: Final = ('some validation rules were not checked because the object was invalid; '
                            'correct the existing errors to complete validation')


def go_quote(text: str) -> str:
    """A string as Go's ``%q`` prints it (``strconv.Quote``)."""
    escapes = {'"': '\\"', '\\': '\\\\', '\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r',
               '\t': '\\t', '\v': '\\v'}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f'\\x{ord(char):02x}')
        elif ord(char) <= 0xFFFF:
            out.append(f'\\u{ord(char):04x}')
        else:
            out.append(f'\\U{ord(char):08x}')
    return '"' + ''.join(out) + '"'


def go_float(number: float) -> str:
    """A float64 as Go's ``%v`` prints it (``%g``, shortest digits): ``80.5``, ``65535``, ``1e+20``."""
    if math.isinf(number) or math.isnan(number):
        return 'NaN' if math.isnan(number) else ('+Inf' if number > 0 else '-Inf')
    if number == 0:
        return '-0' if math.copysign(1.0, number) < 0 else '0'
    sign, digit_tuple, exponent = decimal.Decimal(repr(number)).as_tuple()
    digits = ''.join(map(str, digit_tuple)).rstrip('0') or '0'
    point = len(digit_tuple) + int(exponent)  # digits before the decimal point
    power = point - 1
    text: str
    if power < -4 or power >= 6:  # Go: exponent form below 1e-4 and from 1e+06 on (shortest: precision 6)
        mantissa = digits[0] + ('.' + digits[1:] if len(digits) > 1 else '')
        text = f'{mantissa}e{"-" if power < 0 else "+"}{abs(power):02d}'
    elif point <= 0:
        text = '0.' + '0' * -point + digits
    elif point >= len(digits):
        text = digits + '0' * (point - len(digits))
    else:
        text = digits[:point] + '.' + digits[point:]
    return ('-' if sign else '') + text


def go_value(value: Any) -> str:
    """A value as kube's field errors print it: ``%q`` strings, bare numbers, ``null``, JSON for the rest."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    return json.dumps(value, separators=(',', ':'))


def render_path(path: Path | None) -> str:
    """A field path as kube prints it: ``spec.port``, ``status.conditions[0].type``; ``<nil>`` for none."""
    if path is None:
        return '<nil>'
    text = ''
    for part in path:
        text += f'[{part}]' if isinstance(part, int) else (f'.{part}' if text else part)
    return text


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One field error (``k8s.io/apimachinery/pkg/util/validation/field.Error``)."""

    type: str  # a key of _TYPES: Invalid, TypeInvalid, NotSupported, Required, TooLong, TooMany, ...
    path: Path | None  # None: kube's ``<nil>`` (errors not tied to a field)
    detail: str = ''
    value: Any = OMIT
    transition: bool = False  # from a CEL rule that compares with oldSelf (never ratcheted)

    @property
    def field(self) -> str:
        """The cause's ``field``."""
        return render_path(self.path)

    @property
    def reason(self) -> str:
        """The cause's ``reason`` (``FieldValueInvalid``...)."""
        return _TYPES[self.type][0]

    @property
    def message(self) -> str:
        """The cause's ``message``, e.g. ``Unsupported value: "x": supported values: "a", "b"``."""
        _, text, shows_value = _TYPES[self.type]
        if shows_value and self.value is not OMIT:
            text += f': {go_value(self.value)}'
        return text + (f': {self.detail}' if self.detail else '')


def rules_not_checked() -> FieldError:
    """The error kube-apiserver adds when a blocking schema error kept the CEL rules from running."""
    return FieldError('Invalid', None, RULES_NOT_CHECKED, None)


def invalid(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> kmock.KubernetesError:
    """The ``422 Invalid`` error for a refused object, with one cause per field error."""
    parts = [f'{error.field}: {error.message}' for error in errors]
    listed = parts[0] if len(parts) == 1 else '[' + ', '.join(parts) + ']'
    qualified = f'{kind}.{group}' if group else kind
    causes = [{'reason': e.reason, 'message': e.message, 'field': e.field} for e in errors]
    message = f'{qualified} {go_quote(name)} is invalid: {listed}'
    details = {'name': name, 'group': group, 'kind': kind, 'causes': causes}
    return kmock.KubernetesError(status=422, reason='Invalid', message=message, details=details)
