"""An in-memory Kubernetes API server for tests and the sandbox: kmock's emulator, completed.

``KubernetesEmulator`` subclasses ``kmock.KubernetesEmulator`` and adds what the real API server
does and kmock 0.8 does not: namespace URLs, uid/creationTimestamp/generation/resourceVersion,
the status subresource, the three patch content types, lossless watches, finalizers and CRDs,
managedFields, Pods, Services and Deployments (with their scale), and token knobs for 401 and 403.
``KubeCluster`` is one such API served on loopback, with seeding helpers: the cluster behind each
cluster of the Headlamp emulator.
"""
from headlamp_operator_testing.kubernetes.changelog import WatchEvent
from headlamp_operator_testing.kubernetes.client import KubeApiError, KubeClient, resource_path, write_kubeconfig
from headlamp_operator_testing.kubernetes.cluster import KubeCluster
from headlamp_operator_testing.kubernetes.emulator import KubernetesEmulator
from headlamp_operator_testing.kubernetes.store import ClusterState

__all__ = [
    'ClusterState',
    'KubeApiError',
    'KubeClient',
    'KubeCluster',
    'KubernetesEmulator',
    'WatchEvent',
    'resource_path',
    'write_kubeconfig',
]
