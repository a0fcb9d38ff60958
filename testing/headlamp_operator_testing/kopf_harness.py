"""Run a kopf operator in-process against the in-memory Kubernetes API, for tests and the sandbox.

kopf runs in its own thread with its own event loop (as ``kopf.testing.KopfRunner`` does): on exit,
``kopf.run_tasks`` cancels every task of its loop that it did not start with, which would include
the emulator's server tasks and the test's own tasks if they shared a loop.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import pathlib
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Collection, Coroutine
from typing import Any, TypeVar

import kmock
import kopf
from kopf._cogs.structs.references import Insights  # kopf accepts it, but does not export it

from headlamp_operator_testing.kubernetes import KubeClient, KubernetesEmulator, write_kubeconfig

T = TypeVar('T')
SettingsHook = Callable[[kopf.OperatorSettings], None]

# One login handler per registry; it reads the URL of the current harness from here.
_LOGIN_TARGETS: weakref.WeakKeyDictionary[kopf.OperatorRegistry, dict[str, str]] = weakref.WeakKeyDictionary()


def point_login_at(registry: kopf.OperatorRegistry, url: str) -> None:
    """Make kopf log into ``url`` (no auth): registers one ``@kopf.on.login`` handler per registry."""
    target = _LOGIN_TARGETS.get(registry)
    if target is None:
        target = _LOGIN_TARGETS[registry] = {}

        @kopf.on.login(registry=registry, id='kubernetes-emulator')
        def login_to_emulator(**_: Any) -> kopf.ConnectionInfo:
            return kopf.ConnectionInfo(server=target['url'], default_namespace='default', priority=1000)

    target['url'] = url


def fast_settings(settings: kopf.OperatorSettings) -> None:
    """Settings for a quick, deterministic operator in tests (applied before the caller's hook)."""
    settings.peering.standalone = True  # no KopfPeering CRDs in the emulator: no peering at all
    settings.watching.server_timeout = 60  # the emulator honours timeoutSeconds and then reconnects
    settings.watching.reconnect_backoff = 0.05
    settings.queueing.exit_timeout = 0.5  # per-object workers exit on stop; do not linger
    settings.networking.error_backoffs = (0.1, 0.2, 0.5)  # emulator hiccups retry quickly
    settings.execution.default_backoff = 1  # a failing handler is retried in 1 s, not 60 s
    settings.posting.idle_timeout = 0.2


async def wait_until(predicate: Callable[[], T | None], *, within: float = 10.0,
                     interval: float = 0.02, message: str = 'the condition') -> T:
    """Poll ``predicate`` until it returns something truthy and return it; fail after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = predicate()
        if result:
            return result
        if loop.time() >= deadline:
            raise TimeoutError(f'{message} was not met within {within} s')
        await asyncio.sleep(interval)


async def _first(*futures: concurrent.futures.Future[Any], within: float) -> None:
    # asyncio.wait never cancels what it waits for: cancelling a wrap_future() would cancel kopf's flag.
    await asyncio.wait([asyncio.wrap_future(future) for future in futures],
                       timeout=within, return_when=asyncio.FIRST_COMPLETED)


class _OperatorThread(threading.Thread):
    """kopf.operator() in a thread with its own loop; signalled with thread-safe futures."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(name='kopf-operator', daemon=True)
        self.kwargs = kwargs
        self.ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.started: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, Insights, asyncio.Event]]
        self.started = concurrent.futures.Future()
        self.finished: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stop_requested = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # handed over to the test's thread
            self.finished.set_exception(e)
        else:
            self.finished.set_result(None)

    async def _main(self) -> None:
        insights, stop = Insights(), asyncio.Event()
        self.started.set_result((asyncio.get_running_loop(), insights, stop))
        if self._stop_requested.is_set():  # stop() came before the loop existed
            stop.set()
        await kopf.operator(ready_flag=self.ready, stop_flag=stop, insights=insights, **self.kwargs)

    def call(self, fn: Callable[[], Coroutine[Any, Any, T]]) -> concurrent.futures.Future[T]:
        """Run a coroutine in the operator's loop (e.g. to read kopf's insights safely)."""
        return asyncio.run_coroutine_threadsafe(fn(), self.started.result()[0])

    def stop(self) -> None:
        """Raise kopf's stop flag (kopf then exits gracefully), even if its loop is not there yet."""
        self._stop_requested.set()
        if self.started.done() and not self.finished.done():
            loop, _, stop = self.started.result()
            with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to stop
                loop.call_soon_threadsafe(stop.set)


