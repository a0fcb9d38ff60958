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


NO_CONTEXTS = "no contexts found in kubeconfig"
NO_VALID_CONTEXTS = "failed to load any valid contexts from kubeconfig"


def _load(entry: Any, doc: dict[str, Any]) -> KubeconfigContext | None:
    """One context of the kubeconfig, None when the backend could not load it (a context load error)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        return None
    context = entry.get("context")
    if not isinstance(context, dict) or not context.get("cluster"):
        return None
    server = _named(doc, "clusters", context["cluster"], "cluster")
    if server is None:
        return None
    user = _named(doc, "users", context.get("user"), "user") or {}
    token = user.get("token")
    return KubeconfigContext(name=_custom_name(entry) or entry["name"], cluster=str(context["cluster"]),
                             server=str(server.get("server", "")),
                             token=token if isinstance(token, str) and token else None)


def load_context(encoded: str, cluster: str) -> KubeconfigContext | None:
    """Decode a base64 kubeconfig and pick the context named ``cluster`` (by customName, else by name).

    As v0.45.0's ``handleStatelessReq``: a header that is not base64, not YAML, or has no contexts is
    ``no contexts found in kubeconfig`` (the decoding error itself is lost upstream); contexts that all
    fail to load are ``failed to load any valid contexts from kubeconfig``; a kubeconfig without a context
    of that name is no error at all: None, and the backend then looks up the empty context key.

    Raises:
        KubeconfigError: the backend's 400.
    """
    try:
        doc = yaml.safe_load(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError, yaml.YAMLError):
        raise KubeconfigError(NO_CONTEXTS) from None
    entries = doc.get("contexts") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise KubeconfigError(NO_CONTEXTS)
    loaded = [_load(entry, doc) for entry in entries]
    valid = [context for context in loaded if context is not None]
    if not valid:
        raise KubeconfigError(NO_VALID_CONTEXTS)
    named = [context for context in valid if context.name == cluster]
    return named[-1] if named else None  # the backend keeps the last context of that name
