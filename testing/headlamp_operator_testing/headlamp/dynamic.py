"""Dynamic ("stateless") clusters: the context a request's ``KUBECONFIG`` header names."""
from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

import yaml


class KubeconfigError(Exception):
    """A kubeconfig header that does not give a usable context (the backend answers 400)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class KubeconfigContext:
    """The parts of a kubeconfig context the emulator uses."""

    name: str  # the name the cluster is known by in URLs (the context's name or its customName)
    cluster: str  # the context's ``cluster`` field: the emulated cluster serving its objects
    server: str
    token: str | None  # the context user's bearer token, if it has one


def _custom_name(entry: dict[str, Any]) -> str | None:
    context = entry.get("context")
    context = context if isinstance(context, dict) else {}
    for extensions in (context.get("extensions"), entry.get("extensions")):
        for extension in extensions if isinstance(extensions, list) else []:
            if isinstance(extension, dict) and extension.get("name") == "headlamp_info":
                info = extension.get("extension")
                name = info.get("customName") if isinstance(info, dict) else None
                if isinstance(name, str):
                    return name
    return None


def _named(doc: dict[str, Any], section: str, name: Any, inner: str) -> dict[str, Any] | None:
    for entry in doc.get(section) or []:
        value = entry.get(inner) if isinstance(entry, dict) and entry.get("name") == name else None
        if isinstance(value, dict):
            return value
    return None


def load_context(encoded: str, cluster: str) -> KubeconfigContext:
    """Decode a base64 kubeconfig and pick the context named ``cluster`` (by name or customName)."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
        doc = yaml.safe_load(raw)
    except (binascii.Error, ValueError) as exc:
        raise KubeconfigError(f"failed to decode kubeconfig: {exc}") from exc
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"failed to load kubeconfig: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("contexts") or [], list):
        raise KubeconfigError("failed to load kubeconfig: not a kubeconfig document")
    for entry in doc.get("contexts") or []:
        if not isinstance(entry, dict) or cluster not in (entry.get("name"), _custom_name(entry)):
            continue
        context = entry.get("context")
        if not isinstance(context, dict) or not context.get("cluster"):
            raise KubeconfigError(f'failed to load kubeconfig: context "{cluster}" has no cluster')
        server = _named(doc, "clusters", context["cluster"], "cluster")
        if server is None:
            raise KubeconfigError(f'failed to load kubeconfig: cluster "{context["cluster"]}" of context '
                                  f'"{cluster}" is not in the kubeconfig')
        user = _named(doc, "users", context.get("user"), "user") or {}
        token = user.get("token")
        return KubeconfigContext(name=cluster, cluster=str(context["cluster"]), server=str(server.get("server", "")),
                                 token=token if isinstance(token, str) and token else None)
    raise KubeconfigError(f'failed to load kubeconfig: no context named "{cluster}"')
