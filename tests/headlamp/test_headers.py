"""Each header the operator sends (docs/headlamp-backend.md#what-the-operator-sends) is present exactly when its
condition holds, as the emulator received it."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from headlamp_operator.headlamp import portforward, proxy, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import ANONYMOUS, Credentials, Secret
from headlamp_operator_testing.headlamp import HeadlampEmulator

from .conftest import KUBECONFIG, TOKEN_A, b64

FORWARD = {"namespace": "monitoring", "pod": "grafana-0", "target_port": "3000"}


async def test_every_request_sends_json_accept_and_content_type(hl: HeadlampEmulator, backend: Backend) -> None:
    await proxy.cluster_request(backend, "/api/v1", cluster="prod")
    await portforward.list_port_forwards(backend, "prod")
    assert len(hl.requests) == 2
    for request in hl.requests:
        assert request.headers.getall("Accept") == ["application/json"]
        assert request.headers.getall("Content-Type") == ["application/json"]


@pytest.mark.parametrize(("patch_type", "content_type", "body"), [
    ("merge", "application/merge-patch+json", {"spec": {"replicas": 2}}),
    ("json", "application/json-patch+json", [{"op": "replace", "path": "/spec/replicas", "value": 2}]),
    ("strategic", "application/strategic-merge-patch+json", {"spec": {"replicas": 2}}),
])
async def test_patch_overrides_content_type_per_patch_type(hl: HeadlampEmulator, backend: Backend,
                                                           patch_type: resources.PatchType, content_type: str,
                                                           body: object) -> None:
    answer = await resources.patch(backend, "/apis/apps/v1/namespaces/shop/deployments/web", body,
                                   cluster="prod", patch_type=patch_type)
    assert answer["spec"]["replicas"] == 2
    [request] = hl.requests_for(method="PATCH")
    assert request.headers.getall("Content-Type") == [content_type]
    assert request.headers.getall("Accept") == ["application/json"]
    assert request.json == body


async def test_backstage_token_on_every_request_only_when_configured(
        hl: HeadlampEmulator, make_backend: Callable[..., Backend]) -> None:
    async with make_backend(backstage_token=Secret("backstage-secret")) as backend:
        await proxy.cluster_request(backend, "/api/v1", cluster="prod")
    async with make_backend() as backend:
        await proxy.cluster_request(backend, "/api/v1", cluster="prod")
    with_token, without = hl.requests
    assert with_token.headers.getall("X-BACKSTAGE-TOKEN") == ["backstage-secret"]
    assert "X-BACKSTAGE-TOKEN" not in without.headers


async def test_backend_token_once_on_cluster_requests_only_when_configured(
        make_backend: Callable[..., Backend]) -> None:
    from headlamp_operator_testing.headlamp import HeadlampEmulator as Emulator
    async with Emulator(backend_token="backend-secret") as guarded:
        guarded.add_cluster("prod")
        async with make_backend(url=str(guarded.url), backend_token=Secret("backend-secret")) as backend:
            await proxy.cluster_request(backend, "/api/v1", cluster="prod")
            await portforward.list_port_forwards(backend, "prod")
        for request in guarded.requests:
            assert request.headers.getall("X-HEADLAMP_BACKEND-TOKEN") == ["backend-secret"]


async def test_no_backend_token_header_when_unconfigured(hl: HeadlampEmulator, backend: Backend) -> None:
    await portforward.list_port_forwards(backend, "prod")
    assert "X-HEADLAMP_BACKEND-TOKEN" not in hl.requests[0].headers


async def test_bearer_token_on_proxied_kubernetes_requests(hl: HeadlampEmulator, backend: Backend,
                                                          alice: Credentials) -> None:
    await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=alice)
    await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=ANONYMOUS)
    with_token, anonymous = hl.requests
    assert with_token.headers.getall("Authorization") == [f"Bearer {TOKEN_A}"]
    assert "Authorization" not in anonymous.headers
    assert "Cookie" not in anonymous.headers


async def test_port_forward_start_sends_session_cookies_not_authorization(
        hl: HeadlampEmulator, backend: Backend, alice: Credentials) -> None:
    await portforward.start_port_forward(backend, "prod", credentials=alice, **FORWARD)
    login, start = hl.requests
    assert login.path == "/clusters/prod/set-token" and login.json == {"token": TOKEN_A}
    assert start.path == "/clusters/prod/portforward" and start.method == "POST"
    assert "Authorization" not in start.headers
    assert start.cookies and all(name.startswith("headlamp-auth-prod.") for name in start.cookies)
    [forward] = hl.forwards_for("prod")
    assert forward.token == TOKEN_A  # the backend saw the user of the session, from cookies only


async def test_session_is_established_once_per_cluster_and_token(
        hl: HeadlampEmulator, backend: Backend, alice: Credentials) -> None:
    for _ in range(3):
        await portforward.list_port_forwards(backend, "prod", credentials=alice)
    assert len(hl.requests_for(path="/clusters/prod/set-token")) == 1


async def test_anonymous_port_forward_sends_no_cookie(hl: HeadlampEmulator, backend: Backend) -> None:
    await portforward.start_port_forward(backend, "prod", **FORWARD)
    [start] = hl.requests
    assert "Cookie" not in start.headers
    assert not hl.requests_for(path="/clusters/prod/set-token")


async def test_kubeconfig_credential_sends_kubeconfig_and_user_id(
        hl: HeadlampEmulator, backend: Backend, dynamic: Credentials) -> None:
    await proxy.cluster_request(backend, "/api/v1", cluster="dyn", credentials=dynamic)
    await portforward.list_port_forwards(backend, "dyn", credentials=dynamic)
    for request in hl.requests:
        assert request.headers.getall("KUBECONFIG") == [b64(KUBECONFIG)]
        assert "\n" not in request.headers["KUBECONFIG"]
        assert request.headers.getall("X-HEADLAMP-USER-ID") == ["user-1"]


async def test_no_dynamic_cluster_headers_without_kubeconfig(
        hl: HeadlampEmulator, backend: Backend, alice: Credentials) -> None:
    await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=alice)
    await portforward.list_port_forwards(backend, "prod", credentials=alice)
    for request in hl.requests:
        assert "KUBECONFIG" not in request.headers
        assert "X-HEADLAMP-USER-ID" not in request.headers


async def test_base_url_path_prefix_is_kept(make_backend: Callable[..., Backend]) -> None:
    async with HeadlampEmulator(base_path="/headlamp") as prefixed:
        prefixed.add_cluster("prod")
        async with make_backend(url=f"{prefixed.url}/") as backend:  # the URL carries /headlamp
            assert await portforward.list_port_forwards(backend, "prod") == []
        assert prefixed.requests[0].path == "/headlamp/clusters/prod/portforward/list"