@dataclasses.dataclass
class OperatorHarness:
    """What a running harness gives a test: the emulator, its URL, and kopf's registry/settings."""
    kube: KubernetesEmulator
    server: kmock.Server
    registry: kopf.OperatorRegistry
    settings: kopf.OperatorSettings

    @property
    def url(self) -> str:
        """The emulator's base URL on loopback."""
        return str(self.server.url).rstrip('/')

    def client(self) -> KubeClient:
        """A JSON client for the emulator; use as ``async with harness.client() as api:``."""
        return KubeClient(self.url)

    def kubeconfig(self, path: str | pathlib.Path | None = None, *, namespace: str = 'default') -> pathlib.Path:
        """Write a kubeconfig for the emulator (for kubectl or the ``kubernetes`` client)."""
        return write_kubeconfig(self.url, path, namespace=namespace)


async def _wait_for_watches(thread: _OperatorThread, kube: KubernetesEmulator, within: float) -> None:
    """Ready = kopf has listed the cluster and opened a watch for every resource it serves."""
    async def snapshot() -> tuple[bool, list[tuple[str, str, str, bool | None]], list[str | None]]:
        insights = thread.started.result()[1]
        ready = insights.ready_resources.is_set() and insights.ready_namespaces.is_set()
        resources = [(r.group, r.version, r.plural, r.namespaced) for r in insights.watched_resources]
        return ready, resources, list(insights.namespaces)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        ready, resources, namespaces = await asyncio.wrap_future(thread.call(snapshot))
        if ready and all(kube.watching(group, version, plural, namespace if namespaced else None)
                         for group, version, plural, namespaced in resources for namespace in namespaces):
            return
        await asyncio.sleep(0.01)
    raise TimeoutError('kopf did not start watching its resources in time (is a login handler of the '
                       'registry failing? kopf needs all of them to succeed; see the log)')


@contextlib.asynccontextmanager
async def kopf_operator(
        kube: KubernetesEmulator | None = None, *,
        server: kmock.Server | None = None,
        registry: kopf.OperatorRegistry | None = None,
        namespaces: Collection[str] = (),
        clusterwide: bool = False,
        settings: SettingsHook | None = None,
        memo: object | None = None,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 10.0,
) -> AsyncIterator[OperatorHarness]:
    """Run kopf against the emulator until the block exits; ready means it is watching its resources.

    ``kube`` defaults to a fresh emulator; ``server`` to a new ``kmock.Server`` on loopback. With
    ``namespaces``, the missing ones are created (kopf only serves namespaces that exist); without
    them, the operator is cluster-wide. ``registry`` defaults to kopf's default registry.
    Beware: kopf authenticates only once *all* login handlers of the registry succeed, so a registry
    with a production login (e.g. ``kopf.login_via_client`` with no kubeconfig) never gets ready.
    """
    registry = registry if registry is not None else kopf.get_default_registry()
    operator_settings = kopf.OperatorSettings()
    fast_settings(operator_settings)
    if settings is not None:
        settings(operator_settings)
    async with contextlib.AsyncExitStack() as stack:
        if kube is None:
            kube = await stack.enter_async_context(KubernetesEmulator())
        if server is None:
            server = await stack.enter_async_context(kmock.Server(kube))
        harness = OperatorHarness(kube=kube, server=server, registry=registry, settings=operator_settings)
        for namespace in namespaces:
            if not any(char in namespace for char in '*?[!') and kube.get_object('', 'v1', 'namespaces', None,
                                                                                   namespace) is None:
                kube.create_object('', 'v1', 'namespaces', None, {'metadata': {'name': namespace}})
        point_login_at(registry, harness.url)
        thread = _OperatorThread(registry=registry, settings=operator_settings, memo=memo,
                                 namespaces=list(namespaces), clusterwide=clusterwide or not namespaces)
        thread.start()
        started = asyncio.get_running_loop().time()
        try:
            await _first(thread.ready, thread.finished, within=startup_timeout)
            if thread.finished.done():
                thread.finished.result()  # raises what kopf failed with
                raise RuntimeError('kopf exited during its startup')
            if not thread.ready.done():
                raise TimeoutError(f'kopf was not ready within {startup_timeout} s')
            await _wait_for_watches(thread, kube, startup_timeout - (asyncio.get_running_loop().time() - started))
            yield harness
        finally:
            thread.stop()
            await _first(thread.finished, within=shutdown_timeout)
            if not thread.finished.done():
                raise RuntimeError(f'kopf did not stop within {shutdown_timeout} s')
        thread.finished.result()  # re-raise kopf's own failure, if any
