"""Credentials from Secrets in the resource's own namespace (docs/credentials.md).

A reference names a Secret and a key, never a namespace. The resourceVersions of the Secrets read
are kept with the credentials, so a resource failed as Unauthorized can be retried exactly when
one of its Secrets changes (rotation without a restart).
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Mapping

import yaml

from headlamp_operator.kube.secrets import SecretValue
from headlamp_operator.reconciling.specs import CredentialsSpec
from headlamp_operator.structs import ANONYMOUS, Credentials, Secret

SecretReader = Callable[[str, str], Awaitable[SecretValue | None]]  # (namespace, name) -> Secret or None


class CredentialsError(Exception):
    """The resource's credentials cannot be used; the message says why and never carries a value."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Loaded:
    """Credentials plus the versions of the Secrets they came from."""

    credentials: Credentials
    versions: Mapping[str, str]  # secret name -> resourceVersion


def has_context(kubeconfig: str, cluster: str) -> bool:
    """Whether the kubeconfig has a context named ``cluster`` or whose ``headlamp_info`` customName is it."""
    try:
        document = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        return False
    if not isinstance(document, Mapping):
        return False
    for entry in document.get("contexts") or ():
        if not isinstance(entry, Mapping):
            continue
        if entry.get("name") == cluster:
            return True
        context = entry.get("context")
        for extension in (context.get("extensions") if isinstance(context, Mapping) else None) or ():
            if (isinstance(extension, Mapping) and extension.get("name") == "headlamp_info"
                    and isinstance(extension.get("extension"), Mapping)
                    and extension["extension"].get("customName") == cluster):
                return True
    return False


def derived_user_id(secret_uid: str) -> str:
    """A stable ``X-HEADLAMP-USER-ID`` from the kubeconfig Secret's UID: teams never share a backend context."""
    return "headlamp-operator-" + hashlib.sha256(secret_uid.encode()).hexdigest()[:24]


def _text(value: bytes, what: str, *, strip: bool) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialsError(f"the {what} is not UTF-8 text") from None
    if not text.strip():
        raise CredentialsError(f"the {what} is empty")
    return text.strip() if strip else text


async def load(spec: CredentialsSpec | None, *, cluster: str, namespace: str, read_secret: SecretReader,
               allow_anonymous: bool, user_id: str | None = None) -> Loaded:
    """Read and check the credentials a spec names, for ``cluster``; :class:`CredentialsError` says what is wrong."""
    refs = spec.references() if spec is not None else {}
    if not refs:
        if allow_anonymous:
            return Loaded(credentials=ANONYMOUS, versions={})
        raise CredentialsError("spec.credentials is required: anonymous use is disabled "
                               "(HEADLAMP_ALLOW_ANONYMOUS=false)")
    values: dict[str, str] = {}
    versions: dict[str, str] = {}
    uids: dict[str, str] = {}
    for what, ref in refs.items():
        name, key = ref.name, ref.key
        secret = await read_secret(namespace, name)
        if secret is None:
            raise CredentialsError(f"Secret {namespace}/{name} not found")
        if key not in secret.data:
            raise CredentialsError(f"Secret {namespace}/{name} has no key {key!r}")
        # A token is trimmed (a trailing newline from `--from-file` is not part of it); a kubeconfig goes to
        # the KUBECONFIG header byte for byte, as the frontend sends its stored copy (docs/credentials.md#a-kubeconfig).
        values[what] = _text(secret.data[key], f"{what} in Secret {namespace}/{name} (key {key!r})",
                             strip=what != "kubeconfig")
        versions[name] = secret.resource_version
        uids[what] = secret.uid
    token = values.get("token")
    if token is not None and any(c.isspace() for c in token):
        raise CredentialsError("the token contains whitespace or a line break")
    kubeconfig = values.get("kubeconfig")
    if kubeconfig is not None:
        if not has_context(kubeconfig, cluster):
            raise CredentialsError(f"the kubeconfig has no context named {cluster!r} "
                                   "(nor one whose headlamp_info customName is that)")
    credentials = Credentials(
        token=Secret(token) if token is not None else None,
        kubeconfig=Secret(kubeconfig) if kubeconfig is not None else None,
        user_id=(user_id or derived_user_id(uids["kubeconfig"])) if kubeconfig is not None else None,
        sources=frozenset((namespace, ref.name) for ref in refs.values()),
    )
    return Loaded(credentials=credentials, versions=versions)
