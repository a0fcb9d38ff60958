"""A real Kubernetes API server behind a cluster of the emulated backend, as ``headlamp-server`` has one.

With an :class:`UpstreamCluster` the emulator stops pretending about Kubernetes: proxied API requests
go to the real API server (Go's ``ReverseProxy`` in Headlamp), the port-forward permission check is a
real ``SelfSubjectAccessReview``, and a port-forward is a real one, made by ``kubectl port-forward``
(client-go's ``portforward`` package, as in Headlamp's ``backend/pkg/portforward``), or, with
``forwarder="websocket"``, the same protocol spoken in-process (:mod:`.wsforward`: about 100 kB a
forward instead of a 50 MB process, for the benchmark's thousands), so bytes written into the
forward's local port reach the pod. What stays emulated is only Headlamp's own bookkeeping
(the forward cache, its ids and list, cookies): the parts docs/headlamp-backend.md describes.

The real ``headlamp-server`` cannot be built here (the Go module proxy answers 403 for its module);
this is what the real-peer suite drives instead, against a real kube-apiserver and kwok. The emulator's
in-memory clusters are reached through the same client (:mod:`.memory`), their API server being the test kit's.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import pathlib
import re
import ssl
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

import aiohttp
import yaml
import yarl
from aiohttp import web

from . import identity, wsforward

# kubectl listens on localhost, as client-go does for headlamp-server: a line per address it took (either will do)
FORWARDING = re.compile(rb"^Forwarding from (?:127\.0\.0\.1|\[::1\]):(\d+) -> ")
PASSED_HEADERS = ("Accept", "Content-Type")  # the User-Agent is the backend's own (see .identity)
Forwarder = Literal["kubectl", "websocket"]


class PodProblem(NamedTuple):
    """Why a pod cannot be forwarded to: it does not exist (``missing``), or it is not Running."""

    missing: bool
    message: str  # the API server's message (``pods "x" not found``), or the backend's "pod is not running"


def is_watch(query_string: str) -> bool:
    """Whether a Kubernetes API request's query asks for a watch (``watch=1``, ``watch=true``)."""
    values = yarl.URL.build(query_string=query_string).query.getall("watch", [])
    return any(value.lower() in ("1", "true") for value in values)


@dataclasses.dataclass(kw_only=True)
class KubectlForward:
    """One ``kubectl port-forward`` process: the forward's listeners (localhost) and its stream to the pod."""

    process: asyncio.subprocess.Process
    port: int
    stderr: bytearray = dataclasses.field(default_factory=bytearray)
    readers: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)  # draining stdout and stderr

    def close(self) -> None:
        """Close the listener: end the process."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    @property
    def running(self) -> bool:
        """Whether the process (the listener) still runs."""
        return self.process.returncode is None

    def error(self) -> str:
        """What the process said before it ended (its ``error: ...`` line), for the forward's ``error``."""
        lines = [line.strip() for line in self.stderr.decode(errors="replace").splitlines() if line.strip()]
        last = lines[-1] if lines else f"port-forward process exited with {self.process.returncode}"
        return last.removeprefix("error: ").removeprefix("E0000 ")


RealForward = KubectlForward | wsforward.WebsocketForward


