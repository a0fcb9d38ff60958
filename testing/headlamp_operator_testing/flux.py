"""Flux's health of a custom resource from a Kustomization's ``healthCheckExprs``, decided as Flux decides it.

This mirrors ``StatusEvaluator.Evaluate`` of fluxcd/pkg ``runtime/cel/status_evaluator.go`` (Flux
RFC 0009), what kustomize-controller runs for a kind that ``spec.healthCheckExprs`` lists:

1. when the object has ``status.observedGeneration`` and it differs from ``metadata.generation``:
   InProgress, before any expression is evaluated;
2. then ``inProgress``, ``failed`` and ``current``, in that order, each when given: the first that is
   true decides (InProgress, Failed, Current);
3. none true: InProgress.

An expression that cannot be evaluated (a missing field, a result that is not a bool) makes the
status reader answer Unknown with the error (``errResourceToResourceStatus``, fluxcd/cli-utils
``pkg/kstatus/polling/statusreaders/common.go``), and Flux keeps waiting until its timeout: never
Current. :func:`health` answers ``Unknown`` there.

The expressions run on cel-python (``celpy``). Flux runs cel-go on the object's top-level fields as
variables, parsed but not type-checked (``NewExpression`` without ``WithCompile``). One difference
matters here and is closed: cel-go fails on a top-level field the object lacks, even inside
``has()`` (Flux's docs: "``has(status)`` errors if ``status`` does not (yet) exist"), where celpy's
``has()`` answers false; so an expression naming a top-level field (``apiVersion``, ``kind``,
``metadata``, ``spec``, ``status``) that the object lacks is an error here too. Not covered: the
extension libraries Flux adds (strings, sets, encoders) and optional types (``.?``), which celpy's
parser does not know: an expression using them fails to compile here, so a test using one fails.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Final, Literal

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

Health = Literal["InProgress", "Failed", "Current", "Unknown"]
TOP_LEVEL: Final = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_ENVIRONMENT: Final = celpy.Environment()


@dataclasses.dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """One entry of ``spec.healthCheckExprs``: its kind and its three expressions (``current`` required)."""

    api_version: str
    kind: str
    current: str
    failed: str = ""
    in_progress: str = ""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> HealthCheck:
        """An entry as a Kustomization holds it: ``apiVersion``, ``kind``, ``current``, ``failed``, ``inProgress``."""
        if not entry.get("current"):
            raise ValueError(f"a healthCheckExprs entry needs `current` (Flux refuses it otherwise): {entry}")
        return cls(api_version=str(entry["apiVersion"]), kind=str(entry.get("kind", "")),
                   current=str(entry["current"]), failed=str(entry.get("failed") or ""),
                   in_progress=str(entry.get("inProgress") or ""))


class EvaluationError(Exception):
    """An expression that could not be evaluated on an object (Flux: the reader's error, status Unknown)."""


@functools.lru_cache(maxsize=64)
def _compiled(expression: str) -> tuple[lark.Tree[Any], celpy.Runner]:
    """The parse tree and the program of an expression; raises ValueError if it does not parse (Flux refuses it)."""
    try:
        tree = _ENVIRONMENT.compile(expression)
    except CELParseError as e:
        raise ValueError(f"CEL expression {expression!r} does not parse: {e}") from e
    return tree, _ENVIRONMENT.program(tree)


def _named_top_level(expression: str) -> frozenset[str]:
    """The top-level object fields an expression names (the identifiers of its parse tree)."""
    tree, _ = _compiled(expression)
    return frozenset(str(node.children[0]) for node in tree.find_data("ident")) & TOP_LEVEL


def evaluate(expression: str, obj: Mapping[str, Any]) -> bool:
    """The expression's value on ``obj``, its top-level fields as variables; raises EvaluationError."""
    if missing := sorted(_named_top_level(expression) - set(obj)):
        raise EvaluationError(f"no such attribute(s): {', '.join(missing)}")  # cel-go's words
    try:
        result = _compiled(expression)[1].evaluate({key: json_to_cel(value) for key, value in obj.items()})
    except (CELEvalError, TypeError) as e:
        raise EvaluationError(f"failed to evaluate the CEL expression {expression!r}: {e}") from e
    if isinstance(result, CELEvalError):  # celpy returns some errors as values
        raise EvaluationError(f"failed to evaluate the CEL expression {expression!r}: {result}")
    if not isinstance(result, celtypes.BoolType):  # cel-go's EvaluateBoolean wants a types.Bool
        raise EvaluationError(f"failed to evaluate CEL expression as boolean: {expression!r}")
    return bool(result)


def _generation_differs(obj: Mapping[str, Any]) -> bool:
    """Flux's check before the expressions: ``status.observedGeneration`` present and not ``metadata.generation``."""
    status = obj.get("status")
    if not isinstance(status, Mapping) or "observedGeneration" not in status:
        return False
    observed = status["observedGeneration"]
    if not isinstance(observed, int) or isinstance(observed, bool):
        raise EvaluationError(f".status.observedGeneration accessor error: {observed!r} is not an int64")
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping) or "generation" not in metadata:
        return False
    return bool(metadata["generation"] != observed)


def health(obj: Mapping[str, Any], check: HealthCheck) -> Health:
    """Flux's status of ``obj`` under ``check``: InProgress, Failed, Current, or Unknown (an evaluation error)."""
    try:
        if _generation_differs(obj):
            return "InProgress"
        verdicts: list[tuple[str, Health]] = [
            (check.in_progress, "InProgress"), (check.failed, "Failed"), (check.current, "Current")]
        for expression, verdict in verdicts:
            if expression and evaluate(expression, obj):
                return verdict
    except EvaluationError:
        return "Unknown"
    return "InProgress"
