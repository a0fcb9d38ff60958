"""A real Kubernetes control plane on loopback, from the binaries built by ``python3 peers/build.py``.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok run as child processes of this
process, each logging into its own file in the work folder. kwok plays the only node, ``kwok-node-0``: it
turns pods Running and Ready with the upstream "fast" stages, and serves the kubelet's port-forward
endpoint, which sends every pod port to a local TCP echo server.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import dataclasses
import datetime
import functools
import importlib.util
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Self

import yaml

from headlamp_operator_testing.realpeers import certs

REPO = pathlib.Path(__file__).resolve().parents[3]
NODE_NAME = "kwok-node-0"
KWOK_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# The upstream stages kwokctl itself uses by default (kustomize/stage/fast), read from the Go module cache.
KWOK_STAGES = ("node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
               "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml")
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class ControlPlaneError(RuntimeError):
    """A process of the control plane failed to start, exited, or was not ready in time."""


class KubectlError(subprocess.CalledProcessError):
    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout: {self.stdout}\nstderr: {self.stderr}"


@functools.cache
def peers_build() -> types.ModuleType:
    """``peers/build.py``, imported from its path (a script, not a package): where each peer is cached."""
    spec = importlib.util.spec_from_file_location("_realpeers_build", REPO / "peers" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def peer_binary(peer: str, name: str) -> pathlib.Path:
    """The path of a built binary; raises if ``peers/build.py`` has not built it."""
    path = pathlib.Path(peers_build().peer_dir(peer)) / name
    if not path.is_file():
        raise ControlPlaneError(f"{path} is missing: run `python3 peers/build.py {peer}` first")
    return path


def kwok_stages() -> str:
    """The upstream kwok stage documents, from the module cache of the kwok version that was built."""
    build = peers_build()
    version = str(build.required_version(build.PEERS["kwok"]))
    go = shutil.which("go")
    cache = os.environ.get("GOMODCACHE") or (
        subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
        if go else str(pathlib.Path.home() / "go" / "pkg" / "mod"))
    folder = pathlib.Path(cache) / f"sigs.k8s.io/kwok@{version}/kustomize/stage"
    missing = [name for name in KWOK_STAGES if not (folder / name).is_file()]
    if missing:
        raise ControlPlaneError(f"kwok stages {missing} not in {folder}: run `python3 peers/build.py kwok` first")
    return "\n---\n".join((folder / name).read_text() for name in KWOK_STAGES)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1 (all held open while picking, so none repeats)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


class _EchoServer:
    """kwok's port-forward target: a TCP echo server on 127.0.0.1, any number of connections on one thread.

    Every connection is a coroutine of one event loop (a thread each once held 7,854 threads behind a
    real headlamp-server, whose connections stay open); :meth:`stop` closes them all at once, so the
    world stops in seconds whatever the backend left open.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="realpeers-echo", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    def start(self) -> int:
        """Listen on a free port of 127.0.0.1 and serve from a thread of its own; returns the port."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._echo, "127.0.0.1", 0), self._loop).result(timeout=10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()

    def stop(self) -> None:
        """Close the listener and every connection, and end the thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


@dataclasses.dataclass
class _Process:
    name: str
    args: list[str]
    log: pathlib.Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self, cwd: pathlib.Path) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(self.args)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(self.args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, grace: float = 5) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclasses.dataclass
