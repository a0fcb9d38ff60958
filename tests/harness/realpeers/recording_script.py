"""The fixed script ``python -m tests.harness.realpeers.record`` sends to a real headlamp-server, and the objects it
starts from.

Every request is written with placeholders (:mod:`tests.headlamp.transcript`): ``{{token:editor}}`` is the
token of the ServiceAccount ``editor``, ``{{pod:web-a}}`` the first pod of the Deployment ``web``,
``{{port:given}}`` a free port the recorder picks, ``{{id:1}}`` the first id the server made. The recorder
fills them in before sending and writes them back into what it records; the replay fills in its own.

What each exchange is for is in its ``note``; the names are stable (the replay's report and the
transcript's ``known_differences`` refer to them). Covers issue 23, section 2, and what docs/headlamp-backend.md
takes from the recording (docs/development.md#the-recorded-transcript): set-token, port-forward start / get /
list / stop / delete (the #7389 ghost), the Kubernetes API proxy, the backend token, dynamic clusters, and the
plugin change that brings ``X-Reload``.
"""
from __future__ import annotations

from typing import Any, Protocol

NS = "transcript"
CLUSTER, OTHER = "real", "real-eu"  # contexts of the backend's kubeconfig; "real" is a prefix of "real-eu"
BACKEND_TOKEN = "transcript-backend-token"
EDITOR, VIEWER, REVOKED = "{{token:editor}}", "{{token:viewer}}", "{{token:revoked}}"
POD_A, POD_B = "{{pod:web-a}}", "{{pod:web-b}}"
DYN = "{{kubeconfig:dyn}}"
LONG_TOKEN = "".join(f"long-token-{i:05d}." for i in range(400))  # 7,200 characters: two cookie chunks
JSON = ("Content-Type", "application/json")
PF = f"/clusters/{CLUSTER}/portforward"
CONFIGMAPS = f"/clusters/{CLUSTER}/api/v1/namespaces/{NS}/configmaps"
SELECTOR = "labelSelector=transcript%3Dyes"
STOPPED = "Port forward stopped."

# The objects created (``kubectl create``, so no last-applied annotation) before either server starts. The
# Deployment's two pods are kwok's, Running and Ready; the Service names its container port.
_LABELS = {"app": "web"}
OBJECTS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS, "labels": _LABELS},
     "spec": {"replicas": 2, "selector": {"matchLabels": _LABELS},
              "template": {"metadata": {"labels": _LABELS}, "spec": {"containers": [
                  {"name": "web", "image": "registry.k8s.io/pause:3.9",
                   "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NS},
     "spec": {"selector": _LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": NS,
                                                           "labels": {"transcript": "yes"}},
     "data": {"mode": "a"}},
    *({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS}}
      for name in ("editor", "viewer", "revoked")),
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "editor", "namespace": NS},
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
               {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["create", "get"]},
               {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "patch"]},
               {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "editor", "namespace": NS},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "editor"},
     "subjects": [{"kind": "ServiceAccount", "name": "editor", "namespace": NS}]},
]
# Who each token is: "allowed" (the Role above), "none" (no RBAC at all), "revoked" (its ServiceAccount deleted).
TOKENS = {EDITOR: ("editor", "allowed"), VIEWER: ("viewer", "none"), REVOKED: ("revoked", "revoked")}


class Script(Protocol):
    """What the script needs of the recorder (:class:`tests.harness.realpeers.record.Recorder`)."""

    async def send(self, name: str, method: str, path: str, *, query: str = "",
                   headers: tuple[tuple[str, str], ...] = (), json: Any = None, body: str | None = None,
                   server: str = "plain", until: Any = None, within: float = 20.0, unordered: bool = False,
                   note: str = "") -> Any: ...

    async def hold_port(self, port: str, hosts: tuple[str, ...], *, note: str) -> None: ...

    async def delete_pod(self, pod: str, *, note: str) -> None: ...

    async def add_plugin(self, name: str, *, note: str) -> None: ...


def cookie(token: str, cluster: str = CLUSTER) -> tuple[str, str]:
    return ("Cookie", f"headlamp-auth-{cluster}.0={token}")


def bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


def forward(fid: str, pod: str = POD_A, **fields: str) -> dict[str, str]:
    return {"id": fid, "namespace": NS, "pod": pod, "targetPort": "8080", **fields}


