"""Manifests of the built-in objects a test seeds a cluster with: Namespaces, Deployments, Services, Pods,
ConfigMaps and Secrets, filled in as the cluster's controllers would have them (a Deployment's status says
its replicas are ready, a Service has a cluster IP, a Pod runs and is Ready) unless a test says otherwise.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

Body = dict[str, Any]


def namespace(name: str, *, labels: Mapping[str, str] | None = None) -> Body:
    """A Namespace, labelled with its name as the API server labels every namespace."""
    return {'apiVersion': 'v1', 'kind': 'Namespace',
            'metadata': {'name': name, 'labels': {'kubernetes.io/metadata.name': name, **(labels or {})}}}


def deployment(namespace: str, name: str, *, replicas: int = 1, labels: Mapping[str, str] | None = None,
               image: str = 'nginx', ports: Sequence[Mapping[str, Any]] = (),
               status: Mapping[str, Any] | None = None) -> Body:
    """A Deployment of one container named as the Deployment; its status says every replica is ready
    unless ``status`` is given."""
    labels = dict(labels or {'app': name})
    container: Body = {'name': name, 'image': image}
    if ports:
        container['ports'] = [dict(port) for port in ports]
    ready = {'observedGeneration': 1, 'replicas': replicas, 'readyReplicas': replicas,
             'availableReplicas': replicas, 'updatedReplicas': replicas}
    return {
        'apiVersion': 'apps/v1', 'kind': 'Deployment',
        'metadata': {'name': name, 'namespace': namespace, 'labels': labels},
        'spec': {'replicas': replicas, 'selector': {'matchLabels': labels},
                 'template': {'metadata': {'labels': labels}, 'spec': {'containers': [container]}}},
        'status': dict(status) if status is not None else ready,
    }


def service(namespace: str, name: str, *, selector: Mapping[str, str] | None = None,
            ports: Sequence[Mapping[str, Any]] = ({'name': 'http', 'port': 80, 'targetPort': 80},),
            type: str = 'ClusterIP') -> Body:
    """A Service selecting pods by labels (``{"app": name}`` unless given), with a cluster IP of its own."""
    digest = hashlib.sha256(f'{namespace}/{name}'.encode()).digest()
    return {
        'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name, 'namespace': namespace},
        'spec': {'type': type, 'selector': dict(selector if selector is not None else {'app': name}),
                 'clusterIP': f'10.96.{digest[0]}.{digest[1] or 1}',
                 'ports': [{'protocol': 'TCP', **port} for port in ports]},
        'status': {'loadBalancer': {}},
    }


def pod(namespace: str, name: str, *, labels: Mapping[str, str] | None = None,
        ports: Sequence[Mapping[str, Any]] = (), phase: str = 'Running', ready: bool = True) -> Body:
    """A Pod with one container exposing ``ports`` (``[{"name": "web", "containerPort": 3000}]``)."""
    container: Body = {'name': 'main', 'image': 'nginx'}
    if ports:
        container['ports'] = [{'protocol': 'TCP', **port} for port in ports]
    return {
        'apiVersion': 'v1', 'kind': 'Pod',
        'metadata': {'name': name, 'namespace': namespace, 'labels': dict(labels or {})},
        'spec': {'containers': [container]},
        'status': {'phase': phase, 'conditions': [{'type': 'Ready', 'status': 'True' if ready else 'False'}],
                   'podIP': '10.244.0.10'},
    }


def configmap(namespace: str, name: str, *, data: Mapping[str, str] | None = None) -> Body:
    """A ConfigMap."""
    return {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': name, 'namespace': namespace},
            'data': dict(data or {})}


def secret(namespace: str, name: str, *, data: Mapping[str, str | bytes] | None = None,
           type: str = 'Opaque') -> Body:
    """A Secret; ``data`` values are given plain and stored base64-encoded."""
    encoded = {key: base64.b64encode(value.encode() if isinstance(value, str) else value).decode()
               for key, value in (data or {}).items()}
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': type, 'metadata': {'name': name, 'namespace': namespace},
            'data': encoded}