class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok, on 127.0.0.1, in a work folder."""

    workdir: pathlib.Path
    server: str = dataclasses.field(init=False, default="")
    ca_file: pathlib.Path = dataclasses.field(init=False)
    admin_token: str = dataclasses.field(init=False)
    tokens: dict[str, str] = dataclasses.field(init=False)
    echo_port: int = dataclasses.field(init=False, default=0)
    versions: dict[str, str] = dataclasses.field(init=False, default_factory=dict)
    admin_kubeconfig: pathlib.Path = dataclasses.field(init=False)
    startup_seconds: float = dataclasses.field(init=False, default=0.0)
    _component_tokens: dict[str, str] = dataclasses.field(init=False, repr=False)
    _processes: dict[str, _Process] = dataclasses.field(init=False, default_factory=dict, repr=False)
    _echo: _EchoServer | None = dataclasses.field(init=False, default=None, repr=False)
    _ssl: ssl.SSLContext | None = dataclasses.field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.workdir = pathlib.Path(self.workdir).resolve()
        self.ca_file = self.workdir / "pki" / "ca.crt"
        self.admin_kubeconfig = self.workdir / "admin.kubeconfig"
        self.admin_token = secrets.token_hex(16)
        self.tokens = {"alice": secrets.token_hex(16), "bob": secrets.token_hex(16)}
        # (started, ready) local times of each kube-apiserver restart
        self.apiserver_restarts: list[tuple[datetime.datetime, datetime.datetime]] = []
        self._component_tokens = {name: secrets.token_hex(16) for name in ("kube-controller-manager", "kube-scheduler")}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self, *, timeout: float = 120) -> None:
        """Start everything; return when /readyz is ok, the node is Ready and the default ServiceAccount exists."""
        started = time.monotonic()
        deadline = started + timeout
        for attempt in range(3):
            atexit.register(self.stop)  # no leftovers even if the caller never stops (the children have own sessions)
            try:
                self._start(deadline)
                break
            except ControlPlaneError as e:
                self.stop()
                # A port picked free was taken meanwhile (another process's outgoing connection): pick again.
                if "address already in use" not in str(e) or attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise
        self.startup_seconds = round(time.monotonic() - started, 1)

    def _start(self, deadline: float) -> None:
        wd = self.workdir
        wd.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(wd / "etcd", ignore_errors=True)  # a fresh cluster on every start
        pki = certs.generate(wd / "pki")
        self._ssl = ssl.create_default_context(cafile=str(pki.ca_cert))
        # kube-controller-manager and kube-scheduler serve nothing we need (--secure-port=0): fewer picked
        # ports that an outgoing connection's source port may take before the component binds them.
        etcd_port, peer_port, api_port, kwok_port = free_ports(4)
        self.server = f"https://127.0.0.1:{api_port}"
        self._echo = _EchoServer()
        self.echo_port = self._echo.start()

        users = [(self.admin_token, "admin", "system:masters")]
        users += [(token, name, "") for name, token in self.tokens.items()]
        users += [(token, f"system:{name}", "") for name, token in self._component_tokens.items()]
        token_file = wd / "tokens.csv"
        token_file.write_text("".join(f'{t},{u},{u},"{g}"\n' if g else f"{t},{u},{u}\n" for t, u, g in users))

        etcd = f"http://127.0.0.1:{etcd_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        self._add("etcd", "--name=default", f"--data-dir={wd / 'etcd'}", f"--listen-client-urls={etcd}",
                  f"--advertise-client-urls={etcd}", f"--listen-peer-urls={peer}",
                  f"--initial-advertise-peer-urls={peer}", f"--initial-cluster=default={peer}", "--unsafe-no-fsync")
        self._wait("etcd", deadline, "etcd /health", lambda: b'"true"' in self._get(f"{etcd}/health")[1])
        self.versions["etcd"] = json.loads(self._get(f"{etcd}/version")[1])["etcdserver"]

        self._add("kube-apiserver", f"--etcd-servers={etcd}", "--bind-address=127.0.0.1",
                  "--advertise-address=127.0.0.1", f"--secure-port={api_port}", f"--cert-dir={wd / 'apiserver'}",
                  f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
                  f"--client-ca-file={pki.ca_cert}", f"--token-auth-file={token_file}",
                  # published in kube-system/extension-apiserver-authentication for the delegated authentication of
                  # kube-controller-manager and kube-scheduler (without it, they log "missing content for CA bundle")
                  f"--requestheader-client-ca-file={pki.ca_cert}", "--requestheader-allowed-names=front-proxy-client",
                  "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
                  "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                  "--authorization-mode=Node,RBAC", "--service-cluster-ip-range=10.96.0.0/16",
                  "--allow-privileged=true", "--enable-priority-and-fairness=false", "--profiling=false",
                  "--endpoint-reconciler-type=none",  # Endpoints may not hold a loopback address
                  "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                  f"--service-account-key-file={pki.sa_public_key}",
                  f"--service-account-signing-key-file={pki.sa_private_key}",
                  "--api-audiences=https://kubernetes.default.svc.cluster.local",
                  f"--kubelet-client-certificate={pki.kubelet_client_cert}",
                  f"--kubelet-client-key={pki.kubelet_client_key}",
                  f"--kubelet-certificate-authority={pki.ca_cert}",
                  "--kubelet-preferred-address-types=InternalIP")  # kwok's node Hostname does not resolve
        self._wait_apiserver(deadline)
        self.versions["kube-apiserver"] = json.loads(self._get(f"{self.server}/version")[1])["gitVersion"]
        self.kubeconfig(self.admin_kubeconfig, token=self.admin_token, user="admin")

        configs = {name: self.kubeconfig(wd / f"{name}.kubeconfig", token=token, user=f"system:{name}")
                   for name, token in self._component_tokens.items()}
        kcm = configs["kube-controller-manager"]
        self._add("kube-controller-manager", f"--kubeconfig={kcm}", f"--authentication-kubeconfig={kcm}",
                  f"--authorization-kubeconfig={kcm}",
                  "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={wd / 'kcm'}",
                  "--leader-elect=false", "--use-service-account-credentials=true", "--profiling=false",
                  f"--service-account-private-key-file={pki.sa_private_key}", f"--root-ca-file={pki.ca_cert}",
                  f"--cluster-signing-cert-file={pki.ca_cert}", f"--cluster-signing-key-file={pki.ca_key}",
                  # The node lifecycle controller must not find kwok's node unhealthy: it did, about a minute
                  # in, in a CI run; kwok then re-ran its node-initialize stage, whose status write drops
                  # the node's addresses, and every port-forward failed for good with "no preferred
                  # addresses found". The controller stays (it lifts the not-ready taint a new node gets).
                  "--node-monitor-grace-period=1h", "--node-startup-grace-period=1h")
        sched = configs["kube-scheduler"]
        self._add("kube-scheduler", f"--kubeconfig={sched}", f"--authentication-kubeconfig={sched}",
                  f"--authorization-kubeconfig={sched}", "--bind-address=127.0.0.1", "--secure-port=0",
                  f"--cert-dir={wd / 'scheduler'}", "--leader-elect=false", "--profiling=false")

        forward = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward", "metadata": {"name": "echo"},
                   "spec": {"forwards": [{"target": {"address": "127.0.0.1", "port": self.echo_port}}]}}
        kwok_config = wd / "kwok.yaml"
        kwok_config.write_text(kwok_stages() + "\n---\n" + yaml.safe_dump(forward))
        self._add("kwok", f"--kubeconfig={self.admin_kubeconfig}", f"--config={kwok_config}",
                  "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector={}={}".format(*KWOK_ANNOTATION),
                  "--node-ip=127.0.0.1", f"--node-port={kwok_port}", f"--server-address=127.0.0.1:{kwok_port}",
                  f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
                  "--node-lease-duration-seconds=40")

        resources = {"cpu": "32", "memory": "256Gi", "pods": "110"}
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": NODE_NAME, "annotations": {KWOK_ANNOTATION[0]: KWOK_ANNOTATION[1],
                                                                 "node.alpha.kubernetes.io/ttl": "0"},
                             "labels": {"type": "kwok", "kubernetes.io/hostname": NODE_NAME,
                                        "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
                "status": {"allocatable": resources, "capacity": resources}}
        status, body = self._get(f"{self.server}/api/v1/nodes", body=node)
        if status not in (201, 409):
            raise ControlPlaneError(f"creating node {NODE_NAME}: HTTP {status}: {body.decode(errors='replace')}")
        self._wait("kwok", deadline, f"node {NODE_NAME} Ready", self._node_ready)
        self._wait("kube-controller-manager", deadline, "ServiceAccount default/default",
                   lambda: self._get(f"{self.server}/api/v1/namespaces/default/serviceaccounts/default")[0] == 200)
        self.versions["kwok"] = self._version_of("kwok")
        self.versions["kubectl"] = self._version_of("kubectl")

    def stop(self) -> None:
        """Terminate every process (SIGTERM, then SIGKILL after 5 s) and the echo server."""
        atexit.unregister(self.stop)
        for name in reversed(ORDER):
            if name in self._processes:
                self._processes[name].stop()
        if self._echo is not None:
            self._echo.stop()
            self._echo = None

    def stop_apiserver(self) -> None:
        self._processes["kube-apiserver"].stop()

    def start_apiserver(self, *, timeout: float = 60) -> None:
        """Start kube-apiserver again, with the same flags and port, and wait for /readyz.

        When it was started and when /readyz answered are noted (``apiserver_restarts``): from its start
        until a moment after it is ready, its RBAC authorizer may deny what is allowed (it answers
        requests before its caches are filled); clients retry.
        """
        started = datetime.datetime.now()
        self._processes["kube-apiserver"].start(self.workdir)
        self._wait_apiserver(time.monotonic() + timeout)
        self.apiserver_restarts.append((started, datetime.datetime.now()))

    # -- clients ---------------------------------------------------------------------------------------------

    def kubeconfig(self, path: pathlib.Path, *, token: str, context: str = "real", user: str = "user") -> pathlib.Path:
        """Write a kubeconfig for ``token`` (server, CA data, bearer token) to ``path``; return ``path``."""
        ca_data = base64.b64encode(self.ca_file.read_bytes()).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
            "clusters": [{"name": context, "cluster": {"server": self.server, "certificate-authority-data": ca_data}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path

    def kubectl(self, *args: str, kubeconfig: pathlib.Path | None = None, input: str | None = None,
                check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the built kubectl with ``--kubeconfig`` (the admin's by default)."""
        command = [str(self.binary("kubectl")), f"--kubeconfig={kubeconfig or self.admin_kubeconfig}", *args]
        done = subprocess.run(command, input=input, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise KubectlError(done.returncode, command, done.stdout, done.stderr)
        return done

    def binary(self, name: str) -> pathlib.Path:
        """A built binary by name: kubectl, kube-apiserver, ..., etcd, kwok."""
        return peer_binary(name if name in ("etcd", "kwok") else "kubernetes", name)

    def log(self, process_name: str) -> str:
        """The captured stdout and stderr of one process (all its runs)."""
        return (self.workdir / "logs" / f"{process_name}.log").read_text(errors="replace")

    # -- internals -------------------------------------------------------------------------------------------

    def _add(self, name: str, *args: str) -> None:
        """Register a process and start it."""
        (self.workdir / "logs").mkdir(exist_ok=True)
        process = _Process(name, [str(self.binary(name)), *args], self.workdir / "logs" / f"{name}.log")
        self._processes[name] = process
        process.start(self.workdir)

    def _wait_apiserver(self, deadline: float) -> None:
        self._wait("kube-apiserver", deadline, "kube-apiserver /readyz",
                   lambda: self._get(f"{self.server}/readyz")[0] == 200)

    def _wait(self, name: str, deadline: float, what: str, check: Callable[[], bool]) -> None:
        """Poll ``check`` every 0.2 s until it holds; raise with a log tail on timeout or on a process exit."""
        while True:
            for process in self._processes.values():
                if process.popen is not None and process.popen.poll() is not None:
                    raise ControlPlaneError(f"{process.name} exited with code {process.popen.returncode} while "
                                            f"waiting for {what}; its log ends with:\n{process.tail()}")
            if check():
                return
            if time.monotonic() > deadline:
                raise ControlPlaneError(f"timed out waiting for {what}; {name} log ends with:\n"
                                        f"{self._processes[name].tail()}")
            time.sleep(0.2)

    def _get(self, url: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """GET (or POST ``body`` as JSON) with the admin token; (0, error) if the connection fails."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        context = self._ssl if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (OSError, ValueError) as error:
            return 0, str(error).encode()

    def _node_ready(self) -> bool:
        status, body = self._get(f"{self.server}/api/v1/nodes/{NODE_NAME}")
        if status != 200:
            return False
        conditions = json.loads(body).get("status", {}).get("conditions", [])
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    def _version_of(self, name: str) -> str:
        args = ["version", "--client", "-o", "json"] if name == "kubectl" else ["--version"]
        out = subprocess.run([str(self.binary(name)), *args], capture_output=True, text=True, timeout=30).stdout
        if name == "kubectl":
            return str(json.loads(out)["clientVersion"]["gitVersion"])
        match = re.search(r"v\d+\.\d+\.\d+\S*", out)
        return match.group(0) if match else out.strip()