def entry(answer: Any, fid: str) -> dict[str, Any] | None:
    """The list entry of that id in a raw list answer, if any."""
    listed = answer.get("json") if isinstance(answer.get("json"), list) else []
    return next((e for e in listed if e.get("id") == fid), None)


def settled(fid: str, status: str, error: str | None = None) -> Any:
    """A condition on a list answer: the entry of that id has that status (and error)."""
    def holds(answer: Any) -> bool:
        found = entry(answer, fid)
        return found is not None and found["status"] == status and (error is None or found["error"] == error)
    return holds


def gone(fid: str) -> Any:
    return lambda answer: entry(answer, fid) is None


async def script(r: Script) -> None:
    """The whole script, in order."""
    await set_tokens(r)
    await proxy(r)
    await starts(r)
    await gets_and_lists(r)
    await stops_and_deletes(r)
    await guarded(r)
    await dynamic(r)
    await plugins(r)


async def set_tokens(r: Script) -> None:
    st = f"/clusters/{CLUSTER}/set-token"
    await r.send("set-token/editor", "POST", st, headers=(JSON,), json={"token": EDITOR},
                 note="a token: its session cookie")
    for name, token in (("viewer", VIEWER), ("revoked", REVOKED)):
        await r.send(f"set-token/{name}", "POST", st, headers=(JSON,), json={"token": token})
    await r.send("set-token/long", "POST", st, headers=(JSON,), json={"token": LONG_TOKEN},
                 note="a token over 3800 characters: two chunks")
    await r.send("set-token/again-with-cookie", "POST", st, headers=(JSON, cookie(EDITOR)), json={"token": EDITOR},
                 note="a cookie already held: cleared, then set")
    await r.send("set-token/after-long", "POST", st, json={"token": EDITOR},
                 headers=(JSON, ("Cookie", f"headlamp-auth-{CLUSTER}.0={LONG_TOKEN[:3800]}; "
                                           f"headlamp-auth-{CLUSTER}.1={LONG_TOKEN[3800:]}")),
                 note="two chunks held, one set: both cleared")
    await r.send("set-token/null-with-cookie", "POST", st, headers=(JSON, cookie(EDITOR)), json={"token": None},
                 note="logout: the names the request carried are cleared")
    await r.send("set-token/null-without-cookie", "POST", st, headers=(JSON,), json={"token": None},
                 note="logout without a cookie: nothing to clear")
    await r.send("set-token/empty", "POST", st, headers=(JSON, cookie(EDITOR)), json={"token": ""})
    await r.send("set-token/not-json", "POST", st, headers=(JSON,), body="token=abc")
    await r.send("set-token/number", "POST", st, headers=(JSON,), body='{"token": 5}')
    await r.send("set-token/unknown-cluster", "POST", "/clusters/nowhere/set-token", headers=(JSON,),
                 json={"token": EDITOR}, note="the cluster name is not checked")


async def proxy(r: Script) -> None:
    await r.send("proxy/version", "GET", f"/clusters/{CLUSTER}/version", note="no credentials: the backend's own")
    await r.send("proxy/list-bearer", "GET", CONFIGMAPS, query=SELECTOR, headers=(bearer(EDITOR),))
    await r.send("proxy/list-no-credentials", "GET", CONFIGMAPS, query=SELECTOR)
    await r.send("proxy/list-bearer-no-rbac", "GET", CONFIGMAPS, query=SELECTOR, headers=(bearer(VIEWER),))
    await r.send("proxy/list-bearer-revoked", "GET", CONFIGMAPS, query=SELECTOR, headers=(bearer(REVOKED),))
    await r.send("proxy/list-cookie-no-rbac", "GET", CONFIGMAPS, query=SELECTOR, headers=(cookie(VIEWER),))
    await r.send("proxy/cookie-over-bearer", "GET", CONFIGMAPS, query=SELECTOR,
                 headers=(bearer(REVOKED), cookie(EDITOR)), note="a session cookie replaces the Bearer header")
    await r.send("proxy/cookie-over-bearer-refused", "GET", CONFIGMAPS, query=SELECTOR,
                 headers=(bearer(EDITOR), cookie(REVOKED)))
    await r.send("proxy/get-missing", "GET", f"{CONFIGMAPS}/nope", headers=(bearer(EDITOR),))
    await r.send("proxy/unknown-cluster", "GET", "/clusters/nowhere/version")
    await r.send("proxy/unknown-group", "GET", f"/clusters/{CLUSTER}/apis/example.com/v1/namespaces/{NS}/widgets",
                 note="a CRD not installed: the API server's own plain-text 404")
    await r.send("proxy/merge-patch", "PATCH", f"{CONFIGMAPS}/settings", query="fieldManager=transcript",
                 headers=(bearer(EDITOR), ("Content-Type", "application/merge-patch+json")),
                 json={"data": {"mode": "b"}})
    await r.send("proxy/patch-422", "PATCH", f"/clusters/{CLUSTER}/apis/apps/v1/namespaces/{NS}/deployments/web",
                 headers=(bearer(EDITOR), ("Content-Type", "application/merge-patch+json")),
                 json={"spec": {"replicas": -1}})
    await r.send("proxy/patch-415", "PATCH", f"{CONFIGMAPS}/settings", headers=(bearer(EDITOR), JSON),
                 json={"data": {"mode": "c"}}, note="application/json is no patch type")
    await r.send("router/no-route", "GET", "/nowhere")
    await r.send("router/cluster-alone", "GET", f"/clusters/{CLUSTER}")


