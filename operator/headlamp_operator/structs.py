"""Plain value types shared by every layer: secrets that hide themselves, and credentials."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterator
from typing import Any

import yaml

Source = tuple[str, str]  # a Secret a credential came from: (namespace, name)


class Secret(str):
    """A string whose repr never shows its value, so dataclass reprs and tracebacks stay clean.

    ``str(secret)`` and formatting still give the value: it is needed on the wire.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Credentials:
    """Who a request acts as at the Headlamp backend.

    ``token`` is a bearer token: it logs in through ``set-token`` (session cookies for port-forwards)
    and goes as ``Authorization`` on proxied Kubernetes requests.
    ``kubeconfig`` makes the cluster a dynamic ("stateless") one: sent base64-encoded as ``KUBECONFIG``
    together with ``user_id`` as ``X-HEADLAMP-USER-ID``.
    ``sources`` names the Secrets (namespace, name) the values came from, so that whatever is kept
    for this credential can be dropped when one of them changes; it is not part of its identity.
    """

    token: Secret | None = None
    kubeconfig: Secret | None = None
    user_id: str | None = None
    sources: frozenset[Source] = dataclasses.field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        if self.kubeconfig is not None and not self.user_id:
            raise ValueError("a kubeconfig credential needs a user id")

    @property
    def anonymous(self) -> bool:
        """Whether no credential at all is carried (the backend's own identity is used)."""
        return self.token is None and self.kubeconfig is None

    @property
    def kubeconfig_header(self) -> str | None:
        """The kubeconfig as the backend expects it: base64 on one line."""
        if self.kubeconfig is None:
            return None
        return base64.b64encode(self.kubeconfig.encode()).decode()

    @property
    def key(self) -> str:
        """A stable, non-reversible identity for caches and cookie jars keyed by credential."""
        digest = hashlib.sha256()
        for part in (self.token, self.kubeconfig, self.user_id):
            digest.update(b"\0" if part is None else b"\1" + part.encode())
        return digest.hexdigest()[:32]

    def secrets(self) -> Iterator[str]:
        """Every value that must never reach an error message, a log line or a status.

        Besides the values as given (and trimmed), the user credentials inside a kubeconfig, so that
        an answer quoting one line of it does not leak the token on that line.
        """
        for value in (self.token, self.kubeconfig):
            if value:
                for variant in {value, value.strip()}:
                    yield variant
                    yield base64.b64encode(variant.encode()).decode()  # an encoding of a secret is the secret
        if self.kubeconfig:
            yield from _kubeconfig_secrets(self.kubeconfig)


_SECRET_KEYS = frozenset({"token", "password", "client-key-data", "client-certificate-data", "id-token",
                          "refresh-token", "access-token", "client-secret", "secret"})


def _kubeconfig_secrets(kubeconfig: str) -> Iterator[str]:
    """The credential values inside a kubeconfig's users (tokens, keys, passwords, auth-provider config)."""
    try:
        document = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        return
    stack: list[Any] = [entry for entry in (document or {}).get("users") or ()] if isinstance(document, dict) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and str(key).lower() in _SECRET_KEYS:
                    yield value
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


ANONYMOUS = Credentials()
