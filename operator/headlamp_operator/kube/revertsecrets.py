"""The Secrets that keep a ResourcePatch's undo record of a Secret target (docs/resourcepatch.md#secrets).

A ResourcePatch's status is readable by everyone who may read ResourcePatches in its namespace, often
more people than may read the patched Secret. So the prior values of a Secret's touched paths are not
written to the status: they go into a Secret of the ResourcePatch's namespace, owned by it (an
``ownerReference``: the garbage collector deletes it with the ResourcePatch), and the status names it.

The Secret holds one key, ``record.json``: a JSON object from each touched path (a JSON Pointer) to the
compact JSON text of its prior value, or null when the path was absent.
"""
from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from headlamp_operator.kube.api import KubeApi, KubeApiError

KEY = "record.json"
MANAGED_BY = "headlamp-operator"
MAX_SECRET_BYTES = 1_048_576  # the API server's limit on a Secret's data (validation.MaxSecretSize)


def _path(namespace: str, name: str | None = None) -> str:
    base = f"/api/v1/namespaces/{urllib.parse.quote(namespace, safe='')}/secrets"
    return base if name is None else f"{base}/{urllib.parse.quote(name, safe='')}"


def encoded_size(values: Mapping[str, str | None]) -> int:
    """Bytes the record takes in the Secret's data (base64 of its JSON)."""
    return len(base64.b64encode(json.dumps(dict(values), separators=(",", ":")).encode()))


async def create(api: KubeApi, owner: Mapping[str, Any], values: Mapping[str, str | None]) -> str:
    """Create the record's Secret beside ``owner`` (a ResourcePatch body); returns its name (generated).

    Raises:
        KubeApiError: the API server refused it (403 without RBAC for ``create secrets``).
        KubeUnreachable: no answer.
    """
    metadata = owner["metadata"]
    data = base64.b64encode(json.dumps(dict(values), separators=(",", ":")).encode()).decode()
    body = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {
            "generateName": f"{str(metadata['name'])[:40]}-revert-",
            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
            "ownerReferences": [{"apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"),
                                 "name": metadata["name"], "uid": metadata["uid"]}],
        },
        "data": {KEY: data},
    }
    created = await api.request("POST", _path(metadata["namespace"]), body=body)
    return str(created["metadata"]["name"])


async def read(api: KubeApi, namespace: str, name: str) -> dict[str, str | None] | None:
    """The record kept in that Secret; None when it is gone or does not hold one.

    Raises:
        KubeApiError: the API server refused the read (other than 404).
        KubeUnreachable: no answer.
    """
    secret = await api.get(_path(namespace, name))
    if not isinstance(secret, Mapping):
        return None
    try:
        values = json.loads(base64.b64decode((secret.get("data") or {})[KEY]))
    except (KeyError, ValueError, TypeError):
        return None
    if not isinstance(values, dict):
        return None
    return {str(path): value if isinstance(value, str) else None for path, value in values.items()}


async def delete(api: KubeApi, namespace: str, name: str) -> None:
    """Delete the record's Secret; nothing when it is gone already.

    Raises:
        KubeApiError: the API server refused it (other than 404).
        KubeUnreachable: no answer.
    """
    try:
        await api.request("DELETE", _path(namespace, name))
    except KubeApiError as e:
        if e.status != 404:
            raise
