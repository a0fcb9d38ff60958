"""The operator's configuration: groups of dataclasses, read from the environment and flags.

Each field has a matching environment variable (docs/install.md#configuration). A bad value raises
:class:`ConfigError` naming the variable, which the CLI turns into one line and exit code 2.
"""
from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Mapping

from headlamp_operator.structs import Secret


class ConfigError(ValueError):
    """A configuration value that cannot be used; ``variable`` names where it came from."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


@dataclasses.dataclass(frozen=True, kw_only=True)
class BackendSettings:
    """How to reach the Headlamp backend and how hard to push it."""

    url: str = "http://localhost:4466"
    """Base URL of the Headlamp backend; it may carry a path prefix (``HEADLAMP_URL``)."""

    backend_token: Secret | None = None
    """Sent as ``X-HEADLAMP_BACKEND-TOKEN`` on every ``/clusters/...`` request (``HEADLAMP_BACKEND_TOKEN``)."""

    backstage_token: Secret | None = None
    """Sent as ``X-BACKSTAGE-TOKEN`` on every request (``HEADLAMP_BACKSTAGE_TOKEN``)."""

    user_id: str | None = None
    """``X-HEADLAMP-USER-ID`` for dynamic clusters; unset: derived per kubeconfig Secret (``HEADLAMP_USER_ID``)."""

    request_timeout: float = 120.0
    """Seconds before a request counts as timed out, as the frontend's 2 minutes (``HEADLAMP_REQUEST_TIMEOUT``)."""

    max_concurrency: int = 32
    """Requests in flight per cluster (``HEADLAMP_MAX_CONCURRENCY``)."""

    max_body_size: int = 16 * 1024 * 1024
    """The largest answer body read from the backend; larger ones fail as a clear error, not a memory spike."""

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError("HEADLAMP_URL", f"not an http(s) URL: {self.url!r}")
        if parsed.query or parsed.fragment:
            raise ConfigError("HEADLAMP_URL", "must not carry a query or a fragment")
        if not self.request_timeout > 0:
            raise ConfigError("HEADLAMP_REQUEST_TIMEOUT", "must be a positive number of seconds")
        if self.max_concurrency < 1:
            raise ConfigError("HEADLAMP_MAX_CONCURRENCY", "must be at least 1")
        for variable, value in (("HEADLAMP_BACKEND_TOKEN", self.backend_token),
                                ("HEADLAMP_BACKSTAGE_TOKEN", self.backstage_token),
                                ("HEADLAMP_USER_ID", self.user_id)):
            if value is not None and (not value or any(c in value for c in "\r\n\0")):
                raise ConfigError(variable, "must be non-empty and on one line")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReconcileSettings:
    """How the operator treats resources."""

    allow_anonymous: bool = False
    """Allow resources without ``spec.credentials`` to act as the backend itself (``HEADLAMP_ALLOW_ANONYMOUS``)."""

    sync_interval: float = 30.0
    """Seconds between port-forward health checks, one list call per cluster (``HEADLAMP_SYNC_INTERVAL``)."""

    finalizer_timeout: float = 600.0
    """Seconds a deletion keeps retrying an unreachable backend before the finalizer is removed anyway."""

    min_reapply_interval: float = 30.0
    """The shortest ``reapplyInterval`` accepted (the CRD enforces 30 s at admission too); lower only in tests."""

    backoff_min: float = 1.0
    """First delay of the exponential backoff for transient errors."""

    backoff_max: float = 300.0
    """Largest delay of the exponential backoff for transient errors."""

    def __post_init__(self) -> None:
        if not self.sync_interval > 0:
            raise ConfigError("HEADLAMP_SYNC_INTERVAL", "must be a positive number of seconds")
        if not self.finalizer_timeout >= 0:
            raise ConfigError("--finalizer-timeout", "must not be negative")
        if not 0 < self.backoff_min <= self.backoff_max:
            raise ConfigError("backoff", "needs 0 < minimum <= maximum")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    """The validating admission webhook (off unless a port is given)."""

    port: int | None = None
    """Port of the HTTPS admission server (``--webhook-port``); unset: no webhook is served."""

    addr: str = "0.0.0.0"  # noqa: S104 (a webhook in a pod listens on the pod's interfaces)
    """Listening address of the admission server."""

    host: str | None = None
    """The name the API server reaches the webhook by (its Service's DNS name), for certificates and the config."""

    certfile: str | None = None
    """Server certificate (PEM), e.g. mounted from cert-manager; unset: a self-signed one is made at start."""

    pkeyfile: str | None = None
    """Private key of ``certfile``."""

    cafile: str | None = None
    """CA bundle of ``certfile`` for the webhook configuration's caBundle."""

    managed: bool = False
    """Let the operator create and keep its ValidatingWebhookConfiguration (needs RBAC for it)."""

    def __post_init__(self) -> None:
        if self.port is not None and not 0 < self.port < 65536:
            raise ConfigError("--webhook-port", "not a port number")
        if bool(self.certfile) != bool(self.pkeyfile):
            raise ConfigError("--webhook-cert", "give both --webhook-cert and --webhook-key, or neither")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PeeringSettings:
    """How replicas agree on which one is active: leader election on a Lease (:mod:`headlamp_operator.election`)."""

    lifetime: float = 60.0
    """Seconds the leader's Lease holds without renewal (``--lease-duration``); a dead leader is replaced after this."""

    def __post_init__(self) -> None:
        if not self.lifetime > 0:
            raise ConfigError("--lease-duration", "must be a positive number of seconds")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """All of the operator's settings, one group per concern."""

    backend: BackendSettings = dataclasses.field(default_factory=BackendSettings)
    reconcile: ReconcileSettings = dataclasses.field(default_factory=ReconcileSettings)
    webhook: WebhookSettings = dataclasses.field(default_factory=WebhookSettings)
    peering: PeeringSettings = dataclasses.field(default_factory=PeeringSettings)


