"""What kube-apiserver does for the built-in Deployments beyond storing them: its validation of
``spec.replicas`` and the ``scale`` subresource (an ``autoscaling/v1`` Scale of ``spec.replicas``).

Only what a cluster behind Headlamp needs: the operator's ResourcePatches patch Deployments and their scale,
and a negative replica count is the API server's ``422 Invalid`` (recorded from kube-apiserver v1.36 in
tests/kit/headlamp/transcripts/headlamp-v0.45.0.json, ``proxy/patch-422``).
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import kmock

from headlamp_operator_testing.kubernetes.fielderrors import FieldError, invalid

Body = dict[str, Any]
DEPLOYMENTS = kmock.resource('apps', 'v1', 'deployments')
_SCALE_METADATA = ('name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp')


def validate(resource: kmock.resource, body: Mapping[str, Any]) -> None:
    """Raise the API server's ``422 Invalid`` for a Deployment whose ``spec.replicas`` is not a count."""
    if resource != DEPLOYMENTS:
        return
    spec = body.get('spec') or {}
    if 'replicas' not in spec:
        return
    replicas = spec['replicas']
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        name = str((body.get('metadata') or {}).get('name') or '')
        error = FieldError('Invalid', ('spec', 'replicas'), 'must be greater than or equal to 0', replicas)
        raise invalid('Deployment', 'apps', name, [error])


def scale_of(deployment: Mapping[str, Any]) -> Body:
    """The ``autoscaling/v1`` Scale of a Deployment: its replicas wanted and seen, and its label selector."""
    meta = deployment.get('metadata') or {}
    spec, status = deployment.get('spec') or {}, deployment.get('status') or {}
    labels = (spec.get('selector') or {}).get('matchLabels') or {}
    return {
        'kind': 'Scale', 'apiVersion': 'autoscaling/v1',
        'metadata': {key: meta[key] for key in _SCALE_METADATA if key in meta},
        'spec': {'replicas': spec.get('replicas', 1)},
        'status': {'replicas': status.get('replicas', 0),
                   'selector': ','.join(f'{key}={value}' for key, value in sorted(labels.items()))},
    }


def scaled(deployment: Mapping[str, Any], scale: Any) -> Body:
    """The Deployment a write of its Scale makes: ``spec.replicas`` from the Scale, and the Scale's
    resourceVersion as the write's precondition (a stale one is the API server's 409)."""
    result = copy.deepcopy(dict(deployment))
    scale = scale if isinstance(scale, Mapping) else {}
    result.setdefault('spec', {})['replicas'] = (scale.get('spec') or {}).get('replicas')
    version = (scale.get('metadata') or {}).get('resourceVersion')
    if version:
        result['metadata']['resourceVersion'] = version
    return result
