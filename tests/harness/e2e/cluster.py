"""The real cluster and the real Headlamp, as the scenarios see them.

:class:`Kube` is the official ``kubernetes`` client on ``E2E_KUBECONFIG``; every object is read as
plain JSON (camelCase dicts, as ``kubectl get -o json`` shows them). :class:`Namespace` is one
test's namespace with everything the test creates in it, and the condition waits (with deadlines,
never bare sleeps). :class:`Headlamp` only reads Headlamp's ``/clusters/{c}/portforward/list`` (and
``/version`` once, to check the cluster name): the scenarios drive Headlamp through the operator alone.
"""
from __future__ import annotations

import asyncio
import base64
import json
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import kubernetes
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.harness.e2e.config import NAMESPACE_LABEL, NAMESPACE_PREFIX, E2EConfig

T = TypeVar("T")
Body = dict[str, Any]

GROUP, VERSION = "headlamp-operator.dev", "v1alpha1"
KINDS = {"portforwards": "PortForward", "resourcepatches": "ResourcePatch"}
CRDS = tuple(f"{plural}.{GROUP}" for plural in KINDS)
OPERATOR_SELECTOR = "app.kubernetes.io/name=headlamp-operator,app.kubernetes.io/component=operator"
VIEWER = "e2e-viewer"  # the ServiceAccount, Role and RoleBinding whose token the resources use

# What the resources' token needs in the test namespace (docs/install.md, "RBAC"): resolve a
# service to a Ready pod and its ports, start a port-forward as this user, patch the target Deployment.
VIEWER_RULES: tuple[Body, ...] = (
    {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]},  # the pod watches (docs/portforward.md)
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "patch"]},
)

SERVICE_PORT_NAME, CONTAINER_PORT_NAME, CONTAINER_PORT = "http", "web", 8080


