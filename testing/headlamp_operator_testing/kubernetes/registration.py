"""Discovery information: the built-in resources and the resources that a CRD manifest declares.

The built-ins are what the operator's own API needs (namespaces, Secrets, ConfigMaps, Events, Leases, CRDs)
and what a cluster behind Headlamp needs (Pods, Services, Deployments, and the SelfSubjectAccessReview of
Headlamp's port-forward permission check).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import kmock

CRDS = kmock.resource('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')
VERBS = frozenset({'create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'})
SELF_SUBJECT_ACCESS_REVIEWS = kmock.resource('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews')

# (group, version, plural, kind, singular, namespaced, short names, subresources)
BUILTINS: tuple[tuple[str, str, str, str, str, bool, tuple[str, ...], tuple[str, ...]], ...] = (
    ('', 'v1', 'namespaces', 'Namespace', 'namespace', False, ('ns',), ('status', 'finalize')),
    ('', 'v1', 'secrets', 'Secret', 'secret', True, (), ()),
    ('', 'v1', 'configmaps', 'ConfigMap', 'configmap', True, ('cm',), ()),
    ('', 'v1', 'events', 'Event', 'event', True, ('ev',), ()),
    ('coordination.k8s.io', 'v1', 'leases', 'Lease', 'lease', True, (), ()),
    ('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition',
     'customresourcedefinition', False, ('crd', 'crds'), ('status',)),
    ('', 'v1', 'pods', 'Pod', 'pod', True, ('po',), ('status', 'portforward')),
    ('', 'v1', 'services', 'Service', 'service', True, ('svc',), ('status',)),
    ('apps', 'v1', 'deployments', 'Deployment', 'deployment', True, ('deploy',), ('status', 'scale')),
    ('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview',
     'selfsubjectaccessreview', False, (), ()),
)
# The built-ins whose objects carry no metadata.generation (kube-apiserver sets it for workloads, Pods since
# 1.35, CRDs and custom resources only).
WITHOUT_GENERATION = frozenset(kmock.resource(group, version, plural) for group, version, plural in (
    ('', 'v1', 'namespaces'), ('', 'v1', 'secrets'), ('', 'v1', 'configmaps'), ('', 'v1', 'events'),
    ('coordination.k8s.io', 'v1', 'leases'), ('', 'v1', 'services')))


def builtin_resources() -> list[tuple[kmock.resource, kmock.ResourceInfo]]:
    """The built-in resources this emulator serves, with the discovery info kopf reads."""
    return [
        (kmock.resource(group, version, plural),
         kmock.ResourceInfo(kind=kind, singular=singular, namespaced=namespaced,
                            verbs=frozenset({'create'}) if plural == 'selfsubjectaccessreviews' else VERBS,
                            shortnames=shortnames, subresources=subresources))
        for group, version, plural, kind, singular, namespaced, shortnames, subresources in BUILTINS
    ]


def crd_name(crd: Mapping[str, Any]) -> str:
    """The CRD's object name, which the API server requires to be ``{plural}.{group}``."""
    spec = crd.get('spec') or {}
    return str((crd.get('metadata') or {}).get('name') or f"{spec['names']['plural']}.{spec['group']}")


def crd_resources(crd: Mapping[str, Any]) -> list[tuple[kmock.resource, kmock.ResourceInfo]]:
    """One resource per served version of a ``apiextensions.k8s.io/v1`` CRD manifest."""
    spec = crd.get('spec')
    if not isinstance(spec, Mapping) or not isinstance(spec.get('names'), Mapping):
        raise ValueError('a CustomResourceDefinition needs spec.group, spec.names and spec.versions')
    names, group = spec['names'], spec['group']
    result = []
    for version in spec.get('versions') or []:
        if not version.get('served', True):
            continue
        subresources = set((version.get('subresources') or spec.get('subresources') or {}).keys())
        info = kmock.ResourceInfo(
            kind=names['kind'], singular=names.get('singular') or names['kind'].lower(),
            namespaced=spec.get('scope', 'Namespaced') == 'Namespaced', verbs=VERBS,
            shortnames=names.get('shortNames') or (), categories=names.get('categories') or (),
            subresources=subresources & {'status', 'scale'},
        )
        result.append((kmock.resource(group, version['name'], names['plural']), info))
    if not result:
        raise ValueError(f'the CustomResourceDefinition {crd_name(crd)!r} serves no versions')
    return result


def crd_storage_version(crd: Mapping[str, Any]) -> str | None:
    """The version marked ``storage: true``: the API server's preferred version of the group."""
    for version in (crd.get('spec') or {}).get('versions') or []:
        if version.get('storage'):
            return str(version['name'])
    return None


def crd_status(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The status the API server's CRD controllers write: names accepted, established."""
    spec = crd.get('spec') or {}
    storage = crd_storage_version(crd)
    conditions = [{'type': condition, 'status': 'True', 'reason': reason, 'message': message}
                  for condition, reason, message in (
                      ('NamesAccepted', 'NoConflicts', 'no conflicts found'),
                      ('Established', 'InitialNamesAccepted', 'the initial names have been accepted'))]
    return {'acceptedNames': dict(spec.get('names') or {}), 'conditions': conditions,
            'storedVersions': [storage] if storage else []}


_VERSION = re.compile(r'^v(?P<major>\d+)(?:(?P<stage>alpha|beta)(?P<minor>\d+))?$')


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' priority order: v2, v1, v1beta2, v1beta1, v1alpha1, other."""
    match = _VERSION.match(version)
    if match is None:
        return (3, 0, 0, version)
    stage = {'': 0, 'beta': 1, 'alpha': 2}[match['stage'] or '']
    return (stage, -int(match['major']), -int(match['minor'] or 0), version)


def group_versions(resources: Iterable[kmock.resource], preferred: Mapping[str, str]) -> dict[str, list[str]]:
    """Versions of every non-core group, the preferred one first and then in priority order."""
    groups: dict[str, set[str]] = {}
    for resource in resources:
        if resource.group and resource.version:
            groups.setdefault(resource.group, set()).add(resource.version)
    return {
        group: sorted(versions, key=lambda v: (v != preferred.get(group), version_priority(v)))
        for group, versions in sorted(groups.items())
    }
