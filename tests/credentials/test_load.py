import base64
from typing import Any

import pytest

from headlamp_operator.kube.secrets import SecretValue, decode_secret_data
from headlamp_operator.reconciling import credentials, specs

KUBECONFIG = """
apiVersion: v1
kind: Config
contexts:
- name: prod
  context: {cluster: prod, user: u}
- name: long-context-name
  context:
    cluster: other
    user: u
    extensions:
    - name: headlamp_info
      extension: {customName: staging}
"""


def reader(secrets: dict[tuple[str, str], SecretValue]) -> credentials.SecretReader:
    async def read(namespace: str, name: str) -> SecretValue | None:
        return secrets.get((namespace, name))
    return read


async def load(spec: dict[str, Any], **kwargs: Any) -> credentials.Loaded:
    """The credentials of a spec as the handlers load them: parsed by specs, for the spec's cluster."""
    return await credentials.load(specs.credentials(spec), cluster=str(spec.get("cluster")), **kwargs)


def secret(uid: str, **data: str) -> SecretValue:
    return SecretValue(uid=uid, resource_version="7", data={k: v.encode() for k, v in data.items()})


async def test_token_from_the_resources_namespace() -> None:
    read = reader({("team-a", "viewer"): secret("u1", token="tok-123\n")})
    loaded = await load({"cluster": "prod", "credentials": {"tokenSecretRef": {"name": "viewer"}}},
                                    namespace="team-a", read_secret=read, allow_anonymous=False)
    assert loaded.credentials.token == "tok-123"  # trailing newline of `echo tok | kubectl create ...` trimmed
    assert loaded.versions == {"viewer": "7"}
    with pytest.raises(credentials.CredentialsError, match="team-b/viewer not found"):
        await load({"cluster": "prod", "credentials": {"tokenSecretRef": {"name": "viewer"}}},
                               namespace="team-b", read_secret=read, allow_anonymous=False)


async def test_missing_key_and_anonymous() -> None:
    read = reader({("ns", "s"): secret("u1", other="x")})
    with pytest.raises(credentials.CredentialsError, match="no key 'token'"):
        await load({"cluster": "c", "credentials": {"tokenSecretRef": {"name": "s"}}},
                               namespace="ns", read_secret=read, allow_anonymous=False)
    with pytest.raises(credentials.CredentialsError, match="anonymous use is disabled"):
        await load({"cluster": "c"}, namespace="ns", read_secret=read, allow_anonymous=False)
    loaded = await load({"cluster": "c"}, namespace="ns", read_secret=read, allow_anonymous=True)
    assert loaded.credentials.anonymous


@pytest.mark.parametrize(("cluster", "ok"), [("prod", True), ("staging", True), ("other", False)])
async def test_kubeconfig_needs_a_context_for_the_cluster(cluster: str, ok: bool) -> None:
    read = reader({("ns", "kc"): secret("uid-42", kubeconfig=KUBECONFIG)})
    spec = {"cluster": cluster, "credentials": {"kubeconfigSecretRef": {"name": "kc"}}}
    if not ok:
        with pytest.raises(credentials.CredentialsError, match="no context named 'other'"):
            await load(spec, namespace="ns", read_secret=read, allow_anonymous=False)
        return
    loaded = await load(spec, namespace="ns", read_secret=read, allow_anonymous=False)
    assert loaded.credentials.user_id == credentials.derived_user_id("uid-42")
    # byte for byte as the Secret holds it, newlines included (issue 11, kind 10;
    # docs/headlamp-backend.md#what-the-operator-sends)
    assert loaded.credentials.kubeconfig_header == base64.b64encode(KUBECONFIG.encode()).decode()
    assert KUBECONFIG.endswith("\n")


def test_user_ids_are_stable_and_distinct() -> None:
    assert credentials.derived_user_id("a") == credentials.derived_user_id("a")
    assert credentials.derived_user_id("a") != credentials.derived_user_id("b")


def test_secret_data_is_decoded() -> None:
    assert decode_secret_data({"token": base64.b64encode(b"t").decode(), "bad": "%%%"}) == {"token": b"t"}