async def starts(r: Script) -> None:
    editor = (JSON, cookie(EDITOR))
    await r.send("start/pod-numeric", "POST", PF, headers=editor, json=forward("pf-numeric"),
                 note="a pod and a numeric port, with the cookie of a token allowed to forward")
    await r.send("start/with-service", "POST", PF, headers=editor,
                 json=forward("pf-service", service="web", serviceNamespace=NS))
    await r.send("start/empty-id", "POST", PF, headers=editor, json=forward(""), note="the server makes the id")
    await r.send("start/given-port", "POST", PF, headers=editor, json=forward("pf-given", port="{{port:given}}"))
    await r.send("start/address", "POST", PF, headers=editor, json=forward("pf-address", address="0.0.0.0"),
                 note="address is neither echoed nor used")
    await r.send("start/pod-b", "POST", PF, headers=editor, json=forward("pf-pod-b", pod=POD_B))
    await r.hold_port("{{port:held-v4}}", ("127.0.0.1",), note="another process holds the port on 127.0.0.1 only")
    await r.send("start/port-held-on-ipv4", "POST", PF, headers=editor,
                 json=forward("pf-held-v4", port="{{port:held-v4}}"))
    await r.hold_port("{{port:held-both}}", ("127.0.0.1", "::1"), note="held on both loopback addresses")
    await r.send("start/port-held-on-both", "POST", PF, headers=editor,
                 json=forward("pf-held-both", port="{{port:held-both}}"))
    await r.send("start/port-of-another-forward", "POST", PF, headers=editor,
                 json=forward("pf-taken", port="{{port:given}}"))
    await r.send("start/same-id-running", "POST", PF, headers=editor, json=forward("pf-numeric"))
    for field in ("namespace", "pod", "targetPort"):
        doc = {k: v for k, v in forward(f"pf-no-{field.lower()}").items() if k != field}
        await r.send(f"start/no-{field.lower()}", "POST", PF, headers=editor, json=doc)
    await r.send("start/not-json", "POST", PF, headers=editor, body="id=pf-x")
    await r.send("start/empty-body", "POST", PF, headers=editor, body="")
    await r.send("start/unknown-cluster", "POST", "/clusters/nowhere/portforward", headers=editor,
                 json=forward("pf-nowhere"))
    await r.send("start/no-cookie", "POST", PF, headers=(JSON,), json=forward("pf-no-cookie"),
                 note="runs as the backend's own kubeconfig user")
    await r.send("start/no-rbac", "POST", PF, headers=(JSON, cookie(VIEWER)), json=forward("pf-no-rbac"))
    await r.send("start/revoked", "POST", PF, headers=(JSON, cookie(REVOKED)), json=forward("pf-revoked"))
    await r.send("start/bearer-instead-of-cookie", "POST", PF, json=forward("pf-bearer"),
                 headers=(JSON, ("Authorization", f"Bearer {VIEWER}")), note="Authorization is not read by a start")
    await r.send("start/missing-pod", "POST", PF, headers=editor, json=forward("pf-missing", pod="ghost"))
    await r.send("start/named-target-port", "POST", PF, headers=editor,
                 json=forward("pf-named", targetPort="http"), note="the container port's name")
    await r.send("start/other-cluster", "POST", f"/clusters/{OTHER}/portforward",
                 headers=(JSON, cookie(EDITOR, OTHER)), json=forward("pf-eu"))


