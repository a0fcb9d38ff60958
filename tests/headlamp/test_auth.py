"""Sessions: the logout chain on 401, jars never shared between tokens, discovery cache and X-Reload."""
from __future__ import annotations

import pytest

from headlamp_operator.headlamp import errors, portforward, proxy, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import ANONYMOUS, Credentials
from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.headlamp.sessions import token_from_cookies

from .conftest import TOKEN_A, TOKEN_B


async def test_401_with_a_credential_logs_out(hl: HeadlampEmulator, backend: Backend, alice: Credentials) -> None:
    await portforward.list_port_forwards(backend, "prod", credentials=alice)  # a session exists
    await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment", credentials=alice)
    assert backend.logins(alice.key) == 1 and backend.discoveries(alice.key) == 1
    hl.clusters["prod"].refuse_token(TOKEN_A)
    hl.clear_requests()

    with pytest.raises(errors.UnauthorizedError) as err:
        await proxy.cluster_request(backend, "/apis/apps/v1/namespaces/shop/deployments/web", cluster="prod",
                                    credentials=alice)
    assert err.value.status == 401
    refused, logout = hl.requests
    assert refused.headers["Authorization"] == f"Bearer {TOKEN_A}"
    assert (logout.method, logout.path, logout.json) == ("POST", "/clusters/prod/set-token", {"token": None})
    assert logout.cookies  # the logout reaches the session it ends
    assert backend.logins(alice.key) == 0
    assert backend.discoveries(alice.key) == 0


async def test_401_without_a_credential_does_not_log_out(hl: HeadlampEmulator, backend: Backend) -> None:
    hl.fail_next(1, status=401, body='{"kind":"Status","message":"Unauthorized"}', content_type="application/json")
    with pytest.raises(errors.UnauthorizedError):
        await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=ANONYMOUS)
    assert not hl.requests_for(path="/clusters/prod/set-token")


async def test_401_with_auto_logout_off_does_not_log_out(hl: HeadlampEmulator, backend: Backend,
                                                         alice: Credentials) -> None:
    hl.clusters["prod"].refuse_token(TOKEN_A)
    with pytest.raises(errors.UnauthorizedError):
        await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=alice,
                                    auto_logout_on_auth_error=False)
    assert not hl.requests_for(path="/clusters/prod/set-token")


async def test_after_logout_the_next_call_logs_in_again(hl: HeadlampEmulator, backend: Backend,
                                                        alice: Credentials) -> None:
    await portforward.list_port_forwards(backend, "prod", credentials=alice)
    hl.clusters["prod"].refuse_token(TOKEN_A)
    with pytest.raises(errors.UnauthorizedError):
        await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=alice)
    await portforward.list_port_forwards(backend, "prod", credentials=alice)
    logins = [r.json for r in hl.requests_for(path="/clusters/prod/set-token")]
    assert logins == [{"token": TOKEN_A}, {"token": None}, {"token": TOKEN_A}]


async def test_two_tokens_never_see_each_others_cookies(hl: HeadlampEmulator, backend: Backend,
                                                       alice: Credentials, bob: Credentials) -> None:
    await portforward.start_port_forward(backend, "prod", id="pf-a", namespace="monitoring", pod="grafana-0",
                                         target_port="3000", credentials=alice)
    await portforward.start_port_forward(backend, "prod", id="pf-b", namespace="monitoring", pod="grafana-0",
                                         target_port="3000", credentials=bob)
    await portforward.list_port_forwards(backend, "prod", credentials=alice)
    await portforward.list_port_forwards(backend, "prod", credentials=bob)
    starts = {r.json["id"]: r for r in hl.requests_for(method="POST", path="/clusters/prod/portforward")}
    assert starts["pf-a"].cookies != starts["pf-b"].cookies
    forwards = {f.id: f.token for f in hl.forwards_for("prod")}
    assert forwards == {"pf-a": TOKEN_A, "pf-b": TOKEN_B}
    # every request carried the session of its own token, and only that one
    lists = hl.requests_for(path="/clusters/prod/portforward/list")
    assert [token_from_cookies("prod", r.cookies) for r in lists] == [TOKEN_A, TOKEN_B]


async def test_discovery_is_cached_and_x_reload_drops_it(hl: HeadlampEmulator, backend: Backend) -> None:
    first = await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")
    again = await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")
    assert first == again and first.plural == "deployments" and first.namespaced
    assert "scale" in first.subresources
    assert len(hl.requests_for(path="/clusters/prod/apis/apps/v1")) == 1

    reloaded: list[bool] = []
    backend.on_reload(lambda: reloaded.append(True))
    hl.reload = True
    await portforward.list_port_forwards(backend, "prod")
    hl.reload = False
    assert reloaded == [True]
    assert backend.discoveries() == 0
    await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")
    assert len(hl.requests_for(path="/clusters/prod/apis/apps/v1")) == 2


async def test_discovery_caches_are_per_credential(hl: HeadlampEmulator, backend: Backend,
                                                   alice: Credentials, bob: Credentials) -> None:
    await resources.discover(backend, "prod", api_version="v1", kind="Pod", credentials=alice)
    await resources.discover(backend, "prod", api_version="v1", kind="Pod", credentials=bob)
    requests = hl.requests_for(path="/clusters/prod/api/v1")
    assert [r.headers["Authorization"] for r in requests] == [f"Bearer {TOKEN_A}", f"Bearer {TOKEN_B}"]


async def test_the_backend_token_403(make_backend: object) -> None:
    async with HeadlampEmulator(backend_token="right") as guarded:
        guarded.add_cluster("prod")
        async with make_backend(url=str(guarded.url)) as backend:  # type: ignore[operator]
            with pytest.raises(errors.ForbiddenError) as err:
                await portforward.list_port_forwards(backend, "prod")
    assert err.value.message == "Forbidden - access denied"
    assert not err.value.transient


async def test_concurrent_discovery_is_one_request(hl: HeadlampEmulator, backend: Backend) -> None:
    import asyncio
    found = await asyncio.gather(*(resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")
                                   for _ in range(20)))
    assert {r.plural for r in found} == {"deployments"}
    assert len(hl.requests_for(path="/clusters/prod/apis/apps/v1")) == 1
    assert backend.discoveries() == 1  # one answer kept, nothing else


async def test_a_failed_discovery_reaches_its_waiters_and_is_not_kept(hl: HeadlampEmulator, backend: Backend) -> None:
    import asyncio
    hl.fail_next(1, status=503, path="/clusters/prod/apis/apps/v1")
    found = await asyncio.gather(*(resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")
                                   for _ in range(5)), return_exceptions=True)
    assert [getattr(f, "status", f) for f in found] == [503] * 5
    assert len(hl.requests_for(path="/clusters/prod/apis/apps/v1")) == 1  # one request, its error shared
    assert (await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")).plural == "deployments"
    assert len(hl.requests_for(path="/clusters/prod/apis/apps/v1")) == 2  # the failure was not kept
