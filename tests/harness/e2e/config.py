"""The e2e suite's configuration, read from ``E2E_*`` environment variables (see README.md).

:func:`e2e_config` is the whole skip logic: it returns the reason to skip (a string naming both
required variables) when ``E2E_KUBECONFIG`` or ``E2E_HEADLAMP_URL`` is unset, the configuration
when both are set, and raises :class:`E2EConfigError` when they are set but something is unusable:
someone who asked for an end-to-end run wants an error, not a silently skipped suite.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import urllib.parse
from collections.abc import Mapping
from typing import Any, Literal

import yaml

REQUIRED = ("E2E_KUBECONFIG", "E2E_HEADLAMP_URL")
OPERATOR_MODES = ("deployed", "local")
DEFAULT_IMAGE = "registry.k8s.io/pause:3.9"
DEFAULT_TIMEOUT = 120.0
NAMESPACE_PREFIX = "headlamp-e2e-"
NAMESPACE_LABEL = "headlamp-operator-e2e"


class E2EConfigError(ValueError):
    """An ``E2E_*`` variable is set to something the suite cannot use."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class E2EConfig:
    """Where the real cluster and Headlamp are, and how the suite runs against them."""

    kubeconfig: pathlib.Path
    """``E2E_KUBECONFIG``: one kubeconfig file for the cluster the suite creates its objects in."""

    context: str | None
    """``E2E_CONTEXT``: the kubeconfig context to use; None: the file's current context."""

    headlamp_url: str
    """``E2E_HEADLAMP_URL``: Headlamp's backend as seen from the machine running pytest (no trailing slash)."""

    cluster: str
    """``E2E_CLUSTER``: that cluster's name in Headlamp; default: the kubeconfig context's name."""

    operator: Literal["deployed", "local"]
    """``E2E_OPERATOR``: ``deployed`` (already running in the cluster) or ``local`` (started by the suite)."""

    image: str
    """``E2E_IMAGE``: the image of the suite's test Deployment (it only has to keep running)."""

    token: str | None = dataclasses.field(default=None, repr=False)
    """``E2E_TOKEN``: a bearer token for the resources' credentials; None: a ServiceAccount token is made."""

    backend_token: str | None = dataclasses.field(default=None, repr=False)
    """``E2E_HEADLAMP_BACKEND_TOKEN``: sent as ``X-HEADLAMP_BACKEND-TOKEN`` (and given to a local operator)."""

    timeout: float = DEFAULT_TIMEOUT
    """``E2E_TIMEOUT``: seconds every wait of a scenario may take."""

    keep_namespaces: bool = False
    """``E2E_KEEP_NAMESPACES``: leave each test's namespace behind for debugging (its resources are still deleted)."""


def skip_reason(environ: Mapping[str, str]) -> str | None:
    """Why the e2e scenarios are skipped in this environment, or None when they can run."""
    missing = [name for name in REQUIRED if not environ.get(name, "").strip()]
    if not missing:
        return None
    return (f"end-to-end scenarios need a real cluster and a real Headlamp: set E2E_KUBECONFIG and "
            f"E2E_HEADLAMP_URL (unset: {', '.join(missing)}); see tests/harness/e2e/README.md")


def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _boolean(environ: Mapping[str, str], name: str) -> bool:
    value = (_value(environ, name) or "false").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise E2EConfigError(f"{name}: not a boolean (true/false): {value!r}")


def _url(raw: str) -> str:
    parsed = urllib.parse.urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise E2EConfigError(f"E2E_HEADLAMP_URL: not an http(s) URL: {raw!r}")
    if parsed.query or parsed.fragment:
        raise E2EConfigError("E2E_HEADLAMP_URL: must not carry a query or a fragment")
    return raw.rstrip("/")


def _kubeconfig(raw: str) -> tuple[pathlib.Path, dict[str, Any]]:
    if os.pathsep in raw:  # KUBECONFIG-style lists (a:b); ';' on Windows, where ':' follows a drive letter
        raise E2EConfigError("E2E_KUBECONFIG: name one kubeconfig file, not a list (merge them with "
                             "`kubectl config view --flatten > e2e.kubeconfig`)")
    path = pathlib.Path(raw).expanduser()
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as e:
        raise E2EConfigError(f"E2E_KUBECONFIG: cannot read {str(path)!r}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise E2EConfigError(f"E2E_KUBECONFIG: {str(path)!r} is not YAML: {e}") from None
    if not isinstance(document, dict) or not isinstance(document.get("contexts"), list):
        raise E2EConfigError(f"E2E_KUBECONFIG: {str(path)!r} is not a kubeconfig (no contexts)")
    return path, document


def e2e_config(environ: Mapping[str, str]) -> E2EConfig | str:
    """The suite's configuration, or the reason to skip it when E2E_KUBECONFIG or E2E_HEADLAMP_URL is unset.

    Raises :class:`E2EConfigError` (naming the variable) when both are set but a value is unusable.
    """
    reason = skip_reason(environ)
    if reason is not None:
        return reason
    kubeconfig, document = _kubeconfig(environ["E2E_KUBECONFIG"].strip())
    contexts = [c.get("name") for c in document["contexts"] if isinstance(c, dict)]
    context = _value(environ, "E2E_CONTEXT")
    if context is not None and context not in contexts:
        raise E2EConfigError(f"E2E_CONTEXT: no context {context!r} in {str(kubeconfig)!r} "
                             f"(it has: {', '.join(map(str, contexts)) or 'none'})")
    chosen = context or document.get("current-context") or None
    if not chosen:
        raise E2EConfigError(f"E2E_KUBECONFIG: {str(kubeconfig)!r} has no current-context: set E2E_CONTEXT")
    operator = (_value(environ, "E2E_OPERATOR") or "deployed").lower()
    if operator not in OPERATOR_MODES:
        raise E2EConfigError(f"E2E_OPERATOR: {operator!r} is neither 'deployed' nor 'local'")
    raw_timeout = _value(environ, "E2E_TIMEOUT")
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else DEFAULT_TIMEOUT
    except ValueError:
        raise E2EConfigError(f"E2E_TIMEOUT: not a number of seconds: {raw_timeout!r}") from None
    if not timeout > 0:
        raise E2EConfigError(f"E2E_TIMEOUT: must be a positive number of seconds, not {raw_timeout!r}")
    backend_token = _value(environ, "E2E_HEADLAMP_BACKEND_TOKEN")
    if backend_token is not None and any(c in backend_token for c in "\r\n\0"):
        raise E2EConfigError("E2E_HEADLAMP_BACKEND_TOKEN: must be on one line")
    return E2EConfig(
        kubeconfig=kubeconfig,
        context=context,
        headlamp_url=_url(environ["E2E_HEADLAMP_URL"].strip()),
        cluster=_value(environ, "E2E_CLUSTER") or str(chosen),
        operator=operator,  # type: ignore[arg-type]  # checked against OPERATOR_MODES above
        image=_value(environ, "E2E_IMAGE") or DEFAULT_IMAGE,
        token=_value(environ, "E2E_TOKEN"),
        backend_token=backend_token,
        timeout=timeout,
        keep_namespaces=_boolean(environ, "E2E_KEEP_NAMESPACES"),
    )
