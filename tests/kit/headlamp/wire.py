"""What the emulator's tests say over the wire: requests to the emulator and checks of its answers."""
import base64
from typing import Any

import aiohttp
import yaml

from headlamp_operator_testing.headlamp import HeadlampEmulator

GO_TEXT = "text/plain; charset=utf-8"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
DEPLOY = "clusters/prod/apis/apps/v1/namespaces/default/deployments/web"
FORWARD = {"namespace": "default", "pod": "web-0", "targetPort": "3000"}


async def call(
    http: aiohttp.ClientSession, hl: HeadlampEmulator, method: str, path: str, **kwargs: Any
) -> tuple[aiohttp.ClientResponse, bytes]:
    async with http.request(method, hl.url / path, **kwargs) as response:
        return response, await response.read()


def cookies_of(response: aiohttp.ClientResponse) -> dict[str, str]:
    """Name -> value of the Set-Cookie headers (what a browser would send back)."""
    return {h.split(";")[0].split("=", 1)[0]: h.split(";")[0].split("=", 1)[1]
            for h in response.headers.getall("Set-Cookie", [])}


async def login(http: aiohttp.ClientSession, hl: HeadlampEmulator, token: str, cluster: str = "prod",
                **kwargs: Any) -> dict[str, str]:
    response, _ = await call(http, hl, "POST", f"clusters/{cluster}/set-token", json={"token": token}, **kwargs)
    assert response.status == 200
    return cookies_of(response)


async def start(http: aiohttp.ClientSession, hl: HeadlampEmulator, cluster: str = "prod",
                **kwargs: Any) -> tuple[aiohttp.ClientResponse, bytes]:
    kwargs.setdefault("json", FORWARD)
    return await call(http, hl, "POST", f"clusters/{cluster}/portforward", **kwargs)


async def listing(http: aiohttp.ClientSession, hl: HeadlampEmulator, cluster: str = "prod",
                  **kwargs: Any) -> list[dict[str, str]]:
    async with http.get(hl.url / f"clusters/{cluster}/portforward/list", **kwargs) as response:
        assert response.status == 200
        result: list[dict[str, str]] = await response.json()
        return result


def assert_go_error(response: aiohttp.ClientResponse, body: bytes, status: int, message: str) -> None:
    assert (response.status, response.headers["Content-Type"], body.decode()) == (status, GO_TEXT, message + "\n")


def assert_status(response: aiohttp.ClientResponse, doc: Any, code: int, reason: str) -> None:
    assert response.status == code
    assert response.headers["Content-Type"] == "application/json"
    assert {k: doc[k] for k in ("kind", "apiVersion", "status", "reason", "code")} == {
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code}
    assert isinstance(doc["message"], str) and doc["message"]


def kubeconfig(contexts: list[dict[str, Any]], *, token: str = "kube-token") -> str:
    doc = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": "https://prod.example:6443"}},
                     {"name": "gone", "cluster": {"server": "https://gone.example:6443"}}],
        "users": [{"name": "me", "user": {"token": token}}],
        "contexts": contexts,
    }
    return base64.b64encode(yaml.safe_dump(doc).encode()).decode()
