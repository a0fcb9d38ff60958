"""The operator's configuration: groups of dataclasses, each field with its flag, variable and help.

Every setting is declared once, here (docs/install.md#configuration): its type and default, and in its
field's metadata an :class:`Option` saying how a person gives it (a ``run`` flag, an environment
variable, or both; a flag wins over its variable) and how ``--help`` shows it. The command line
(:mod:`headlamp_operator.cli`) builds its parser from these options, :func:`from_env` reads the
variables from them, and every module reads its limits from a :class:`Settings`. A bad value raises
:class:`ConfigError` naming the variable (or the flag), which the CLI turns into one line and exit code 2.
"""
from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from headlamp_operator.structs import Secret

MAX_CACHED = 4096  # entries a cache keeps at most (BackendSettings.max_cached), the least recently used going first
MIN_REAPPLY_SECONDS = 30.0  # the shortest reapplyInterval; the CRD's CEL rule says the same (tests keep them equal)
GROUPS = {  # the --help groups, in order
    "backend": "the Headlamp backend",
    "behaviour": "behaviour",
    "replicas": "replicas, probes and metrics",
    "logging": "logging",
    "webhook": "the admission webhook (off unless --webhook-port is given)",
}
LOG_FORMATS = ("full", "plain", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(ValueError):
    """A configuration value that cannot be used; ``variable`` names where it came from."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


@dataclasses.dataclass(frozen=True, kw_only=True)
class Option:
    """How a person gives one setting, and how ``--help`` shows it.

    ``help`` may say ``{default}``: the field's default, as a person writes it. ``kind`` is how the
    flag's text is read: ``port`` (1-65535), ``append`` (the flag repeated), or the field's own type.
    """

    help: str
    group: str
    flag: str | None = None
    env: str | None = None
    metavar: str | None = None
    short: str | None = None
    choices: tuple[str, ...] = ()
    kind: str = ""
    exclusive: str = ""  # flags of one exclusive group (--namespace and --all-namespaces)


def setting(default: Any = None, **option: Any) -> Any:
    """A dataclass field whose metadata holds its :class:`Option` (``default_factory`` for a list default)."""
    factory = option.pop("default_factory", None)
    metadata = {"option": Option(**option)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BackendSettings:
    """How to reach the Headlamp backend and how hard to push it."""

    url: str = setting("http://localhost:4466", flag="--headlamp-url", env="HEADLAMP_URL", metavar="URL",
                       group="backend",
                       help="where Headlamp's backend listens, path prefix included (default {default})")
    backend_token: Secret | None = setting(
        flag="--backend-token", env="HEADLAMP_BACKEND_TOKEN", metavar="TOKEN", group="backend",
        help="the token headlamp-server was started with (its HEADLAMP_BACKEND_TOKEN), if any")
    backstage_token: Secret | None = setting(
        flag="--backstage-token", env="HEADLAMP_BACKSTAGE_TOKEN", metavar="TOKEN", group="backend",
        help="a Backstage token sent with every request")
    user_id: str | None = setting(flag="--user-id", env="HEADLAMP_USER_ID", metavar="ID", group="backend",
                                  help="the Headlamp user id for clusters added from kubeconfigs")
    request_timeout: float = setting(
        120.0, flag="--request-timeout", env="HEADLAMP_REQUEST_TIMEOUT", metavar="SECONDS", group="backend",
        help="give up on one request after this long (default {default}, as Headlamp's frontend)")
    max_concurrency: int = setting(32, flag="--max-concurrency", env="HEADLAMP_MAX_CONCURRENCY", metavar="N",
                                   group="backend", help="requests in flight per cluster at most (default {default})")
    max_body_size: int = 16 * 1024 * 1024
    """The largest answer body read from the backend; larger ones fail as a clear error, not a memory spike."""

    max_cached: int = MAX_CACHED
    """Entries each cache keeps at most (logins, discovery, forward lists, resolutions, Secrets), the least
    recently used going first: a bound on what nothing retires."""

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

    allow_anonymous: bool = setting(
        False, flag="--allow-anonymous", env="HEADLAMP_ALLOW_ANONYMOUS", group="behaviour",
        help="let resources without spec.credentials act as Headlamp itself (off by default)")
    sync_interval: float = setting(
        30.0, flag="--sync-interval", env="HEADLAMP_SYNC_INTERVAL", metavar="SECONDS", group="behaviour",
        help="how often the forwards' health is checked, one request per cluster (default {default})")
    backoff_min: float = setting(
        1.0, flag="--backoff-min", metavar="SECONDS", group="behaviour",
        help="the first retry delay after a transient error, doubled at each retry (default {default})")
    backoff_max: float = setting(300.0, flag="--backoff-max", metavar="SECONDS", group="behaviour",
                                 help="the longest retry delay after transient errors (default {default})")
    finalizer_timeout: float = setting(
        600.0, flag="--finalizer-timeout", metavar="SECONDS", group="behaviour",
        help="how long a deletion waits for an unreachable Headlamp before letting go (default {default})")
    min_reapply_interval: float = MIN_REAPPLY_SECONDS
    """The shortest ``reapplyInterval`` accepted (the CRD enforces it at admission too); lower only in tests."""

    def __post_init__(self) -> None:
        if not self.sync_interval > 0:
            raise ConfigError("HEADLAMP_SYNC_INTERVAL", "must be a positive number of seconds")
        if not self.finalizer_timeout >= 0:
            raise ConfigError("--finalizer-timeout", "must not be negative")
        if not 0 < self.backoff_min <= self.backoff_max:
            raise ConfigError("--backoff-min/--backoff-max", "needs 0 < minimum <= maximum")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    """The validating admission webhook (off unless a port is given)."""

    port: int | None = setting(flag="--webhook-port", metavar="PORT", kind="port", group="webhook",
                               help="serve the validating webhook over HTTPS here")
    addr: str = setting("0.0.0.0", flag="--webhook-addr", metavar="ADDR", group="webhook",  # noqa: S104 (in a pod)
                        help="the address it listens on (default {default})")
    host: str | None = setting(flag="--webhook-host", metavar="NAME", group="webhook",
                               help="the name the API server reaches it by, e.g. its Service's DNS name")
    certfile: str | None = setting(flag="--webhook-cert", metavar="FILE", group="webhook",
                                   help="its certificate, e.g. mounted from cert-manager")
    pkeyfile: str | None = setting(flag="--webhook-key", metavar="FILE", group="webhook",
                                   help="the private key of --webhook-cert")
    cafile: str | None = setting(flag="--webhook-ca", metavar="FILE", group="webhook",
                                 help="the CA bundle that signed --webhook-cert")
    managed: bool = setting(False, flag="--webhook-managed", group="webhook",
                            help="create and keep the ValidatingWebhookConfiguration, with a CA of the operator's own")

    def __post_init__(self) -> None:
        if self.port is not None and not 0 < self.port < 65536:
            raise ConfigError("--webhook-port", "not a port number")
        if bool(self.certfile) != bool(self.pkeyfile):
            raise ConfigError("--webhook-cert", "give both --webhook-cert and --webhook-key, or neither")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PeeringSettings:
    """How replicas agree which one acts: leader election on a Lease (:mod:`headlamp_operator.kube.election`)."""

    standalone: bool = setting(False, flag="--standalone", group="replicas",
                               help="skip leader election: only for a single replica you run yourself")
    lifetime: float = setting(
        60.0, flag="--lease-duration", metavar="SECONDS", group="replicas",
        help="how long a silent leader keeps its Lease before a standby takes over (default {default})")
    namespace: str = setting("headlamp-operator", env="POD_NAMESPACE", group="replicas",
                             help="the namespace of the operator's Lease (the Deployment sets it from its pod)")
    identity: str | None = setting(env="POD_ID", group="replicas",
                                   help="this replica's name in the Lease and in its Events (default: host-pid-random)")

    def __post_init__(self) -> None:
        if not self.lifetime > 0:
            raise ConfigError("--lease-duration", "must be a positive number of seconds")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How kopf runs this process: which namespaces, probes, metrics, logging."""

    namespaces: tuple[str, ...] = setting(
        default_factory=tuple, flag="--namespace", short="-n", metavar="NAMESPACE", kind="append",
        exclusive="scope", group="behaviour", help="watch only this namespace (repeat for more)")
    all_namespaces: bool = setting(False, flag="--all-namespaces", short="-A", exclusive="scope", group="behaviour",
                                   help="watch every namespace (the default)")
    liveness: str | None = setting(flag="--liveness", metavar="URL", group="replicas",
                                   help="serve the liveness probe here, e.g. http://0.0.0.0:8080/healthz")
    metrics_port: int | None = setting(flag="--metrics-port", metavar="PORT", kind="port", group="replicas",
                                       help="serve Prometheus metrics on /metrics here")
    log_format: str = setting("full", flag="--log-format", choices=LOG_FORMATS, group="logging",
                              help="full: time, logger, level and message; plain: the message; json: one object a line")
    log_level: str = setting("info", flag="--log-level", choices=LOG_LEVELS, group="logging",
                             help="the least severe lines shown")

    @property
    def clusterwide(self) -> bool:
        """Whether every namespace is watched (``--all-namespaces``, or no ``--namespace``)."""
        return self.all_namespaces or not self.namespaces


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """All of the operator's settings, one group per concern."""

    backend: BackendSettings = dataclasses.field(default_factory=BackendSettings)
    reconcile: ReconcileSettings = dataclasses.field(default_factory=ReconcileSettings)
    webhook: WebhookSettings = dataclasses.field(default_factory=WebhookSettings)
    peering: PeeringSettings = dataclasses.field(default_factory=PeeringSettings)
    run: RunSettings = dataclasses.field(default_factory=RunSettings)


SECTIONS: dict[str, type[Any]] = {"backend": BackendSettings, "reconcile": ReconcileSettings,
                                  "webhook": WebhookSettings, "peering": PeeringSettings, "run": RunSettings}


@dataclasses.dataclass(frozen=True)
class Described:
    """One setting that a person can give: where it lives (``section.name``), its type, default and option."""

    section: str
    name: str
    type: str  # the field's annotation, as written
    default: Any
    option: Option

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments that holds its flag's value."""
        return f"{self.section}__{self.name}"

    def shown_default(self) -> str:
        """The default as a person writes it: ``120`` for 120.0."""
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)


