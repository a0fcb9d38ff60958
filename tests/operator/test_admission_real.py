"""The admission webhook judges large ResourcePatches on the real API server (issue 22, section 9).

kopf's aiohttp server read request bodies up to 1 MiB and answered 413 above; with ``failurePolicy:
Ignore`` kube-apiserver then let such an object in unjudged, so a ResourcePatch of about 1.2 MiB with a
spec the CRD schema cannot refuse was stored, and its error came only later in its status. Here kubectl
is refused at once with the webhook's own message, for a creation and for an update (whose review
carries the object and the old one: twice the size). The objects are sent with server-side apply, as
docs/resourcepatch.md says for large patches (client-side apply's annotation is limited to 256 KiB).
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from headlamp_operator.reconciling import validation
from headlamp_operator_testing.realpeers.world import World
from tests.harness.e2e.cluster import Namespace

pytestmark = pytest.mark.realpeers

RP = "resourcepatches"
DENIED = "denied the request"  # kubectl: admission webhook "<name>" denied the request: <message>


def document(ns: Namespace, name: str, spec: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": "headlamp-operator.dev/v1alpha1", "kind": "ResourcePatch",
                       "metadata": {"name": name, "namespace": ns.name}, "spec": spec})


async def test_a_large_resourcepatch_is_judged_at_admission(world: World, ns: Namespace) -> None:
    base = {"cluster": ns.config.cluster, "credentials": await ns.viewer_secret(),
            "target": {"apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "namespace": ns.name}}
    blob = "x" * (1_200 * 1024)  # about 1.2 MiB: over aiohttp's 1 MiB, under the patch limit
    apply = ("-n", ns.name, "apply", "--server-side", "--field-manager=qa", "-f", "-")

    # A json patch that is an object: the CRD schema lets it through (the patch is free-form), the webhook not.
    invalid = world.cp.kubectl(*apply, input=document(ns, "large-invalid", {
        **base, "patchType": "json", "patch": {"data": {"blob": blob}}}), check=False)
    assert invalid.returncode != 0, invalid.stdout
    assert DENIED in invalid.stderr and "a json patch must be a non-empty list of RFC 6902 operations" in invalid.stderr

    # Over the patch size limit, yet small enough for etcd: refused at once, naming the size and the limit.
    oversized = {"data": {"blob": "x" * (validation.MAX_PATCH_BYTES + 1024)}}
    over = world.cp.kubectl(*apply, input=document(ns, "large-over", {**base, "patch": oversized}), check=False)
    assert over.returncode != 0, over.stdout
    assert DENIED in over.stderr and f"at most {validation.MAX_PATCH_BYTES} are allowed" in over.stderr, over.stderr
    assert await ns.get(RP, "large-invalid") is None and await ns.get(RP, "large-over") is None

    # A valid one of the same size is admitted; changing it to an invalid spec (object and oldObject, about
    # 2.4 MiB of review) is refused, and the stored spec stays as it was.
    world.cp.kubectl(*apply, input=document(ns, "large-valid", {**base, "patch": {"data": {"blob": blob}}}))
    changed = world.cp.kubectl(*apply, input=document(ns, "large-valid", {
        **base, "patchType": "json", "patch": {"data": {"blob": blob + "y"}}}), check=False)
    assert changed.returncode != 0, changed.stdout
    assert DENIED in changed.stderr and "a json patch must be a non-empty list" in changed.stderr, changed.stderr
    stored = await ns.get(RP, "large-valid")
    assert stored is not None and stored["spec"]["patch"] == {"data": {"blob": blob}}
    assert stored["spec"].get("patchType", "merge") == "merge"
