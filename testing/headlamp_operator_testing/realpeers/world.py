"""The real-peer world: a real control plane, the product installed on it as a user installs it, Headlamp.

:class:`World` starts, in one work folder:

- the control plane of :mod:`.controlplane` (etcd, kube-apiserver, controller-manager, scheduler,
  kwok with a node whose pods' port-forwards land on a local echo server);
- the product, as a user installs it: ``kubectl apply -k deploy/webhook/managed/`` (``manifests/``
  plus the managed-webhook RBAC); the in-cluster Deployment is scaled to 0 (kwok would only fake its
  pod), and the operator runs as a local process logged in with a token of the
  ``headlamp-operator`` ServiceAccount, so ``manifests/rbac.yaml`` is what it is allowed to do;
- the Headlamp backend, twice (one without and one with a backend token): the project's emulator in
  front of the real API server (``python -m headlamp_operator_testing.headlamp``, which takes
  headlamp-server's flags), or, with ``HEADLAMP_SERVER=/path/to/headlamp-server``, the real one
  (the Go module proxy refuses ``github.com/kubernetes-sigs/headlamp/backend``: a person brings the
  binary, from Headlamp's release archives or built from its source; docs/development.md); with
  ``HEADLAMP_UI=/path/to/built/frontend`` too, the real one (without a backend token) also serves Headlamp's
  web UI with this project's plugin (``plugin/dist/main.js``, ``make test-plugin``) in its plugins folder,
  for ``make test-plugin-ui`` (``tests/plugin_ui/``).

:meth:`World.e2e_environ` gives the ``E2E_*`` variables that point the e2e scenarios at this world.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable

from headlamp_operator_testing.process import operator_command, stop
from headlamp_operator_testing.realpeers.controlplane import ControlPlane, free_ports

ROOT = pathlib.Path(__file__).resolve().parents[3]
OPERATOR_NAMESPACE = "headlamp-operator"
CLUSTER = "real"  # the cluster's name in Headlamp: the context name of Headlamp's kubeconfig
BACKEND_TOKEN = "real-peers-backend-token"
SYNC_INTERVAL = "5"
HEADLAMP_SERVER = "HEADLAMP_SERVER"  # the variable naming a real headlamp-server binary to run instead of the emulator
HEADLAMP_UI = "HEADLAMP_UI"  # the variable naming a built Headlamp frontend for the real headlamp-server to serve
PLUGIN_NAME = "headlamp-operator"  # the plugin's folder under the world's -plugins-dir


def headlamp_server() -> pathlib.Path | None:
    """The real headlamp-server to run (``$HEADLAMP_SERVER``), or None for the emulator.

    Raises:
        FileNotFoundError: the variable names no executable file (a run that asked for the real
            backend must not quietly get the emulator).
    """
    value = os.environ.get(HEADLAMP_SERVER, "").strip()
    if not value:
        return None
    path = pathlib.Path(value).expanduser()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise FileNotFoundError(f"{HEADLAMP_SERVER}={value}: not an executable file")
    return path.resolve()


def headlamp_ui() -> pathlib.Path | None:
    """The built Headlamp frontend to serve (``$HEADLAMP_UI``: the folder with ``index.html``), or None.

    Raises:
        FileNotFoundError: the variable names no folder with an ``index.html``.
    """
    value = os.environ.get(HEADLAMP_UI, "").strip()
    if not value:
        return None
    path = pathlib.Path(value).expanduser()
    if not (path / "index.html").is_file():
        raise FileNotFoundError(f"{HEADLAMP_UI}={value}: not a built Headlamp frontend (no index.html)")
    return path.resolve()


def install_plugin(plugins: pathlib.Path, source: pathlib.Path = ROOT / "plugin") -> pathlib.Path:
    """Copy the built plugin (``plugin/dist/main.js`` and ``plugin/package.json``) into ``plugins``, as
    Headlamp's plugin manager unpacks its archive; returns the plugin's folder.

    Raises:
        FileNotFoundError: the plugin is not built (``make test-plugin``).
    """
    main = source / "dist" / "main.js"
    if not main.is_file():
        raise FileNotFoundError(f"{main}: the plugin is not built (make test-plugin)")
    folder = plugins / PLUGIN_NAME
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(main, folder / "main.js")
    shutil.copyfile(source / "package.json", folder / "package.json")
    return folder


def headlamp_server_version(binary: pathlib.Path) -> str:
    """What ``headlamp-server -version`` prints: ``Headlamp 0.45.0 (linux/amd64)`` (``unknown`` when hand-built)."""
    done = subprocess.run([str(binary), "-version"], capture_output=True, text=True, timeout=30, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("Headlamp")]
    return lines[-1] if lines else "version unknown"


def wait_for(predicate: Callable[[], bool], *, within: float, what: str, log: Callable[[], str]) -> None:
    """Poll ``predicate()`` every 0.1 s until it is true; raise after ``within`` seconds, with ``log()``'s tail."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within:g} s\n{log()[-3000:]}")
        time.sleep(0.1)


