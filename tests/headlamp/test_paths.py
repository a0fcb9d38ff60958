"""No value from a resource can reach another backend route: refused before any request."""
from __future__ import annotations

import pytest

from headlamp_operator.headlamp import errors, paths, portforward, proxy, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import Credentials, Secret
from headlamp_operator_testing.headlamp import HeadlampEmulator


@pytest.mark.parametrize("cluster", ["a/../b", "..", "x?y", "x#y", "a b", "%2e%2e", "", "a\nb", "é"])
async def test_bad_cluster_names_are_refused_before_any_request(hl: HeadlampEmulator, backend: Backend,
                                                                cluster: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        await portforward.list_port_forwards(backend, cluster)
    with pytest.raises(errors.InvalidArgument):
        await proxy.cluster_request(backend, "/api/v1", cluster=cluster)
    assert hl.requests == []


@pytest.mark.parametrize("field", ["namespace", "pod", "service", "id"])
@pytest.mark.parametrize("value", ["../x", "a?b", "a/b", "a\r\nX-Injected: 1"])
async def test_bad_names_and_ids_are_refused_before_any_request(hl: HeadlampEmulator, backend: Backend,
                                                                field: str, value: str) -> None:
    kwargs = {"namespace": "monitoring", "pod": "grafana-0", "target_port": "3000", field: value}
    with pytest.raises(errors.InvalidArgument):
        await portforward.start_port_forward(backend, "prod", **kwargs)  # type: ignore[arg-type]
    assert hl.requests == []


async def test_ids_are_refused_on_stop_and_get(hl: HeadlampEmulator, backend: Backend) -> None:
    with pytest.raises(errors.InvalidArgument):
        await portforward.stop_or_delete_port_forward(backend, "prod", "../../set-token")
    with pytest.raises(errors.InvalidArgument):
        await portforward.get_port_forward(backend, "prod", "x&id=y")
    assert hl.requests == []


async def test_header_injection_through_a_token_is_refused(hl: HeadlampEmulator, backend: Backend) -> None:
    evil = Credentials(token=Secret("abc\r\nX-Evil: 1"))
    with pytest.raises(errors.InvalidArgument) as err:
        await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=evil)
    assert "abc" not in str(err.value)
    assert hl.requests == []


def test_object_paths_are_encoded_and_validated() -> None:
    assert paths.object_path(group_name="apps", version_name="v1", plural_name="deployments",
                             namespace_name="shop", object_name="web", subresource_name="scale") == \
        "/apis/apps/v1/namespaces/shop/deployments/web/scale"
    assert paths.object_path(group_name="", version_name="v1", plural_name="namespaces",
                             namespace_name=None, object_name="shop") == "/api/v1/namespaces/shop"
    assert paths.cluster_path("user@ctx:1", "/x") == "/clusters/user%40ctx%3A1/x"
    for bad in ({"group_name": "apps/../x"}, {"version_name": "v1/.."}, {"subresource_name": "exec"}):
        args = {"group_name": "apps", "version_name": "v1", "plural_name": "deployments",
                "namespace_name": "shop", "object_name": "web", **bad}
        with pytest.raises(errors.InvalidArgument):
            paths.object_path(**args)  # type: ignore[arg-type]


async def test_discovered_plurals_are_validated(hl: HeadlampEmulator, backend: Backend) -> None:
    resource = await resources.discover(backend, "prod", api_version="apps/v1", kind="Deployment")
    assert resource.path(namespace="shop", name="web") == "/apis/apps/v1/namespaces/shop/deployments/web"
