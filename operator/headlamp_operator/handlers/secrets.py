"""Reading Secrets from the Kubernetes API with the official client (in a thread: it is synchronous).

The operator logs in once (kopf's login via the same kubeconfig or in-cluster service account);
this reader uses the client configured by that login. It reads one Secret by namespace and name:
never a listing, never another namespace than the resource's.
"""
from __future__ import annotations

import asyncio

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from headlamp_operator.reconciling.credentials import SecretValue, decode_secret_data


def _read(namespace: str, name: str) -> SecretValue | None:
    try:
        secret = client.CoreV1Api().read_namespaced_secret(name, namespace)
    except ApiException as e:
        if e.status == 404:
            return None
        raise
    metadata = secret.metadata
    data = {str(key): str(value) for key, value in (secret.data or {}).items()}
    return SecretValue(uid=(metadata.uid if metadata else None) or "",
                       resource_version=(metadata.resource_version if metadata else None) or "",
                       data=decode_secret_data(data))


async def read_secret(namespace: str, name: str) -> SecretValue | None:
    """One Secret of the resource's namespace, or None if it does not exist."""
    return await asyncio.to_thread(_read, namespace, name)