async def gets_and_lists(r: Script) -> None:
    await r.send("get/running", "GET", PF, query="id=pf-numeric")
    await r.send("get/server-made-id", "GET", PF, query="id={{id:1}}")
    await r.send("get/unknown", "GET", PF, query="id=nope")
    await r.send("get/no-id", "GET", PF)
    await r.send("get/of-another-cluster", "GET", PF, query="id=pf-eu", note="the exact cache key: not found")
    await r.send("list/after-starts", "GET", f"{PF}/list", unordered=True,
                 note="a prefix match: real-eu's forwards are listed too")
    await r.send("list/other-cluster", "GET", f"/clusters/{OTHER}/portforward/list", unordered=True)
    await r.send("list/unknown-cluster", "GET", "/clusters/nowhere/portforward/list")
    await r.send("list/post", "POST", f"{PF}/list", unordered=True, note="the route takes any method")
    await r.delete_pod(POD_B, note="the pod of pf-pod-b goes (its ReplicaSet makes another)")
    await r.send("list/after-pod-deleted", "GET", f"{PF}/list", unordered=True,
                 until=settled("pf-pod-b", "Stopped"), note="the pod monitor (every 5 s) stops its forward")
    await r.send("get/stopped-by-its-pod", "GET", PF, query="id=pf-pod-b")


async def stops_and_deletes(r: Script) -> None:
    async def delete(name: str, doc: Any, note: str = "") -> None:
        await r.send(name, "DELETE", PF, headers=(JSON,), json=doc, note=note)

    async def listed(name: str, until: Any, note: str = "") -> None:
        await r.send(name, "GET", f"{PF}/list", unordered=True, until=until, note=note)

    await delete("delete/stop", {"id": "pf-numeric", "stopOrDelete": True}, "true means stop")
    await listed("list/after-stop", settled("pf-numeric", "Stopped", STOPPED))
    await r.send("start/same-id-stopped", "POST", PF, headers=(JSON, cookie(EDITOR)), json=forward("pf-numeric"),
                 note="a Stopped id may start again")
    await delete("delete/delete", {"id": "pf-service", "stopOrDelete": False}, "false means delete")
    await listed("list/ghost", settled("pf-service", "Stopped", STOPPED),
                 "#7389: a moment after the delete, its goroutine stores it again, Stopped")
    await r.send("get/ghost", "GET", PF, query="id=pf-service")
    await delete("delete/ghost", {"id": "pf-service", "stopOrDelete": False}, "the second delete is for good")
    await listed("list/ghost-gone", gone("pf-service"))
    await r.send("get/ghost-gone", "GET", PF, query="id=pf-service")
    await delete("delete/ghost-gone", {"id": "pf-service", "stopOrDelete": False})
    await delete("delete/unknown-id", {"id": "nope", "stopOrDelete": True})
    await delete("delete/no-flag", {"id": "pf-given"}, "no flag: false, a delete")
    await listed("list/after-no-flag", settled("pf-given", "Stopped", STOPPED))
    await delete("delete/action-alone", {"id": "pf-address", "action": "stop"}, "v0.45.0 ignores action")
    await listed("list/after-action-alone", settled("pf-address", "Stopped", STOPPED))
    await delete("delete/both", {"id": "{{id:1}}", "stopOrDelete": True, "action": "stop"})
    await listed("list/after-both", settled("{{id:1}}", "Stopped", STOPPED))
    await delete("delete/stopped-by-its-pod", {"id": "pf-pod-b", "stopOrDelete": True}, "an entry already Stopped")
    await delete("delete/no-id", {"stopOrDelete": True})
    await delete("delete/not-json", "{")
    await r.send("delete/empty-body", "DELETE", PF, headers=(JSON,), body="")
    await r.send("delete/unknown-cluster", "DELETE", "/clusters/nowhere/portforward", headers=(JSON,),
                 json={"id": "pf-eu", "stopOrDelete": True})
    await listed("list/at-the-end", lambda answer: True)