def _number(env: Mapping[str, str], variable: str, kind: type[float] | type[int]) -> float | int | None:
    raw = env.get(variable)
    if raw is None or raw.strip() == "":
        return None
    try:
        return kind(raw.strip())
    except ValueError:
        raise ConfigError(variable, f"not a number: {raw!r}") from None


def _boolean(env: Mapping[str, str], variable: str) -> bool | None:
    raw = env.get(variable)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(variable, f"not a boolean (true/false): {raw!r}")


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build the settings from environment variables; ``overrides`` (flags) win over the environment."""
    env = os.environ if env is None else env
    backend: dict[str, object] = {}
    reconcile: dict[str, object] = {}
    webhook: dict[str, object] = {}
    peering: dict[str, object] = {}
    if env.get("HEADLAMP_URL"):
        backend["url"] = env["HEADLAMP_URL"].strip()
    for variable, field in (("HEADLAMP_BACKEND_TOKEN", "backend_token"),
                            ("HEADLAMP_BACKSTAGE_TOKEN", "backstage_token")):
        if env.get(variable):
            backend[field] = Secret(env[variable].strip())
    if env.get("HEADLAMP_USER_ID"):
        backend["user_id"] = env["HEADLAMP_USER_ID"].strip()
    if (timeout := _number(env, "HEADLAMP_REQUEST_TIMEOUT", float)) is not None:
        backend["request_timeout"] = timeout
    if (concurrency := _number(env, "HEADLAMP_MAX_CONCURRENCY", int)) is not None:
        backend["max_concurrency"] = concurrency
    if (anonymous := _boolean(env, "HEADLAMP_ALLOW_ANONYMOUS")) is not None:
        reconcile["allow_anonymous"] = anonymous
    if (interval := _number(env, "HEADLAMP_SYNC_INTERVAL", float)) is not None:
        reconcile["sync_interval"] = interval
    for key, value in overrides.items():
        if value is None:
            continue
        group, _, field = key.partition("__")
        if group == "backend":
            backend[field] = Secret(value) if field.endswith("_token") else value
        elif group == "reconcile":
            reconcile[field] = value
        elif group == "webhook":
            webhook[field] = value
        elif group == "peering":
            peering[field] = value
        else:
            raise TypeError(f"unknown setting {key!r}; use backend__, reconcile__ or webhook__<field>")
    return Settings(backend=BackendSettings(**backend),  # type: ignore[arg-type]
                    reconcile=ReconcileSettings(**reconcile),  # type: ignore[arg-type]
                    webhook=WebhookSettings(**webhook),  # type: ignore[arg-type]
                    peering=PeeringSettings(**peering))  # type: ignore[arg-type]