class UpstreamCluster:
    """A cluster of the emulated backend served by a real API server.

    Args:
        name: the cluster's name in Headlamp's URLs.
        server: the API server's URL (``https://127.0.0.1:6443``).
        ca_data: the PEM of the CA that signed the API server's certificate (None: the system's).
        token: the backend's own bearer token for it (Headlamp's kubeconfig user), used when a request
            carries none.
        kubectl: the ``kubectl`` binary that makes the port-forwards.
        forwarder: ``kubectl`` (a ``kubectl port-forward`` process per forward) or ``websocket``
            (:mod:`.wsforward`, in-process).
    """

    def __init__(self, name: str, *, server: str, ca_data: bytes | None, token: str | None, kubectl: str,
                 forwarder: Forwarder = "kubectl") -> None:
        self.name = name
        self.server = server.rstrip("/")
        self.ca_data = ca_data
        self.token = token
        self.kubectl = kubectl
        self.forwarder = forwarder
        self._session: aiohttp.ClientSession | None = None
        self._streams: aiohttp.ClientSession | None = None

    def _ssl(self) -> ssl.SSLContext | bool:
        if self.server.startswith("http://"):
            return False  # an in-memory API server (:mod:`.memory`) speaks plain HTTP on loopback
        context = ssl.create_default_context()
        if self.ca_data is not None:
            context.load_verify_locations(cadata=self.ca_data.decode())
        return context

    def session(self) -> aiohttp.ClientSession:
        """The client session to the API server (made on first use, in the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._ssl()))
        return self._session

    def streams(self) -> aiohttp.ClientSession:
        """The client session of the WebSocket forwards: unbounded, as each holds its connection for good."""
        if self._streams is None or self._streams.closed:
            self._streams = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._ssl(), limit=0))
        return self._streams

    async def close(self) -> None:
        """Close the client sessions."""
        for session in (self._session, self._streams):
            if session is not None:
                await session.close()

    def authorization(self, token: str | None) -> dict[str, str]:
        """The request's own token, else the backend's (None of either: no header)."""
        bearer = token if token is not None else self.token
        return {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}

    # -- the Kubernetes API proxy -------------------------------------------------------------------

    async def proxy(self, *, method: str, raw_path: str, query_string: str, body: bytes,
                    headers: Mapping[str, str], token: str | None, request: web.BaseRequest | None = None,
                    mark: Callable[[web.StreamResponse], web.StreamResponse] = lambda answer: answer,
                    ) -> web.StreamResponse:
        """Send one Kubernetes API request to the API server and answer with what it answered.

        ``raw_path`` and ``query_string`` go as the client encoded them (``?fieldManager=`` included); the
        ``User-Agent`` is the backend's own, whatever the client sent. A watch (``?watch=1``) is passed
        through as it comes, chunk by chunk, as Go's ``ReverseProxy`` passes a chunked answer on (this
        needs the client's ``request``); ``mark`` may add headers to the answer before it starts.
        """
        outgoing = {name: headers[name] for name in PASSED_HEADERS if name in headers}
        outgoing["User-Agent"] = identity.USER_AGENT
        outgoing.update(self.authorization(token))
        url = yarl.URL(self.server + raw_path + (f"?{query_string}" if query_string else ""), encoded=True)
        watching = request is not None and method == "GET" and is_watch(query_string)
        try:
            async with (self.streams() if watching else self.session()).request(
                    method, url, data=body or None, headers=outgoing) as answer:
                passed = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "audit-id")}
                if watching and answer.status < 300 and request is not None:
                    streamed = mark(web.StreamResponse(status=answer.status, headers=passed))
                    await streamed.prepare(request)
                    with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                        async for chunk in answer.content.iter_any():
                            await streamed.write(chunk)
                    return streamed
                data = await answer.read()
                return mark(web.Response(status=answer.status, body=data, headers=passed))
        except aiohttp.ClientError:
            return mark(web.Response(status=502))  # Go's ReverseProxy when the upstream does not answer

    async def _api(self, method: str, path: str, *, token: str | None, body: Any = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        headers.update(self.authorization(token))
        data = json.dumps(body).encode() if body is not None else None
        async with self.session().request(method, self.server + path, data=data, headers=headers) as answer:
            text = await answer.text()
            try:
                return answer.status, json.loads(text)
            except ValueError:
                return answer.status, {"message": text.strip()}

    async def portforward_denial(self, token: str | None, namespace: str, pod: str = "") -> str | None:
        """Headlamp's permission check: a SelfSubjectAccessReview for ``create pods/portforward``, refused in
        v0.45.0's words (``failed to check permissions: {client-go's error}``, ``access denied: {reason}``)."""
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": {"namespace": namespace, "verb": "create", "resource": "pods",
                                                  "subresource": "portforward", "name": pod}}}
        try:
            code, answer = await self._api("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                           token=token, body=review)
        except aiohttp.ClientError as exc:
            return f"permission check failed: failed to check permissions: {exc}"
        if code >= 400:  # client-go's StatusError reads as the Status' message (401: "Unauthorized")
            return f"permission check failed: failed to check permissions: {answer.get('message') or code}"
        verdict = answer.get("status") or {}
        if not verdict.get("allowed"):
            return f"permission check failed: access denied: {verdict.get('reason') or 'insufficient permissions'}"
        return None

    async def pod_problem(self, token: str | None, namespace: str, pod: str) -> PodProblem | None:
        """Why the pod cannot be forwarded to (gone, not Running), or None when it runs."""
        try:
            code, answer = await self._api("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}", token=token)
        except aiohttp.ClientError as exc:
            return PodProblem(False, str(exc))
        if code != 200:
            return PodProblem(code == 404, str(answer.get("message", f"status {code}")))
        phase = (answer.get("status") or {}).get("phase")
        return None if phase == "Running" else PodProblem(False, "pod is not running")  # v0.45.0's words

    async def ready_endpoint(self, token: str | None, namespace: str, service: str) -> tuple[str, str] | None:
        """The first ready pod of a Service's EndpointSlices, (namespace, name), as upstream #7273 resolves a
        Service to reconnect to (``resolveServicePod``: ``conditions.ready`` not false, a ``Pod`` target);
        None when there is none or the list fails."""
        path = (f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
                f"?labelSelector=kubernetes.io%2Fservice-name%3D{service}")
        try:
            code, answer = await self._api("GET", path, token=token)
        except aiohttp.ClientError:
            return None
        for item in (answer.get("items") or []) if code == 200 else []:
            for endpoint in item.get("endpoints") or []:
                target = endpoint.get("targetRef") or {}
                if (endpoint.get("conditions") or {}).get("ready") is not False and target.get("kind") == "Pod":
                    return str(target.get("namespace") or namespace), str(target.get("name"))
        return None

    # -- port-forwards --------------------------------------------------------------------------------

    def _kubeconfig(self, token: str | None) -> pathlib.Path:
        cluster: dict[str, Any] = {"server": self.server}
        if self.ca_data is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_data).decode()
        user = {"token": token} if token else {}
        document = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                    "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": user}],
                    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
        fd, name = tempfile.mkstemp(prefix="headlamp-emulator-", suffix=".kubeconfig")
        with os.fdopen(fd, "w") as file:
            yaml.safe_dump(document, file)
        return pathlib.Path(name)

    async def start_forward(self, *, token: str | None, namespace: str, pod: str, target_port: str, port: str,
                            ready_timeout: float) -> RealForward:
        """Start a forward to the pod; return once it listens on ``port`` (localhost: 127.0.0.1 and/or ::1).

        Raises:
            ForwardError-shaped ``RuntimeError(message)``: the forward failed before it was ready (the
            message is client-go's error, as Headlamp passes it on), or ``TimeoutError`` after
            ``ready_timeout`` seconds.
        """
        if self.forwarder == "websocket":  # the port is a number: the backend refused anything else before
            async with asyncio.timeout(ready_timeout):
                number = int(target_port)
                dial = wsforward.dialer(self.streams(), self.server, namespace=namespace, pod=pod, port=number,
                                        headers=self.authorization(token))
                return await wsforward.start(dial, port=port, target=number)
        return await self._start_kubectl(token=token, namespace=namespace, pod=pod, target_port=target_port,
                                         port=port, ready_timeout=ready_timeout)

    async def _start_kubectl(self, *, token: str | None, namespace: str, pod: str, target_port: str, port: str,
                             ready_timeout: float) -> KubectlForward:
        """Start ``kubectl port-forward`` to the pod; return once it listens."""
        kubeconfig = self._kubeconfig(token if token is not None else self.token)
        process = await asyncio.create_subprocess_exec(
            self.kubectl, "port-forward", f"--kubeconfig={kubeconfig}", "--address=localhost", "-n", namespace,
            f"pod/{pod}", f"{port}:{target_port}" if port else f":{target_port}",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        forward = KubectlForward(process=process, port=0)
        assert process.stdout is not None and process.stderr is not None
        drain = asyncio.ensure_future(_collect(process.stderr, forward.stderr))
        forward.readers.append(drain)
        try:
            async with asyncio.timeout(ready_timeout):
                while True:
                    line = await process.stdout.readline()
                    if not line:
                        await process.wait()
                        await asyncio.wait_for(drain, 1)
                        raise RuntimeError(forward.error())
                    if match := FORWARDING.match(line):
                        forward.port = int(match.group(1))
                        break
        except BaseException:
            forward.close()
            raise
        finally:  # kubectl has read its kubeconfig once it listens: a killed emulator leaves no token file behind
            with contextlib.suppress(OSError):
                kubeconfig.unlink()
        forward.readers.append(asyncio.ensure_future(_collect(process.stdout, None)))
        return forward


async def _collect(stream: asyncio.StreamReader, into: bytearray | None) -> None:
    """Drain a process's pipe (so it never blocks), keeping its last 8 KiB in ``into`` (None: nothing)."""
    while chunk := await stream.read(4096):
        if into is not None:
            into.extend(chunk)
            del into[:-8192]


def clusters_from_kubeconfig(path: pathlib.Path, *, kubectl: str,
                             forwarder: Forwarder = "kubectl") -> list[UpstreamCluster]:
    """One :class:`UpstreamCluster` per context of a kubeconfig file, named as the context (headlamp-server's rule).

    Supports what the real-peer suite writes: ``server``, ``certificate-authority(-data)`` and ``token``.
    """
    doc = yaml.safe_load(path.read_text())
    clusters = {c["name"]: c.get("cluster") or {} for c in doc.get("clusters") or []}
    users = {u["name"]: u.get("user") or {} for u in doc.get("users") or []}
    found = []
    for entry in doc.get("contexts") or []:
        context = entry.get("context") or {}
        cluster = clusters.get(context.get("cluster"), {})
        user = users.get(context.get("user"), {})
        ca: bytes | None = None
        if cluster.get("certificate-authority-data"):
            ca = base64.b64decode(cluster["certificate-authority-data"])
        elif cluster.get("certificate-authority"):
            ca = pathlib.Path(cluster["certificate-authority"]).read_bytes()
        found.append(UpstreamCluster(entry["name"], server=cluster.get("server", ""), ca_data=ca,
                                     token=user.get("token"), kubectl=kubectl, forwarder=forwarder))
    return found
