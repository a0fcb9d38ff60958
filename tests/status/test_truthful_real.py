"""Issue 22 on the real control plane: where a kind of untrue status needs a real API server to show it.

The fast suite (tests/status/test_truthful.py) holds every section against the emulators;
these are the inputs whose truth depends on what a real kube-apiserver (and kwok) answers: a pod that
does not exist, a revoked token, a CRD installed after the patch, the managedFields of a patched
object, where a forward really listens, and a deleted forward that comes back (#7389).
"""
from __future__ import annotations

import json
import socket

import pytest

from headlamp_operator.headlamp.resources import FIELD_MANAGER
from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace
from tests.portforward.test_bytes_real import roundtrip, spec

pytestmark = pytest.mark.realpeers

PF, RP = "portforwards", "resourcepatches"


async def test_s3_a_port_held_on_127_0_0_1_is_served_on_ipv6_and_the_message_says_localhost(
        world: World, ns: Namespace) -> None:
    """kubernetes/kubernetes#57828: the listener is client-go's ``localhost``, content with either address."""
    pod = await ns.echo()
    with socket.socket() as squatter:  # another process holds the port on 127.0.0.1 only
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        await ns.create(PF, "echo-any-address", await spec(ns, service="echo", targetPort="http",
                                                           address="0.0.0.0", port=taken))
        status = (await ns.wait_ready(PF, "echo-any-address"))["status"]
        assert status["message"] == (f"forwarding localhost:{taken} -> {ns.name}/{pod}:8080 "
                                     "(spec.address 0.0.0.0 is ignored: this Headlamp listens on localhost only)")
        assert await roundtrip(taken, b"over ipv6\n", host="::1") == b"over ipv6\n"


async def test_s6_a_pod_that_does_not_exist_is_not_found_at_once(world: World, ns: Namespace) -> None:
    await ns.echo()  # the real pod is echo-<hash>
    await ns.create(PF, "no-such-pod", await spec(ns, pod="echo-0", targetPort=8080))
    status = await ns.wait_status(PF, "no-such-pod", phase="Failed")
    assert status["reason"] == "NotFound"
    assert status["message"].startswith(f"pod {ns.name}/echo-0 does not exist: check spec.pod and spec.namespace")


async def test_s6_a_revoked_token_is_unauthorized_not_forbidden(world: World, ns: Namespace) -> None:
    pod = await ns.echo()
    world.cp.kubectl("-n", ns.name, "create", "serviceaccount", "short-lived")
    token = world.cp.kubectl("-n", ns.name, "create", "token", "short-lived").stdout.strip()
    world.cp.kubectl("-n", ns.name, "delete", "serviceaccount", "short-lived")  # its tokens die with it
    await ns.put_secret("revoked", token=token)
    await ns.create(PF, "revoked", {**await spec(ns, pod=pod, targetPort=8080),
                                    "credentials": {"tokenSecretRef": {"name": "revoked"}}})
    status = await ns.wait_status(PF, "revoked", phase="Failed")
    assert status["reason"] == "Unauthorized", status
    assert "the token was refused" in status["message"]
    await ns.put_secret("revoked", token=await ns.token())  # a good token: retried because the Secret changed
    await ns.wait_ready(PF, "revoked")


WIDGET_CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
              "metadata": {"name": "widgets.late.example.com"},
              "spec": {"group": "late.example.com", "scope": "Namespaced",
                       "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                       "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                           "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


async def test_s7_a_patch_waits_for_its_crd_and_its_object_and_names_the_operator(
        world: World, ns: Namespace) -> None:
    """kustomize#4379, kyverno#3504: the patch comes before its target's CRD and object; then section 8: the
    API server's managedFields name ``headlamp-operator`` for what the patch changed (helm#9067)."""
    admin = "admin"
    await ns.put_secret(admin, token=world.cp.admin_token)
    await ns.create(RP, "early", {"cluster": ns.config.cluster, "credentials": {"tokenSecretRef": {"name": admin}},
                                  "target": {"apiVersion": "late.example.com/v1", "kind": "Widget", "name": "w"},
                                  "patch": {"spec": {"size": 3}}})
    pending = await ns.wait_status(RP, "early", phase="Pending")
    assert pending["reason"] == "NotFound"
    assert "the cluster serves no late.example.com/v1 (is its CRD installed?)" in pending["message"], pending
    world.cp.kubectl("apply", "-f", "-", input=json.dumps(WIDGET_CRD))
    world.cp.kubectl("wait", "--for=condition=Established", "crd/widgets.late.example.com", "--timeout=30s")
    missing = await ns.wait_status(RP, "early", phase="Pending", reason="NotFound")
    world.cp.kubectl("-n", ns.name, "apply", "-f", "-", input=json.dumps(
        {"apiVersion": "late.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}))
    await ns.wait_ready(RP, "early")
    widget = json.loads(world.cp.kubectl("-n", ns.name, "get", "widgets.late.example.com", "w", "-o", "json",
                                         "--show-managed-fields").stdout)
    assert widget["spec"]["size"] == 3
    managers = {entry["manager"]: entry["operation"] for entry in widget["metadata"]["managedFields"]}
    assert managers.get(FIELD_MANAGER) == "Update", (managers, missing)


async def test_s10_deletion_policy_delete_leaves_nothing_listed(world: World, ns: Namespace) -> None:
    """v0.45.0 lists a forward deleted while it ran again, Stopped (#7389): the operator deletes it again."""
    pod = await ns.echo()
    await ns.create(PF, "gone", await spec(ns, pod=pod, targetPort=8080, deletionPolicy="Delete"))
    forward_id = (await ns.wait_ready(PF, "gone"))["status"]["id"]
    await ns.delete(PF, "gone")
    await ns.wait_gone(PF, "gone")  # the finalizer comes off once the forward is gone for good
    assert [f for f in await ns.headlamp.forwards() if f["id"] == forward_id] == []
