"""Credentials before any request, and a Failed resource retried when one of its Secrets changes
(docs/credentials.md#rotation-without-restart)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headlamp_operator.reconciling import credentials, specs
from headlamp_operator.scheduling.state import Runtime
from headlamp_operator.status import outcomes
from headlamp_operator.status.outcomes import Result


async def secret_versions(runtime: Runtime, body: Mapping[str, Any]) -> dict[str, str | None]:
    """The current resourceVersions of the Secrets a resource names (None for a missing one), valid spec or not."""
    named = specs.credentials(body.get("spec") or {})
    versions: dict[str, str | None] = {}
    for ref in (named.references().values() if named is not None else ()):
        secret = await runtime.read_secret(body["metadata"]["namespace"], ref.name)
        versions[ref.name] = secret.resource_version if secret is not None else None
    return versions


async def prepare(runtime: Runtime, spec: specs.PortForwardSpec | specs.ResourcePatchSpec | list[str], *,
                  namespace: str) -> credentials.Loaded | Result:
    """Before any request: a spec's problems fail it (InvalidSpec), else its credentials are loaded."""
    if isinstance(spec, list):
        return outcomes.invalid("InvalidSpec", "; ".join(spec))
    try:
        return await credentials.load(spec.credentials, cluster=spec.cluster, namespace=namespace,
                                      read_secret=runtime.read_secret,
                                      allow_anonymous=runtime.settings.reconcile.allow_anonymous,
                                      user_id=runtime.settings.backend.user_id)
    except credentials.CredentialsError as e:
        return outcomes.invalid("InvalidCredentials", str(e))


Versions = Mapping[str, str | None]  # Secret name -> resourceVersion (None: missing)


def remember(runtime: Runtime, body: Mapping[str, Any], result: Result, *, versions: Versions) -> None:
    """After a permanent failure, note the Secret versions it happened with (docs/status.md#retries: retried when they
    change).

    ``versions`` are those read BEFORE the attempt: a Secret rotated while a slow request was under way
    is then noticed as a change, not taken for the version the failure happened with.
    """
    uid = body["metadata"]["uid"]
    if result.transient or result.outcome.ready:
        runtime.blocked.pop(uid, None)
    else:
        runtime.blocked[uid] = versions


async def secrets_changed(runtime: Runtime, body: Mapping[str, Any]) -> Versions | None:
    """The current versions of a Failed resource's Secrets when one changed since it failed (it may try again,
    and these are what it tries with); None when none did."""
    uid = body["metadata"]["uid"]
    recorded = runtime.blocked.get(uid)
    current = await secret_versions(runtime, body)
    if recorded is None:  # after a restart nothing is recorded: try once, then remember
        runtime.blocked[uid] = current
        return current
    return current if dict(recorded) != current else None
