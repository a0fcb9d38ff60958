"""What kube-apiserver does to a custom resource between reading a write and storing it.

For every resource served from a registered CRD version with an ``openAPIV3Schema``:

- decoding (create, update, patch, the status subresource): numbers as the API server's JSON
  decoder reads them, unknown fields pruned, ``metadata`` reduced to ObjectMeta, nulls of
  non-nullable fields dropped, defaults applied (:mod:`.structural`);
- validation, after the status subresource rules have been applied: ``kind``, ``metadata.name`` on
  create, the schema (the whole object, or only ``status`` on ``/status``), then, unless a blocking
  schema error stopped it, the CEL rules with ``oldSelf`` on updates (:mod:`.cel`). On an update,
  errors in values the write did not change are dropped (CRD validation ratcheting, GA in
  Kubernetes 1.33), so an object stored under an older schema can still be written;
- a refusal is ``422 Invalid`` with kube-apiserver's message and causes (:mod:`.fielderrors`);
- reading: kube-apiserver defaults what it reads from etcd too, with the CRD's current schema, so an
  object stored before a CRD gained a default is served with that default, unwritten (:meth:`read`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Final

import kmock

from headlamp_operator_testing.kubernetes import cel, structural
from headlamp_operator_testing.kubernetes.fielderrors import BLOCKING, FieldError, invalid, rules_not_checked

Body = dict[str, Any]
_SUBDOMAIN: Final = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_SUBDOMAIN_MESSAGE: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


@dataclasses.dataclass(frozen=True)
class ServedVersion:
    """One served version of a CRD: its kind, group, structural schema and compiled CEL rules."""

    kind: str
    group: str
    schema: Mapping[str, Any]
    rules: cel.Validator  # compiled once, when the CRD is seen


def served_versions(crd: Mapping[str, Any]) -> list[tuple[kmock.resource, ServedVersion]]:
    """The served versions of a CRD manifest that have a schema (the per-version one, or the CRD-wide one)."""
    spec = crd.get('spec') or {}
    names, group = spec.get('names') or {}, spec.get('group') or ''
    found = []
    for version in spec.get('versions') or ():
        schema = ((version.get('schema') or spec.get('validation') or {}).get('openAPIV3Schema'))
        if version.get('served', True) and isinstance(schema, Mapping):
            found.append((kmock.resource(group, version['name'], names['plural']),
                          ServedVersion(kind=str(names['kind']), group=str(group), schema=schema,
                                        rules=cel.Validator(schema))))
    return found


def check_crd(crd: Mapping[str, Any]) -> None:
    """Raise ValueError if a CRD's schemas hold a CEL rule that does not compile (kube-apiserver refuses those)."""
    served_versions(crd)  # compiles every served version's rules


class CustomResourceAdmission:
    """Decodes and validates custom resources against the schemas of the CRDs it has been shown."""

    def __init__(self) -> None:
        self._versions: dict[kmock.resource, ServedVersion] = {}
        self._by_crd: dict[str, list[kmock.resource]] = {}

    def observe(self, name: str, crd: Mapping[str, Any] | None) -> None:
        """Take a CRD's current schemas (``crd=None``: it was deleted); an invalid one validates nothing."""
        for resource in self._by_crd.pop(name, []):
            self._versions.pop(resource, None)
        if crd is None:
            return
        try:
            versions = served_versions(crd)
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        self._versions.update(versions)
        self._by_crd[name] = [resource for resource, _ in versions]

    def decode(self, resource: kmock.resource, body: Body) -> Body:
        """The body as the API server reads it: pruned, nulls dropped, defaulted (unchanged for other resources)."""
        version = self._versions.get(resource)
        if version is None:
            return body
        decoded = structural.prune(version.schema, structural.normalize_numbers(body), root=True)
        return dict(structural.default(version.schema, decoded))

    def read(self, resource: kmock.resource, body: Body) -> Body:
        """A stored body as the API server reads it from etcd: with its schema's defaults (unchanged for
        other resources, and a new dict only when a default was missing)."""
        version = self._versions.get(resource)
        if version is None:
            return body
        defaulted = dict(structural.default(version.schema, body))
        return body if defaulted == body else defaulted

    def check_replace(self, resource: kmock.resource, name: str, body: Body) -> None:
        """A PUT of a custom resource must name the resourceVersion it replaces (no unconditional update)."""
        version = self._versions.get(resource)
        if version is not None and not (body.get('metadata') or {}).get('resourceVersion'):
            missing = FieldError('Invalid', ('metadata', 'resourceVersion'), 'must be specified for an update', 0)
            raise invalid(str(resource.plural), version.group, name, [missing])

    def validate(self, resource: kmock.resource, old: Body | None, new: Body, subresource: str | None) -> None:
        """Raise the API server's ``422 Invalid`` if ``new`` breaks the schema or a CEL rule (``old``: on updates)."""
        version = self._versions.get(resource)
        if version is None:
            return
        errors: list[FieldError] = []
        kind = str(new['kind']) if isinstance(new.get('kind'), str) else version.kind
        if kind != version.kind:
            errors.append(FieldError('Invalid', ('kind',), f'must be {version.kind}', kind))
        name = str((new.get('metadata') or {}).get('name') or '')
        if old is None and (len(name) > 253 or not _SUBDOMAIN.match(name)):
            errors.append(FieldError('Invalid', ('metadata', 'name'), _SUBDOMAIN_MESSAGE, name))
        content = {key: value for key, value in new.items() if key != 'metadata'}
        previous = {key: value for key, value in (old or {}).items() if key != 'metadata'}
        if subresource == 'status':
            status_schema = (version.schema.get('properties') or {}).get('status')
            if isinstance(status_schema, Mapping) and 'status' in new:
                errors += structural.validate(status_schema, new['status'], ('status',), offset=1)
        else:
            errors += structural.validate(version.schema, content)
        errors = _ratchet(errors, old, new)
        if any(error.type in BLOCKING for error in errors):
            errors.append(rules_not_checked())
        else:
            errors += _ratchet(version.rules.check(content, (old is not None, previous)), old, new)
        if errors:
            raise invalid(kind, version.group, name, errors)


def _ratchet(errors: list[FieldError], old: Body | None, new: Body) -> list[FieldError]:
    """On an update, drop the errors of values that the write left as they were (transition rules excepted);
    a missing required field counts as unchanged when the object that lacks it is unchanged."""
    if old is None:
        return errors
    return [error for error in errors if error.transition or error.path is None or not _unchanged(error, old, new)]


def _unchanged(error: FieldError, old: Body, new: Body) -> bool:
    assert error.path is not None
    path = error.path[:-1] if error.type == 'Required' else error.path
    before = structural.lookup(old, path)
    return before[0] and before == structural.lookup(new, path)
