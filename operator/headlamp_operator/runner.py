"""Running the operator: kopf with this project's registry, settings and login."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import http.server
import logging
import os
import secrets as token_source
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator

import kopf

from headlamp_operator import logs, metrics
from headlamp_operator.handlers import login, registration
from headlamp_operator.kube import election, secrets
from headlamp_operator.kube import login as kube_login
from headlamp_operator.kube.api import Connection, KubeApi
from headlamp_operator.scheduling.state import Runtime
from headlamp_operator.settings import Settings

logger = logging.getLogger("headlamp_operator")

LEASE_NAME = "headlamp-operator"  # the coordination.k8s.io Lease the replicas elect a leader on


def build_registry(
        settings: Settings, *, with_login: bool = True,
        connect: Callable[[], Connection] = kube_login.connect) -> tuple[kopf.OperatorRegistry, Runtime]:
    """A registry with every handler of the operator, and the runtime those handlers share.

    ``with_login=False`` leaves kopf's login to the caller (a test harness); ``connect`` gives the
    credentials of the operator's own API calls (Secrets, statuses), the same as kopf's by default.
    """
    registry = kopf.OperatorRegistry()
    kube = KubeApi(connect)
    runtime = Runtime(settings=settings, kube=kube,
                      read_secret=secrets.SecretReader(kube, max_size=settings.backend.max_cached))
    if with_login:
        login.register(registry)
    registration.register(registry, runtime)
    return registry, runtime


def lease_for(settings: Settings) -> tuple[str, str]:
    """The Lease (namespace, name) the replicas of this Deployment elect their leader on.

    Its namespace is the pod's (``POD_NAMESPACE``); a sharded operator (``--namespace``) gets a Lease
    of its own per set of namespaces, so shards never wait for each other.
    """
    namespace, run = settings.peering.namespace, settings.run
    if run.clusterwide:
        return namespace, LEASE_NAME
    digest = hashlib.sha256(",".join(sorted(run.namespaces)).encode()).hexdigest()[:10]
    return namespace, f"{LEASE_NAME}-{digest}"


def identity(settings: Settings) -> str:
    """This replica's name in the Lease and its Events: ``POD_ID``, else host, process and a random part."""
    return settings.peering.identity or f"{socket.gethostname()}-{os.getpid()}-{token_source.token_hex(3)}"


class _StandbyProbe(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"standby": true}')

    def log_message(self, format: str, *args: object) -> None:
        pass  # a probe every few seconds is not news


@contextlib.contextmanager
def _standby_liveness(url: str | None) -> Iterator[None]:
    """Answer the liveness probe while waiting as a standby (kopf serves it once this replica acts)."""
    if url is None:
        yield
        return
    parsed = urllib.parse.urlsplit(url)
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer((parsed.hostname or "0.0.0.0", parsed.port or 80), _StandbyProbe)  # noqa: S104
    thread = threading.Thread(target=server.serve_forever, name="standby-liveness", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


async def operate(settings: Settings, *, stop_flag: asyncio.Event | None = None,
                  ready_flag: asyncio.Event | None = None) -> None:
    """Run the operator until cancelled or ``stop_flag`` is set; as the leader only, unless standalone.

    Raises:
        election.LeadershipLost: the Lease could not be renewed; the process should exit (and restart).
    """
    registry, _ = build_registry(settings)
    port = settings.run.metrics_port
    metrics_server = await metrics.serve(port) if port is not None else None
    try:
        await _operate(registry, settings, stop_flag=stop_flag, ready_flag=ready_flag)
    finally:
        if metrics_server is not None:
            await metrics_server.cleanup()


async def _operate(registry: kopf.OperatorRegistry, settings: Settings, *,
                   stop_flag: asyncio.Event | None, ready_flag: asyncio.Event | None) -> None:
    stop = stop_flag or asyncio.Event()
    run = settings.run

    async def run_kopf() -> None:
        await kopf.operator(registry=registry, clusterwide=run.clusterwide, namespaces=list(run.namespaces),
                            standalone=True, liveness_endpoint=run.liveness, stop_flag=stop,
                            ready_flag=ready_flag)

    if settings.peering.standalone:
        await run_kopf()
        return
    namespace, name = lease_for(settings)
    elector = election.LeaderElector(name=name, namespace=namespace, identity=identity(settings),
                                     duration=settings.peering.lifetime, api=KubeApi(kube_login.connect))
    with _standby_liveness(run.liveness):
        await elector.acquire()
    operator = asyncio.create_task(run_kopf())
    holder = asyncio.create_task(elector.hold())
    try:
        await asyncio.wait({operator, holder}, return_when=asyncio.FIRST_COMPLETED)
        if holder.done():  # leadership lost: stop acting before anyone else may take over
            stop.set()
            await operator
            holder.result()
        operator.result()
    finally:
        holder.cancel()
        if not holder.done() or not holder.exception():
            await elector.release()
        await elector.close()


# The cyclic collector's young-generation threshold (CPython's default: 700 allocations). The operator
# keeps thousands of objects per watched resource; with the default, a burst spends a good part of its
# CPU in full collections, for little memory saved (bench/README.md has the figures).
GC_YOUNG_THRESHOLD = 7000


def prepare_process() -> None:
    """Keep the long-lived objects of the imported modules out of every later collection, and collect less often.

    ``gc.freeze`` moves what exists once the modules are loaded (kopf, aiohttp: tens of thousands of
    objects) to a generation the collector never scans again.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def run(settings: Settings) -> None:
    """The blocking entry point of ``headlamp-operator run``."""
    prepare_process()
    logs.configure(log_format=settings.run.log_format, level=settings.run.log_level)
    try:
        asyncio.run(operate(settings))
    except election.LeadershipLost as e:
        raise SystemExit(f"headlamp-operator: stopped: {e}; restarting as a standby is safe") from None