@dataclasses.dataclass
class Process:
    """A local process of the world (Headlamp or the operator), logging to a file, restartable."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: pathlib.Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait(timeout=10)
        else:
            stop(self.process, grace=10.0)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def answers(url: str) -> bool:
    """Whether ``url`` answers at all without a server error (a process that serves, even a 4xx)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


class World:
    """Everything the real-peer suite runs against; :meth:`start` brings it up, :meth:`stop` takes it down."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        self.cp = ControlPlane(workdir / "control-plane")
        self.headlamp_port = self.guarded_port = self.metrics_port = self.webhook_port = self.liveness_port = 0
        self.headlamp: Process | None = None
        self.guarded: Process | None = None
        self.operator: Process | None = None
        self.operator_restarts = 0  # times the supervisor restarted an operator that exited by itself
        self._operator_wanted = False
        self._operator_lock = threading.Lock()
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self.install_log: list[str] = []
        self.headlamp_server = headlamp_server()  # None: the emulator
        self.headlamp_ui = headlamp_ui()  # with the real headlamp-server: its web UI and the plugin, served

    @property
    def headlamp_url(self) -> str:
        return f"http://127.0.0.1:{self.headlamp_port}"

    @property
    def guarded_url(self) -> str:
        return f"http://127.0.0.1:{self.guarded_port}"

    # -- bring-up -----------------------------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cp.start()
        ports = free_ports(5)  # picked after the control plane took its own
        self.headlamp_port, self.guarded_port = ports[:2]  # the second instance has a backend token
        self.metrics_port, self.webhook_port, self.liveness_port = ports[2:]
        self.install()
        headlamp_kubeconfig = self.cp.kubeconfig(self.workdir / "headlamp.kubeconfig", token=self.cp.admin_token,
                                                 context=CLUSTER, user="headlamp")
        self.headlamp = self._headlamp("headlamp", self.headlamp_port, headlamp_kubeconfig, backend_token=None)
        self.guarded = self._headlamp("headlamp-guarded", self.guarded_port, headlamp_kubeconfig,
                                      backend_token=BACKEND_TOKEN)
        for process in (self.headlamp, self.guarded):
            self.start_headlamp(process)
        self.operator = self._operator()
        self.start_operator()

    def install(self) -> None:
        """One ``kubectl apply -k deploy/webhook/managed/`` as a user runs it (it must succeed on an empty
        cluster: issue 12), then the in-cluster Deployment scaled to 0; what kubectl said is kept."""
        first = self.cp.kubectl("apply", "-k", str(ROOT / "deploy" / "webhook" / "managed"))
        self.install_log.append(first.stdout + first.stderr)
        self.cp.kubectl("-n", OPERATOR_NAMESPACE, "scale", "deployment/headlamp-operator", "--replicas=0")
        token = self.cp.kubectl("-n", OPERATOR_NAMESPACE, "create", "token", "headlamp-operator",
                                "--duration=24h").stdout.strip()
        self.operator_kubeconfig = self.cp.kubeconfig(self.workdir / "operator.kubeconfig", token=token,
                                                      context="operator", user="headlamp-operator")

    @property
    def headlamp_description(self) -> str:
        """Which Headlamp backend the world runs, for the suite's banner."""
        if self.headlamp_server is None:
            return "headlamp: emulator"
        served = f"; web UI {self.headlamp_ui} with the plugin" if self.headlamp_ui is not None else ""
        return f"headlamp-server: {headlamp_server_version(self.headlamp_server)} ({self.headlamp_server}){served}"

    def _headlamp(self, name: str, port: int, kubeconfig: pathlib.Path, *, backend_token: str | None) -> Process:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLAMP_", "KUBECONFIG"))}
        if backend_token:
            env["HEADLAMP_BACKEND_TOKEN"] = backend_token
        flags = ["-kubeconfig", str(kubeconfig), "-listen-addr", "127.0.0.1", "-port", str(port),
                 "-enable-dynamic-clusters"]
        if self.headlamp_server is not None:
            home = self.workdir / f"{name}-home"  # its plugin and kubeconfig folders, not the person's
            home.mkdir(exist_ok=True)
            env["HOME"] = str(home)
            if self.headlamp_ui is not None and backend_token is None:  # the UI a browser opens, with the plugin
                plugins, user_plugins = self.workdir / "plugins", self.workdir / "user-plugins"
                install_plugin(plugins)
                user_plugins.mkdir(exist_ok=True)
                flags += ["-html-static-dir", str(self.headlamp_ui), "-plugins-dir", str(plugins),
                          "-user-plugins-dir", str(user_plugins)]
            command = [str(self.headlamp_server), *flags]
        else:
            command = [sys.executable, "-m", "headlamp_operator_testing.headlamp", *flags,
                       "-kubectl", str(self.cp.binary("kubectl"))]
        return Process(name=name, command=command, env=env, log_path=self.workdir / f"{name}.log")

    def start_headlamp(self, process: Process) -> None:
        process.start()
        port = process.command[process.command.index("-port") + 1]
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/clusters/{CLUSTER}/version") or not process.alive(),
                 within=30, what=f"{process.name} answering", log=process.log)
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log()[-3000:]}")

    def _operator(self, **headlamp: str) -> Process:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLAMP_", "KUBECONFIG"))}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        env.update({"KUBECONFIG": str(self.operator_kubeconfig), "HEADLAMP_URL": self.headlamp_url,
                    "HEADLAMP_SYNC_INTERVAL": SYNC_INTERVAL, "PYTHONUNBUFFERED": "1", "POD_ID": "operator-local"})
        env.update(headlamp)
        command = [*operator_command(), "run", "--all-namespaces",
                   f"--liveness=http://127.0.0.1:{self.liveness_port}/healthz", f"--metrics-port={self.metrics_port}",
                   f"--webhook-port={self.webhook_port}", "--webhook-addr=127.0.0.1", "--webhook-host=127.0.0.1",
                   "--webhook-managed", "--lease-duration=5"]
        return Process(name="operator", command=command, env=env, log_path=self.workdir / "operator.log")

    def start_operator(self) -> None:
        """Start the operator process; from then on it is restarted whenever it exits, as a Deployment's pod is
        (an operator that lost its Lease exits on purpose, and comes back as a standby)."""
        assert self.operator is not None
        with self._operator_lock:
            self.operator.start()
            self._operator_wanted = True
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, name="operator-restarts", daemon=True)
            self._supervisor.start()
        operator = self.operator
        wait_for(lambda: answers(f"http://127.0.0.1:{self.liveness_port}/healthz") or not operator.alive(),
                 within=60, what="the operator's liveness probe", log=operator.log)
        if not operator.alive():
            raise RuntimeError(f"the operator exited:\n{operator.log()[-3000:]}")

    def stop_operator(self, *, kill: bool = False) -> None:
        """Stop the operator (SIGTERM, or SIGKILL with ``kill``) and keep it stopped."""
        assert self.operator is not None
        with self._operator_lock:
            self._operator_wanted = False
            self.operator.stop(kill=kill)

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            with self._operator_lock:
                operator = self.operator
                if self._operator_wanted and operator is not None and not operator.alive():
                    self.operator_restarts += 1
                    operator.start()

    def restart_operator(self, **headlamp: str) -> None:
        """Stop the operator and start it again, with ``HEADLAMP_*`` variables changed (none: the defaults)."""
        self.stop_operator()
        self.operator = self._operator(**headlamp)
        self.start_operator()

    def stop(self) -> None:
        self._stopping.set()
        self._operator_wanted = False
        for process in (self.operator, self.guarded, self.headlamp):
            if process is not None:
                with contextlib.suppress(Exception):
                    process.stop()
        self.cp.stop()

    # -- what the e2e suite needs -------------------------------------------------------------------

    def e2e_environ(self) -> dict[str, str]:
        """``E2E_*`` variables pointing the e2e scenarios at this world (the operator already runs: ``deployed``)."""
        kubeconfig = self.cp.kubeconfig(self.workdir / "e2e.kubeconfig", token=self.cp.admin_token, context=CLUSTER,
                                        user="admin")
        return {"E2E_KUBECONFIG": str(kubeconfig), "E2E_HEADLAMP_URL": self.headlamp_url, "E2E_CLUSTER": CLUSTER,
                "E2E_OPERATOR": "deployed", "E2E_TIMEOUT": "60", "E2E_IMAGE": "registry.k8s.io/pause:3.9"}
