"""The operator's own Kubernetes client: kopf's credentials, JSON over aiohttp, a new login after a 401."""
from __future__ import annotations

import logging
import pathlib
import sys

import kmock
import kopf
import pytest

from headlamp_operator.kube import api as kubeapi
from headlamp_operator.kube import login
from headlamp_operator_testing.kubernetes import KubernetesEmulator, write_kubeconfig

Kube = tuple[KubernetesEmulator, kmock.Server]


async def test_a_404_is_none_and_an_answer_is_json(kube: Kube) -> None:
    emulator, server = kube
    emulator.create_object("", "v1", "namespaces", None, {"metadata": {"name": "team-a"}})
    api = kubeapi.KubeApi(lambda: kopf.ConnectionInfo(server=str(server.url).rstrip("/")))
    try:
        assert await api.get("/api/v1/namespaces/team-a/secrets/nope") is None
        namespace = await api.get("/api/v1/namespaces/team-a")
        assert namespace["metadata"]["name"] == "team-a"
    finally:
        await api.close()


async def test_a_401_logs_in_again_once(kube: Kube) -> None:
    emulator, server = kube
    emulator["get /api/v1/namespaces/team-a/secrets/guarded"] << 401
    logins: list[int] = []

    def connect() -> kopf.ConnectionInfo:
        logins.append(1)
        return kopf.ConnectionInfo(server=str(server.url).rstrip("/"), token=f"token-{len(logins)}")

    api = kubeapi.KubeApi(connect)
    try:
        with pytest.raises(kubeapi.KubeApiError) as error:
            await api.get("/api/v1/namespaces/team-a/secrets/guarded")
    finally:
        await api.close()
    assert error.value.status == 401
    assert len(logins) == 2  # the expired credentials were replaced once, then the refusal stands
    sent = [r.headers.get("Authorization") for r in emulator.answered
            if r.url.path == "/api/v1/namespaces/team-a/secrets/guarded"]
    assert sent == ["Bearer token-1", "Bearer token-2"]


def test_connect_reads_a_token_kubeconfig_without_the_official_client(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_kubeconfig("https://127.0.0.1:6443", tmp_path / "kubeconfig", token="t0ken-1234")
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # as in the image: the official client is not installed
    info = login.connect()
    assert info.server == "https://127.0.0.1:6443" and info.as_http_headers() == {"Authorization": "Bearer t0ken-1234"}


def test_connect_names_the_missing_client_for_a_plugin_user(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("""
apiVersion: v1
kind: Config
current-context: eks
clusters: [{name: eks, cluster: {server: "https://eks.example:443"}}]
users: [{name: eks, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}}}]
contexts: [{name: eks, context: {cluster: eks, user: eks}}]
""")
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    login._warn_no_credentials.cache_clear()  # as in a new process
    with caplog.at_level(logging.WARNING, logger="headlamp_operator.kube.login"):
        info = login.connect()
        login.connect()  # kopf's login and the operator's own client both connect: one warning
    assert info.server == "https://eks.example:443" and not info.token
    assert caplog.text.count("install headlamp-operator[kubernetes]") == 1