def described() -> Iterator[Described]:
    """Every setting with an :class:`Option`, section by section, in declaration order."""
    for section, cls in SECTIONS.items():
        for field in dataclasses.fields(cls):
            option = field.metadata.get("option")
            if option is not None:
                default = field.default if field.default is not dataclasses.MISSING else None
                yield Described(section=section, name=field.name, type=str(field.type), default=default,
                                option=option)


def named(variable: str) -> Described | None:
    """The setting whose variable or flag is ``variable`` (what a :class:`ConfigError` names), if any."""
    return next((d for d in described() if variable in (d.option.env, d.option.flag)), None)


def _number(variable: str, raw: str, kind: type[float] | type[int]) -> float | int:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(variable, f"not a number: {raw!r}") from None


def _boolean(variable: str, raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(variable, f"not a boolean (true/false): {raw!r}")


def _from_text(setting: Described, variable: str, raw: str) -> Any:
    """A variable's text as the setting's type (``ConfigError`` naming the variable)."""
    kind = setting.type
    if kind.startswith("float"):
        return _number(variable, raw, float)
    if kind.startswith("int"):
        return _number(variable, raw, int)
    if kind.startswith("bool"):
        return _boolean(variable, raw)
    if kind.startswith("Secret"):
        return Secret(raw)
    return raw


def from_env(env: Mapping[str, str] | None = None, *, flags: Mapping[str, Any] | None = None) -> Settings:
    """Build the settings from environment variables, and ``flags`` over them (``{section}__{name}``: a value).

    An empty variable counts as unset. A flag whose value is None was not given.
    """
    env = os.environ if env is None else env
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for setting in described():
        variable = setting.option.env
        raw = env.get(variable, "").strip() if variable else ""
        if raw:
            values[setting.section][setting.name] = _from_text(setting, variable or "", raw)
    for key, value in (flags or {}).items():
        section, _, name = key.partition("__")
        if section not in values:
            raise TypeError(f"unknown setting {key!r}: {{section}}__{{name}}, section one of {sorted(SECTIONS)}")
        if value is not None:
            values[section][name] = Secret(value) if name.endswith("_token") else value
    return Settings(**{section: SECTIONS[section](**given) for section, given in values.items()})