async def guarded(r: Script) -> None:
    token = ("X-HEADLAMP_BACKEND-TOKEN", BACKEND_TOKEN)
    version = f"/clusters/{CLUSTER}/version"
    await r.send("guarded/no-header", "GET", version, server="guarded")
    await r.send("guarded/two-headers", "GET", version, server="guarded", headers=(token, token))
    await r.send("guarded/wrong-token", "GET", version, server="guarded",
                 headers=(("X-HEADLAMP_BACKEND-TOKEN", "wrong"),))
    await r.send("guarded/right-token", "GET", version, server="guarded", headers=(token,))
    await r.send("guarded/list", "GET", f"{PF}/list", server="guarded", headers=(token,))
    await r.send("guarded/set-token-without-header", "POST", f"/clusters/{CLUSTER}/set-token", server="guarded",
                 headers=(JSON,), json={"token": EDITOR})
    await r.send("guarded/set-token", "POST", f"/clusters/{CLUSTER}/set-token", server="guarded",
                 headers=(JSON, token), json={"token": EDITOR})
    await r.send("guarded/no-route", "GET", "/nowhere", server="guarded")


async def dynamic(r: Script) -> None:
    u1 = (("KUBECONFIG", DYN), ("X-HEADLAMP-USER-ID", "u1"))
    u2 = (("KUBECONFIG", DYN), ("X-HEADLAMP-USER-ID", "u2"))
    dyn = "/clusters/dyn"
    await r.send("dynamic/proxy", "GET", f"{dyn}/api/v1/namespaces/{NS}/configmaps", query=SELECTOR, headers=u1,
                 note="the kubeconfig's user (editor) makes the request")
    await r.send("dynamic/start", "POST", f"{dyn}/portforward", headers=(JSON, *u1), json=forward("pf-dyn"))
    await r.send("dynamic/list", "GET", f"{dyn}/portforward/list", headers=u1)
    await r.send("dynamic/list-another-user", "GET", f"{dyn}/portforward/list", headers=u2)
    await r.send("dynamic/get-another-user", "GET", f"{dyn}/portforward", query="id=pf-dyn", headers=u2)
    await r.send("dynamic/set-token", "POST", f"{dyn}/set-token", headers=(JSON, *u1), json={"token": VIEWER})
    await r.send("dynamic/start-cookie-no-rbac", "POST", f"{dyn}/portforward",
                 headers=(JSON, *u1, cookie(VIEWER, "dyn")), json=forward("pf-dyn-viewer"))
    await r.send("dynamic/no-such-context", "GET", "/clusters/other/version", headers=u1)
    await r.send("dynamic/not-base64", "GET", f"{dyn}/version",
                 headers=(("KUBECONFIG", "%%% not base64"), ("X-HEADLAMP-USER-ID", "u1")))
    await r.send("dynamic/not-a-kubeconfig", "GET", f"{dyn}/version",
                 headers=(("KUBECONFIG", "aGVsbG8sIHdvcmxkCg=="), ("X-HEADLAMP-USER-ID", "u1")))
    await r.send("dynamic/bare-name-unknown", "GET", f"{dyn}/version", note="without KUBECONFIG: no such cluster")
    await r.send("dynamic/list-without-user-id", "GET", f"{dyn}/portforward/list", headers=(("KUBECONFIG", DYN),),
                 note="the bare name is a prefix of every user's key")
    await r.send("dynamic/without-user-id", "GET", f"{dyn}/version", headers=(("KUBECONFIG", DYN),),
                 note="registers the cluster under its bare name")
    await r.send("dynamic/bare-name-known", "GET", f"{dyn}/version",
                 note="now known to every later caller, without KUBECONFIG")


async def plugins(r: Script) -> None:
    version = f"/clusters/{CLUSTER}/version"
    await r.send("plugins/version-before", "GET", version, note="no plugin change yet: no X-Reload")
    await r.send("plugins/list", "GET", "/plugins",
                 note="the frontend's plugin list; only a change after it was asked for is signalled")
    await r.add_plugin("transcript-plugin", note="a plugin folder (package.json, main.js) moved into the plugin folder")
    await r.send("plugins/list-after-change", "GET", "/plugins", until=lambda answer: bool(answer.get("json")),
                 note="the backend has seen the change (its event handler signals, then lists)")
    await r.send("plugins/portforward-list", "GET", f"{PF}/list", unordered=True,
                 note="X-Reload waits for a proxied answer")
    await r.send("plugins/reload", "GET", version, note="the first proxied answer after the change carries X-Reload")
    await r.send("plugins/after-reload", "GET", version, note="once")
    await r.send("config", "GET", "/config", note="the frontend's configuration")
