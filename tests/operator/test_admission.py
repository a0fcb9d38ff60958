"""The validating webhook: real AdmissionReview requests over HTTPS to kopf's admission server."""
from __future__ import annotations

import asyncio
import json
import pathlib
import socket
import ssl
import uuid
from typing import Any

import aiohttp
import pytest

from headlamp_operator import certificates
from headlamp_operator.handlers import webhookserver
from headlamp_operator.reconciling import validation
from headlamp_operator.settings import WebhookSettings
from tests.harness.memory import GROUP, VERSION, OperatorFactory

PF = {"cluster": "prod", "service": "grafana", "targetPort": "http",
      "credentials": {"tokenSecretRef": {"name": "viewer"}}}
RP = {"cluster": "prod", "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
      "patch": {"spec": {"replicas": 2}}, "credentials": {"tokenSecretRef": {"name": "viewer"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def review(plural: str, kind: str, spec: Any, *, operation: str = "CREATE", old_spec: Any = None) -> dict[str, Any]:
    """An AdmissionReview; an UPDATE's oldObject has ``old_spec`` (default: the same spec)."""
    obj = {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind,
           "metadata": {"name": "x", "namespace": "team-a", "uid": str(uuid.uuid4())}, "spec": spec}
    old = {**obj, "metadata": {**obj["metadata"], "labels": {"before": "yes"}},
           "spec": spec if old_spec is None else old_spec}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": str(uuid.uuid4()), "kind": {"group": GROUP, "version": VERSION, "kind": kind},
        "resource": {"group": GROUP, "version": VERSION, "resource": plural},
        "requestKind": {"group": GROUP, "version": VERSION, "kind": kind},
        "requestResource": {"group": GROUP, "version": VERSION, "resource": plural},
        "name": "x", "namespace": "team-a", "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": obj, "oldObject": old if operation == "UPDATE" else None, "dryRun": False, "options": {}}}


CASES = [
    ("portforwards", "PortForward", PF, True, ""),
    ("portforwards", "PortForward", {**PF, "service": None, "targetPort": None}, False,
     "set spec.pod or spec.service (or spec.id alone to adopt an existing forward)"),
    ("portforwards", "PortForward", {**PF, "pod": "grafana-0"}, False, "set either spec.pod or spec.service, not both"),
    ("portforwards", "PortForward",
     {**PF, "credentials": {"tokenSecretRef": {"name": "t", "namespace": "kube-system"}}},
     False, "Secrets are read from the resource's own namespace"),
    ("resourcepatches", "ResourcePatch", RP, True, ""),
    ("resourcepatches", "ResourcePatch", {**RP, "patchType": "json", "patch": {"spec": {}}}, False,
     "a json patch must be a non-empty list of RFC 6902 operations"),
    ("resourcepatches", "ResourcePatch", {**RP, "patchType": "json", "patch": [{"op": "jump", "path": "/x"}]}, False,
     "spec.patch[0].op 'jump' must be one of"),
    ("resourcepatches", "ResourcePatch", {**RP, "patch": ["a"]}, False, "a merge patch must be an object"),
    ("resourcepatches", "ResourcePatch", {**RP, "patchType": "strategic", "patch": 3}, False,
     "a strategic patch must be an object"),
    ("resourcepatches", "ResourcePatch", {**RP, "reapplyInterval": "soon"}, False, "is not a duration"),
    ("resourcepatches", "ResourcePatch", {**RP, "reapplyInterval": "10s"}, False, "under the minimum of 30s"),
    ("resourcepatches", "ResourcePatch", {**RP, "revertOnDelete": True}, True, ""),
    ("resourcepatches", "ResourcePatch", {**RP, "patchType": "strategic", "revertOnDelete": True}, False,
     validation.REVERT_STRATEGIC),
    ("resourcepatches", "ResourcePatch", {**RP, "dryRun": "yes"}, False, "spec.dryRun must be true or false"),
    ("resourcepatches", "ResourcePatch",
     {**RP, "dryRun": True, "patchType": "json",
      "patch": [{"op": "add", "path": f"/metadata/labels/label-{i}", "value": "x"} for i in range(400)]},
     False, "over the 8192-byte limit of status.preview"),
]


async def answers(start_operator: OperatorFactory, tmp_path: pathlib.Path,
                  reviews: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The admission server's ``response`` to each (plural, review), posted over verified HTTPS in order."""
    results = await posted(start_operator, tmp_path, [(plural, json.dumps(body).encode()) for plural, body in reviews])
    assert [status for status, _ in results] == [200] * len(reviews), results
    return [json.loads(body)["response"] for _, body in results]


async def posted(start_operator: OperatorFactory, tmp_path: pathlib.Path,
                 bodies: list[tuple[str, bytes]]) -> list[tuple[int, bytes]]:
    """The admission server's (HTTP status, body) for each (plural, request body), over verified HTTPS in order."""
    bundle = certificates.generate(tmp_path, ["127.0.0.1", "localhost"])
    port = free_port()
    webhook = WebhookSettings(port=port, addr="127.0.0.1", host="127.0.0.1", certfile=str(bundle.certfile),
                              pkeyfile=str(bundle.pkeyfile), cafile=str(bundle.cafile))
    context = ssl.create_default_context(cafile=str(bundle.cafile))  # verifies the server's certificate
    async with start_operator(webhook=webhook, min_reapply_interval=30.0) as env, aiohttp.ClientSession() as session:
        async def up() -> bool:
            try:
                async with session.post(f"https://127.0.0.1:{port}/validate-portforwards", ssl=context,
                                        json=review("portforwards", "PortForward", PF)) as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10  # the admission server starts shortly after kopf is ready
        while not await up():
            assert loop.time() < deadline, "the admission server did not start within 10 s"
            await asyncio.sleep(0.05)
        results = []
        for plural, body in bodies:
            async with session.post(f"https://127.0.0.1:{port}/validate-{plural}", ssl=context, data=body,
                                    headers={"Content-Type": "application/json"}) as response:
                results.append((response.status, await response.read()))
        assert env.hl.requests == []  # admission never reaches the backend
    return results


async def test_admission_reviews_over_https(start_operator: OperatorFactory, tmp_path: pathlib.Path) -> None:
    results = await answers(start_operator, tmp_path,
                            [(plural, review(plural, kind, spec)) for plural, kind, spec, _, _ in CASES])
    for (_, _, _, allowed, words), answer in zip(CASES, results, strict=True):
        assert answer["allowed"] is allowed, answer
        if not allowed:
            assert answer["status"]["code"] == 422
            assert words in answer["status"]["message"], answer["status"]["message"]


BAD_PF = {**PF, "pod": "grafana-0"}
BAD_RP = {**RP, "patchType": "json", "patch": {"spec": {}}}


async def test_an_update_judges_only_a_spec_it_changes(start_operator: OperatorFactory,
                                                      tmp_path: pathlib.Path) -> None:
    """A resource stored invalid (webhook away, or an upgrade refusing more) keeps writable metadata.

    Its finalizer, labels and retry annotation are updates that leave the spec as it was: allowed, as
    Kubernetes ratchets CRD validation. An update that changes the spec is judged, also from invalid.
    """
    cases = [
        ("portforwards", review("portforwards", "PortForward", BAD_PF, operation="UPDATE"), True),
        ("resourcepatches", review("resourcepatches", "ResourcePatch", BAD_RP, operation="UPDATE"), True),
        ("portforwards", review("portforwards", "PortForward", BAD_PF, operation="UPDATE", old_spec=PF), False),
        ("resourcepatches", review("resourcepatches", "ResourcePatch", BAD_RP, operation="UPDATE",
                                   old_spec={**BAD_RP, "patch": {"x": 1}}), False),
        ("portforwards", review("portforwards", "PortForward", BAD_PF), False),  # a creation is always judged
    ]
    results = await answers(start_operator, tmp_path, [(plural, body) for plural, body, _ in cases])
    assert [answer["allowed"] for answer in results] == [allowed for _, _, allowed in cases], results


def blob(size: int) -> dict[str, Any]:
    """A merge patch of about ``size`` bytes as JSON."""
    return {"data": {"blob": "x" * size}}


async def test_large_reviews_get_a_verdict_up_to_twice_the_api_servers_request_limit(
        start_operator: OperatorFactory, tmp_path: pathlib.Path) -> None:
    """issue 22, section 9: kopf's aiohttp server read 1 MiB and answered 413 above (admitted, failurePolicy Ignore).

    A ResourcePatch of about 2 MiB is judged (too large: refused, naming the limit); an UPDATE carrying two
    objects of about 1.2 MiB each is judged; one carrying two objects near kube-apiserver's 3 MiB request limit
    is judged; only a body over the server's limit is refused unread (413).
    """
    near_limit = blob(validation.MAX_PATCH_BYTES - 100)  # valid: under the patch size limit
    api_limit = 3 * 1024 * 1024  # kube-apiserver's MaxRequestBodyBytes
    cases = [
        review("resourcepatches", "ResourcePatch", {**RP, "patch": blob(2 * 1024 * 1024)}),
        review("resourcepatches", "ResourcePatch", {**RP, "patch": near_limit}),
        review("resourcepatches", "ResourcePatch", {**RP, "patchType": "json", "patch": near_limit},
               operation="UPDATE", old_spec={**RP, "patch": near_limit}),
        review("resourcepatches", "ResourcePatch", {**RP, "patch": blob(api_limit)}, operation="UPDATE",
               old_spec={**RP, "patch": blob(api_limit - 10)}),
    ]
    bodies = [("resourcepatches", json.dumps(body).encode()) for body in cases]
    sizes = [len(body) for _, body in bodies]
    assert sizes[0] > 2 * 1024 * 1024 and sizes[2] > 2 * validation.MAX_PATCH_BYTES and sizes[3] > 2 * api_limit
    too_large = json.dumps(review("resourcepatches", "ResourcePatch",
                                  {**RP, "patch": blob(webhookserver.MAX_REVIEW_BYTES)})).encode()
    results = await posted(start_operator, tmp_path, [*bodies, ("resourcepatches", too_large)])
    assert [status for status, _ in results] == [200, 200, 200, 200, 413], [status for status, _ in results]
    verdicts = [json.loads(body)["response"] for _, body in results[:4]]
    assert [verdict["allowed"] for verdict in verdicts] == [False, True, False, False], verdicts
    assert f"at most {validation.MAX_PATCH_BYTES} are allowed" in verdicts[0]["status"]["message"]
    assert "a json patch must be a non-empty list of RFC 6902 operations" in verdicts[2]["status"]["message"]
    assert f"at most {validation.MAX_PATCH_BYTES} are allowed" in verdicts[3]["status"]["message"]


def test_a_self_signed_bundle_verifies(tmp_path: pathlib.Path) -> None:
    bundle = certificates.generate(tmp_path, ["headlamp-operator-webhook.headlamp-operator.svc", "10.0.0.1"])
    context = ssl.create_default_context(cafile=str(bundle.cafile))
    context.load_cert_chain(bundle.certfile, bundle.pkeyfile)  # the key matches the certificate
    assert oct(bundle.pkeyfile.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError):
        certificates.generate(tmp_path, [])


def test_the_managed_webhooks_fail_open_like_the_cert_manager_overlay() -> None:
    """Found on a real API server: kopf's default failurePolicy is Fail, so with --webhook-managed and the
    operator down (a rollout, a crash) every create and update of both kinds, finalizer removals included,
    was refused. The handlers re-validate, so the webhook fails open, as the cert-manager overlay does."""
    import kopf
    from kopf._core.engines.admission import build_webhooks

    from headlamp_operator import runner
    from headlamp_operator.settings import Settings, WebhookSettings

    registry, _ = runner.build_registry(Settings(webhook=WebhookSettings(port=9443, managed=True)), with_login=False)
    handlers = registry._webhooks.get_all_handlers()
    resources = [kopf.Resource("headlamp-operator.dev", "v1alpha1", plural, namespaced=True)
                 for plural in ("portforwards", "resourcepatches")]
    webhooks = build_webhooks(handlers, resources=resources, name_suffix="headlamp-operator.dev",
                              client_config={"url": "https://127.0.0.1:9443"})
    assert len(handlers) == 2 and len(webhooks) == 2
    assert all(handler.ignore_failures for handler in handlers)
    assert all(hook["failurePolicy"] == "Ignore" for hook in webhooks), webhooks


def test_the_operations_page_states_the_webhooks_limits() -> None:
    """docs/operations.md promises the webhook's verdict on large objects: its numbers are the code's."""
    page = (pathlib.Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    words = " ".join(page.split())
    assert f"an admission request of up to {webhookserver.MAX_REVIEW_BYTES // (1024 * 1024)} MiB" in words
    assert f"({validation.MAX_PATCH_BYTES:,} bytes as JSON) or nested deeper than {validation.MAX_PATCH_DEPTH}" in words
