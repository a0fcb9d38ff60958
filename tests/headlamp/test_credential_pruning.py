"""Nothing of a credential outlives it: a logout, a rotated token (its Secret changed), the bound on logins;
and what is derived from a credential alone (a kubeconfig's secrets) is computed once per credential.

Driven over HTTP against the Headlamp emulator; what is kept is observed through the Backend's
public methods (``logins``, ``discoveries``, ``remembers``) and the requests the emulator saw.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest

from headlamp_operator.headlamp import errors, portforward, proxy, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.reconciling import targets
from headlamp_operator.reconciling.specs import PortForwardSpec
from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.headlamp import HeadlampEmulator

from .conftest import KUBECONFIG, TOKEN_A, TOKEN_B, b64

ROTATED = "token-rotated-0123456789abcdef0123456"
SERVICE_PATH = "/clusters/prod/api/v1/namespaces/monitoring/services/grafana"
SPEC = PortForwardSpec(cluster="prod", service="grafana", namespace="monitoring", target_port="http")


def from_secret(token: str, namespace: str, name: str) -> Credentials:
    """A token credential as credentials.load makes it: it knows the Secret it came from."""
    return Credentials(token=Secret(token), sources=frozenset({(namespace, name)}))


@pytest.fixture()
def resolutions(hl: HeadlampEmulator, backend: Backend) -> targets.Resolutions:
    hl.clusters["prod"].add_service("monitoring", "grafana", selector={"app": "grafana"},
                                    ports=[{"name": "http", "port": 80, "targetPort": "web"}])
    shared = targets.Resolutions(ttl=600)
    backend.on_forget(shared.forget)  # as registration.serving wires it
    return shared


async def keep_everything(backend: Backend, credentials: Credentials, resolutions: targets.Resolutions) -> None:
    """Use a credential the ways that leave something behind: a login, discovery, a service resolution."""
    await portforward.list_port_forwards(backend, "prod", credentials=credentials)
    await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment", credentials=credentials)
    await targets.resolve(backend, SPEC, namespace="monitoring", credentials=credentials, resolutions=resolutions)


def service_reads(hl: HeadlampEmulator, token: str) -> int:
    return sum(1 for r in hl.requests_for(path=SERVICE_PATH) if r.headers.get("Authorization") == f"Bearer {token}")


async def test_a_rotated_token_leaves_nothing_behind(hl: HeadlampEmulator, backend: Backend,
                                                    resolutions: targets.Resolutions) -> None:
    old = from_secret(TOKEN_A, "team-a", "viewer")
    other = from_secret(TOKEN_B, "team-b", "viewer")
    for credentials in (old, other):
        await keep_everything(backend, credentials, resolutions)
    assert (backend.logins(), backend.discoveries()) == (2, 2)

    backend.retire_source("team-a", "viewer")  # what the Secret reader reports when it finds the token rotated

    assert not backend.remembers(old.key)
    assert (backend.logins(), backend.discoveries()) == (1, 1)
    assert backend.remembers(other.key) and backend.logins(other.key) == 1  # another team's Secret: untouched
    await targets.resolve(backend, SPEC, namespace="monitoring", credentials=other, resolutions=resolutions)
    assert service_reads(hl, TOKEN_B) == 1  # its resolution is still shared

    rotated = from_secret(ROTATED, "team-a", "viewer")
    await keep_everything(backend, rotated, resolutions)
    assert (backend.logins(), backend.discoveries()) == (2, 2)  # the rotated token's, and the other's
    assert [r.json for r in hl.requests_for(path="/clusters/prod/set-token")][-1] == {"token": ROTATED}
    await targets.resolve(backend, SPEC, namespace="monitoring", credentials=old, resolutions=resolutions)
    assert service_reads(hl, TOKEN_A) == 2  # the old token's resolution went with it


async def test_a_logout_leaves_nothing_of_that_credential_at_that_cluster(
        hl: HeadlampEmulator, backend: Backend, resolutions: targets.Resolutions) -> None:
    alice = from_secret(TOKEN_A, "team-a", "viewer")
    await keep_everything(backend, alice, resolutions)
    assert (backend.logins(alice.key), backend.discoveries(alice.key)) == (1, 1)
    hl.clusters["prod"].refuse_token(TOKEN_A)
    with pytest.raises(errors.UnauthorizedError):
        await proxy.cluster_request(backend, "/api/v1/namespaces/monitoring/pods", cluster="prod", credentials=alice)
    assert (backend.logins(alice.key), backend.discoveries(alice.key)) == (0, 0)  # the jar and its lock too
    hl.clusters["prod"].allow_token(TOKEN_A)
    await targets.resolve(backend, SPEC, namespace="monitoring", credentials=alice, resolutions=resolutions)
    assert service_reads(hl, TOKEN_A) == 2  # the resolution went with the session


async def test_logins_are_bounded_the_least_recently_used_go_first(
        hl: HeadlampEmulator, make_backend: Callable[..., Backend]) -> None:
    tokens = [f"token-{i:032d}" for i in range(4)]
    async with make_backend() as backend:
        backend.max_logins = 3
        for token in tokens[:3]:
            await portforward.list_port_forwards(backend, "prod", credentials=Credentials(token=Secret(token)))
        await portforward.list_port_forwards(backend, "prod", credentials=Credentials(token=Secret(tokens[0])))
        await portforward.list_port_forwards(backend, "prod", credentials=Credentials(token=Secret(tokens[3])))
        assert backend.logins() == 3
        kept = [token for token in tokens if backend.logins(Credentials(token=Secret(token)).key)]
        assert kept == [tokens[0], tokens[2], tokens[3]]  # tokens[1] was used least recently


async def test_a_kubeconfig_is_parsed_once_per_credential_and_goes_with_it(hl: HeadlampEmulator,
                                                                          backend: Backend) -> None:
    def load() -> Credentials:  # the same Secret loaded by two reconciles: equal values, two objects
        return Credentials(kubeconfig=Secret(KUBECONFIG), user_id="user-1",
                           sources=frozenset({("team-a", "kubeconfig")}))

    first, again = load(), load()
    hl.fail_next(1, status=500, body=f"user kubeconfig-user-token-1234567890 in {b64(KUBECONFIG)}")
    with pytest.raises(errors.ServerError) as err:
        await proxy.cluster_request(backend, "/api/v1", cluster="dyn", credentials=first)
    assert "kubeconfig-user-token" not in err.value.message and b64(KUBECONFIG) not in err.value.message
    assert backend.remembers(first.key)
    assert backend.secrets_of(again) is backend.secrets_of(first)  # parsed for the first request, kept since
    assert "kubeconfig-user-token-1234567890" in backend.secrets_of(again)
    backend.retire_source("team-a", "kubeconfig")
    assert not backend.remembers(first.key)