async def eventually(fetch: Callable[[], Awaitable[T]], check: Callable[[T], bool], *, within: float,
                     what: str, interval: float = 0.5, hint: str = "") -> T:
    """Poll ``fetch()`` until ``check`` accepts its result and return that; fail after ``within`` s.

    The sleep between polls is the poll interval of a condition with a deadline, not a wait for time to pass.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        last = await fetch()
        if check(last):
            return last
        if loop.time() >= deadline:
            raise AssertionError(f"{what}: not within {within:g} s; last seen: {last!r}{hint}")
        await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))


def is_ready(obj: Mapping[str, Any] | None) -> bool:
    """What ``kubectl wait --for=condition=Ready`` accepts (kubectl's ConditionalWait).

    The Ready condition has status "True", and its ``observedGeneration`` (or, without one, the
    status's) is not older than ``metadata.generation``: a Ready from before the last spec change
    does not count.
    """
    if not obj:
        return False
    generation = (obj.get("metadata") or {}).get("generation")
    status = obj.get("status") or {}
    for condition in status.get("conditions") or []:
        if str(condition.get("type", "")).lower() != "ready":
            continue
        observed = condition.get("observedGeneration", status.get("observedGeneration"))
        if generation is not None and observed is not None and int(observed) < int(generation):
            return False
        return str(condition.get("status", "")).lower() == "true"
    return False


def conditions(status: Mapping[str, Any]) -> dict[str, str]:
    """``{type: status}`` of a status's conditions."""
    return {c["type"]: c["status"] for c in status.get("conditions") or []}


class Kube:
    """The official client on ``E2E_KUBECONFIG`` (synchronous: call it through :meth:`run`)."""

    def __init__(self, config: E2EConfig) -> None:
        self.config = config
        self.api = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(config.kubeconfig), context=config.context, persist_config=False)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.rbac = client.RbacAuthorizationV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.extensions = client.ApiextensionsV1Api(self.api)

    def close(self) -> None:
        self.api.close()

    @staticmethod
    async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A blocking client call, off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    @staticmethod
    def obj(fn: Callable[..., object], *args: Any, **kwargs: Any) -> Body:
        """A ``CustomObjectsApi`` call, whose answer is plain JSON already."""
        result = fn(*args, **kwargs)
        assert isinstance(result, dict), result
        return result

    @staticmethod
    def raw(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Body:
        """A typed client call, its answer read as plain JSON (not the client's models)."""
        response = fn(*args, _preload_content=False, **kwargs)
        return json.loads(response.data) if response.data else {}

    # -- checks made once per session -------------------------------------------------------------
    def missing_crds(self) -> list[str]:
        """The operator's CRDs that the cluster does not have (none when we may not read CRDs)."""
        missing = []
        for name in CRDS:
            try:
                self.raw(self.extensions.read_custom_resource_definition, name)
            except ApiException as e:
                if e.status == 404:
                    missing.append(name)
                elif e.status != 403:
                    raise
        return missing

    def running_operator_pods(self) -> list[str] | None:
        """`ns/name` of the Running pods of a deployed operator (manifests/ labels); None: may not look."""
        try:
            pods = self.raw(self.core.list_pod_for_all_namespaces, label_selector=OPERATOR_SELECTOR)
        except ApiException as e:
            if e.status == 403:
                return None
            raise
        return [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods.get("items") or []
                if (p.get("status") or {}).get("phase") == "Running"]


class Headlamp:
    """Reads Headlamp's port-forward list for assertions; never starts or stops anything itself."""

    def __init__(self, session: aiohttp.ClientSession, config: E2EConfig) -> None:
        self.session = session
        self.config = config
        self.base = f"{config.headlamp_url}/clusters/{urllib.parse.quote(config.cluster, safe='')}"
        self.headers = {"Accept": "application/json"}
        if config.backend_token:
            self.headers["X-HEADLAMP_BACKEND-TOKEN"] = config.backend_token

    async def _get(self, path: str) -> tuple[int, str]:
        timeout = aiohttp.ClientTimeout(total=min(30.0, self.config.timeout))
        async with self.session.get(f"{self.base}{path}", headers=self.headers, timeout=timeout) as response:
            return response.status, await response.text()

    async def check(self) -> None:
        """Fail with a clear message when Headlamp is unreachable or does not know E2E_CLUSTER."""
        where = f"Headlamp at E2E_HEADLAMP_URL={self.config.headlamp_url}"
        try:
            status, text = await self._get("/version")  # proxied to the cluster's API server
        except (aiohttp.ClientError, TimeoutError) as e:
            raise AssertionError(f"{where} is unreachable: {e!r}") from None
        if status == 403 and "access denied" in text:
            raise AssertionError(f"{where} answers 403 'access denied': it runs with a backend token; "
                                 f"set E2E_HEADLAMP_BACKEND_TOKEN")
        if status >= 404:
            raise AssertionError(f"{where} does not reach cluster E2E_CLUSTER={self.config.cluster!r} "
                                 f"(GET /clusters/{self.config.cluster}/version: {status} {text.strip()[:300]}); "
                                 f"a Headlamp deployed in the cluster calls it 'main'")
        await self.forwards()

    async def forwards(self) -> list[Body]:
        """``GET /clusters/{cluster}/portforward/list``: every forward Headlamp knows in that cluster."""
        status, text = await self._get("/portforward/list")
        assert status == 200, f"GET {self.base}/portforward/list: {status} {text.strip()[:300]}"
        forwards = json.loads(text) if text.strip() else []
        return list(forwards or [])  # Go encodes an empty list as null

    async def forward(self, forward_id: str) -> Body | None:
        """The listed forward with that id, or None."""
        return next((f for f in await self.forwards() if f.get("id") == forward_id), None)


class Namespace:
    """One test's namespace in the real cluster: its targets, its Secrets, its resources, the waits."""

    def __init__(self, kube: Kube, headlamp: Headlamp, name: str, *, hint: str = "") -> None:
        self.kube = kube
        self.headlamp = headlamp
        self.config = kube.config
        self.name = name
        self.hint = hint  # appended to a failed status wait: e.g. "no operator pod is running"
        self._token: str | None = None

    @property
    def within(self) -> float:
        return self.config.timeout

    @classmethod
    async def new(cls, kube: Kube, headlamp: Headlamp, *, hint: str = "") -> Namespace:
        """A new namespace with a random suffix, labelled as the suite's."""
        name = f"{NAMESPACE_PREFIX}{secrets.token_hex(4)}"
        await kube.run(kube.raw, kube.core.create_namespace, client.V1Namespace.from_dict({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {NAMESPACE_LABEL: "true"}}}))
        return cls(kube, headlamp, name, hint=hint)

    # -- the operator's resources -----------------------------------------------------------------
    async def create(self, plural: str, name: str, spec: Mapping[str, Any]) -> Body:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KINDS[plural],
                "metadata": {"name": name, "namespace": self.name}, "spec": dict(spec)}
        return await self.kube.run(self.kube.obj, self.kube.custom.create_namespaced_custom_object,
                                   GROUP, VERSION, self.name, plural, body)

    async def get(self, plural: str, name: str) -> Body | None:
        try:
            result = await self.kube.run(self.kube.obj, self.kube.custom.get_namespaced_custom_object,
                                         GROUP, VERSION, self.name, plural, name)
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return result

    async def status(self, plural: str, name: str) -> Body:
        return dict((await self.get(plural, name) or {}).get("status") or {})

    async def patch_spec(self, plural: str, name: str, spec: Mapping[str, Any]) -> Body:
        """A JSON merge patch of the spec, as ``kubectl patch --type=merge`` sends it."""
        return await self.kube.run(self.kube.obj, self.kube.custom.patch_namespaced_custom_object,
                                   GROUP, VERSION, self.name, plural, name, {"spec": dict(spec)})

    async def delete(self, plural: str, name: str) -> None:
        await self.kube.run(self.kube.custom.delete_namespaced_custom_object, GROUP, VERSION, self.name, plural, name)

    async def wait_status(self, plural: str, name: str, **expected: Any) -> Body:
        """Wait until every ``expected`` field of the status has that value; return the status."""
        return await eventually(lambda: self.status(plural, name),
                                lambda status: all(status.get(k) == v for k, v in expected.items()),
                                within=self.within, what=f"{plural} {self.name}/{name} status {expected}",
                                hint=self.hint)

    async def wait_ready(self, plural: str, name: str) -> Body:
        """``kubectl wait --for=condition=Ready``: Ready=True for the current generation; return the object."""
        obj = await eventually(lambda: self.get(plural, name), is_ready, within=self.within,
                               what=f"{plural} {self.name}/{name} Ready for its current generation", hint=self.hint)
        assert obj is not None
        return obj

    async def wait_gone(self, plural: str, name: str) -> None:
        await eventually(lambda: self.get(plural, name), lambda obj: obj is None, within=self.within,
                         what=f"{plural} {self.name}/{name} deleted (its finalizer removed)", hint=self.hint)

    async def events(self, name: str) -> list[tuple[str, str]]:
        """``(type, reason)`` of the Events about the object ``name``, oldest first."""
        found = await self.kube.run(self.kube.raw, self.kube.core.list_namespaced_event, self.name,
                                    field_selector=f"involvedObject.name={name}")

        def key(event: Body) -> tuple[str, int]:
            when = event.get("eventTime") or event.get("firstTimestamp") or event["metadata"].get("creationTimestamp")
            version = str(event["metadata"].get("resourceVersion") or "0")
            return str(when or ""), int(version) if version.isdigit() else 0

        # eventTime has microseconds; the resourceVersion breaks ties between events of one second.
        items = sorted(found.get("items") or [], key=lambda e: (_normalise_time(key(e)[0]), key(e)[1]))
        return [(str(e.get("type")), str(e.get("reason"))) for e in items
                if (e.get("involvedObject") or {}).get("kind") in KINDS.values()]

    async def wait_events(self, name: str, expected: list[tuple[str, str]]) -> None:
        """Wait until the object's events are exactly ``expected`` (kopf posts them asynchronously)."""
        await eventually(lambda: self.events(name), lambda seen: seen == expected, within=self.within,
                         what=f"events of {self.name}/{name} == {expected}")

    # -- Secrets and the token the resources act with ---------------------------------------------
    async def put_secret(self, name: str, **data: str) -> None:
        """Create or update a Secret, as a user rotating a token would."""
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": self.name}, "data": encoded}
        try:
            await self.kube.run(self.kube.raw, self.kube.core.create_namespaced_secret, self.name,
                                client.V1Secret.from_dict(body))
        except ApiException as e:
            if e.status != 409:
                raise
            await self.kube.run(self.kube.raw, self.kube.core.patch_namespaced_secret, name, self.name,
                                {"data": encoded}, _content_type="application/merge-patch+json")

    async def token(self) -> str:
        """``E2E_TOKEN``, or a token of a ServiceAccount of this namespace with just the rights the scenarios need."""
        if self.config.token:
            return self.config.token
        if self._token is None:
            token = await self.kube.run(self._viewer_token)
            await self._wait_authorized()
            self._token = token
        return self._token

    def _viewer_token(self) -> str:
        core, rbac, ns = self.kube.core, self.kube.rbac, self.name
        self.kube.raw(core.create_namespaced_service_account, ns, client.V1ServiceAccount.from_dict(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": VIEWER}}))
        self.kube.raw(rbac.create_namespaced_role, ns, client.V1Role.from_dict({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": VIEWER},
            "rules": [dict(rule) for rule in VIEWER_RULES]}))
        self.kube.raw(rbac.create_namespaced_role_binding, ns, client.V1RoleBinding.from_dict({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": VIEWER},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": VIEWER},
            "subjects": [{"kind": "ServiceAccount", "name": VIEWER, "namespace": ns}]}))
        # A bound token (TokenRequest, as `kubectl create token`): no long-lived Secret is created.
        request = client.AuthenticationV1TokenRequest.from_dict({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": [], "expirationSeconds": 3600}})
        answer = self.kube.raw(core.create_namespaced_service_account_token, VIEWER, ns, request)
        return str(answer["status"]["token"])

    async def _wait_authorized(self) -> None:
        """Wait until the API server's authorizer applies the new RoleBinding (its caches lag a little).

        Otherwise the operator's first request could meet a 403, which is a permanent failure.
        Asked with SubjectAccessReviews as the suite's own user; skipped if that user may not create them.
        """
        user = f"system:serviceaccount:{self.name}:{VIEWER}"
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{self.name}", "system:authenticated"]
        checks = [(verb, group, *resource.partition("/")[::2]) for rule in VIEWER_RULES
                  for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]]

        def allowed() -> list[str] | None:
            denied = []
            for verb, group, resource, subresource in checks:
                review = client.V1SubjectAccessReview.from_dict({
                    "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                    "spec": {"user": user, "groups": groups, "resourceAttributes": {
                        "namespace": self.name, "verb": verb, "group": group, "resource": resource,
                        "subresource": subresource}}})
                try:
                    answer = self.kube.raw(client.AuthorizationV1Api(self.kube.api).create_subject_access_review,
                                           review)
                except ApiException as e:
                    if e.status == 403:
                        return None  # we may not ask: go on, the scenario shows any problem
                    raise
                if not (answer.get("status") or {}).get("allowed"):
                    denied.append(f"{verb} {resource}{'/' + subresource if subresource else ''}")
            return denied

        async def fetch() -> list[str] | None:
            return await self.kube.run(allowed)

        await eventually(fetch, lambda denied: not denied, within=self.within, interval=0.2,
                         what=f"RBAC of {user} in effect")

    async def viewer_secret(self, name: str = "viewer") -> Body:
        """A Secret with the token, and the ``credentials`` of a resource that uses it."""
        await self.put_secret(name, token=await self.token())
        return {"tokenSecretRef": {"name": name}}

    # -- targets: a Deployment and a Service in this namespace -----------------------------------
    async def deployment(self, name: str, *, replicas: int = 1) -> Body:
        """A Deployment of ``E2E_IMAGE`` with a container port named ``web`` (8080)."""
        labels = {"app": name, NAMESPACE_LABEL: "true"}
        body = {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": self.name, "labels": labels},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": labels}, "spec": {
                             "automountServiceAccountToken": False,
                             "terminationGracePeriodSeconds": 1,
                             "containers": [{"name": "main", "image": self.config.image,
                                             "ports": [{"name": CONTAINER_PORT_NAME,
                                                        "containerPort": CONTAINER_PORT}],
                                             "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}}}]}}}}
        return await self.kube.run(self.kube.raw, self.kube.apps.create_namespaced_deployment, self.name,
                                   client.V1Deployment.from_dict(body))

    async def service(self, name: str) -> Body:
        """A Service whose port ``http`` (80) targets the pods' port by name (``web``)."""
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": self.name},
                "spec": {"selector": {"app": name}, "ports": [
                    {"name": SERVICE_PORT_NAME, "port": 80, "targetPort": CONTAINER_PORT_NAME, "protocol": "TCP"}]}}
        return await self.kube.run(self.kube.raw, self.kube.core.create_namespaced_service, self.name,
                                   client.V1Service.from_dict(body))

    async def read_deployment(self, name: str) -> Body:
        return await self.kube.run(self.kube.raw, self.kube.apps.read_namespaced_deployment, name, self.name)

    async def replicas(self, name: str) -> int:
        return int((await self.read_deployment(name))["spec"].get("replicas", 1))

    async def ready_pods(self, app: str) -> list[str]:
        """Names of the Running and Ready pods of a Deployment."""
        pods = await self.kube.run(self.kube.raw, self.kube.core.list_namespaced_pod, self.name,
                                   label_selector=f"app={app}")
        return sorted(p["metadata"]["name"] for p in pods.get("items") or []
                      if (p.get("status") or {}).get("phase") == "Running"
                      and not (p.get("metadata") or {}).get("deletionTimestamp")
                      and conditions(p.get("status") or {}).get("Ready") == "True")

    async def echo(self, name: str = "echo") -> str:
        """A Deployment with one Ready pod behind a Service of the same name; returns the pod's name."""
        await self.deployment(name)
        await self.service(name)
        pods = await eventually(lambda: self.ready_pods(name), lambda pods: len(pods) == 1, within=self.within,
                                what=f"one Running and Ready pod of deployment {self.name}/{name} "
                                     f"(image E2E_IMAGE={self.config.image})")
        return pods[0]

    # -- cleanup ------------------------------------------------------------------------------------
    async def cleanup(self) -> None:
        """Delete this test's resources (the operator removes their finalizers and forwards), then the namespace.

        Resources go first, while the operator still runs: a namespace deleted with them would wait on
        their finalizers. Whatever is still held after the timeout is released by hand, the namespace is
        deleted all the same, and the test errors, naming what was left.
        """
        leftovers: list[str] = []
        for plural in KINDS:
            listed = await self.kube.run(self.kube.obj, self.kube.custom.list_namespaced_custom_object,
                                         GROUP, VERSION, self.name, plural)
            names = [item["metadata"]["name"] for item in listed.get("items") or []]
            for name in names:
                try:
                    await self.delete(plural, name)
                except ApiException as e:
                    if e.status != 404:
                        raise
            for name in names:
                try:
                    await self.wait_gone(plural, name)
                except AssertionError:
                    leftovers.append(f"{plural}/{name}")
                    await self._release(plural, name)
        if not self.config.keep_namespaces:
            try:
                await self.kube.run(self.kube.raw, self.kube.core.delete_namespace, self.name)
            except ApiException as e:
                if e.status != 404:
                    raise
        if leftovers:
            raise AssertionError(f"{', '.join(leftovers)} in {self.name} were not released by the operator within "
                                 f"{self.within:g} s; their finalizers were removed by hand (Headlamp may still "
                                 f"list their forwards){self.hint}")

    async def _release(self, plural: str, name: str) -> None:
        try:
            await self.kube.run(self.kube.custom.patch_namespaced_custom_object, GROUP, VERSION, self.name,
                                plural, name, {"metadata": {"finalizers": None}})
        except ApiException as e:
            if e.status != 404:
                raise


def _normalise_time(text: str) -> str:
    """Kubernetes timestamps, comparable as text: ``2026-01-01T10:00:00Z`` < ``...10:00:00.000001Z``."""
    text = text.replace("+00:00", "Z")
    if text.endswith("Z") and "." not in text:
        text = text[:-1] + ".000000Z"
    elif "." in text:
        whole, _, fraction = text[:-1].partition(".")
        text = f"{whole}.{fraction.ljust(6, '0')[:6]}Z"
    return text
