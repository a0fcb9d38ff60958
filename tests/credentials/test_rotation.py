"""A rotated token leaves nothing behind in the running operator: its login, discovery and resolutions go."""
from __future__ import annotations

from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.kopf_harness import wait_until
from tests.harness.memory import SYNC, TOKEN_A, Env

ROTATED = "team-a-rotated-token-0123456789"
SERVICE = {"cluster": "prod", "service": "grafana", "namespace": "monitoring", "targetPort": "http",
           "credentials": {"tokenSecretRef": {"name": "viewer"}}}


async def test_a_rotated_token_leaves_nothing_behind(env: Env) -> None:
    await env.create("portforwards", "team-a", "grafana", SERVICE)
    await env.wait_status("portforwards", "team-a", "grafana", phase="Running")
    backend = env.runtime.open_backend
    old, rotated = Credentials(token=Secret(TOKEN_A)), Credentials(token=Secret(ROTATED))
    assert backend.logins() == backend.logins(old.key) == 1  # the session that started the forward

    await env.put_secret("team-a", "viewer", token=ROTATED)
    # The next health check reads the Secret, finds it changed, and the old credential is retired.
    await wait_until(lambda: not backend.remembers(old.key), within=10 * SYNC, message="the old token forgotten")
    assert backend.logins() == 0

    await env.patch_spec("portforwards", "team-a", "grafana", {"state": "Stopped"})
    await env.wait_status("portforwards", "team-a", "grafana", phase="Stopped")
    assert backend.logins() == backend.logins(rotated.key) == 1  # only the rotated token's session
    assert [r.json for r in env.hl.requests_for(path="/clusters/prod/set-token")] == [
        {"token": TOKEN_A}, {"token": ROTATED}]
