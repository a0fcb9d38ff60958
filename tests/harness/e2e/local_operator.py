"""``E2E_OPERATOR=local``: the operator of this work tree, run by the suite in a thread against the real cluster.

The registry is the production one (``runner.build_registry``), with one change: the login reads
``E2E_KUBECONFIG`` (and ``E2E_CONTEXT``) instead of ``$KUBECONFIG``, and configures the ``kubernetes``
client's default configuration from it too, because the operator reads Secrets with that client.
kopf runs in its own thread with its own event loop (as ``kopf.testing.KopfRunner`` does), serving
only the suite's namespaces (``headlamp-e2e-*``), without peering.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import kopf
import kubernetes

from headlamp_operator import runner
from headlamp_operator.settings import BackendSettings, ReconcileSettings, Settings
from headlamp_operator.structs import Secret
from tests.harness.e2e.config import NAMESPACE_PREFIX, E2EConfig

SYNC_INTERVAL = 5.0  # seconds between health checks and Secret checks: the Unauthorized scenario waits on it


def settings_for(config: E2EConfig) -> Settings:
    """The operator's settings for the suite: HEADLAMP_URL=E2E_HEADLAMP_URL, a short sync interval."""
    backend_token = Secret(config.backend_token) if config.backend_token else None
    return Settings(
        backend=BackendSettings(url=config.headlamp_url, backend_token=backend_token,
                                request_timeout=min(120.0, config.timeout)),
        reconcile=ReconcileSettings(sync_interval=SYNC_INTERVAL, backoff_min=0.5, backoff_max=10.0),
    )


def login_with(config: E2EConfig) -> Any:
    """A kopf login handler for E2E_KUBECONFIG, shaped like ``kopf.login_via_client``."""

    def login(**_: Any) -> kopf.ConnectionInfo:
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(config.kubeconfig), context=config.context,
            client_configuration=configuration, persist_config=False)
        kubernetes.client.Configuration.set_default(configuration)  # the operator's Secret reader uses it
        # kubernetes >= 36 keeps the bearer token under 'BearerToken', older versions under 'authorization'.
        header = (configuration.get_api_key_with_prefix("BearerToken")
                  or configuration.get_api_key_with_prefix("authorization"))
        parts = header.split(" ", 1) if header else []
        scheme, token = (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        return kopf.ConnectionInfo(
            server=configuration.host,
            ca_path=configuration.ssl_ca_cert,
            insecure=not configuration.verify_ssl,
            username=configuration.username or None,
            password=configuration.password or None,
            scheme=scheme,
            token=token,
            certificate_path=configuration.cert_file,
            private_key_path=configuration.key_file,
        )

    return login


class LocalOperator(threading.Thread):
    """kopf.operator() with this project's handlers, in a daemon thread; :meth:`start` waits until it is ready."""

    def __init__(self, config: E2EConfig) -> None:
        super().__init__(name="headlamp-operator-e2e", daemon=True)
        self.config = config
        self.ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.finished: concurrent.futures.Future[None] = concurrent.futures.Future()
        # kopf's stop flag lives in kopf's loop: a concurrent future would park a thread of that loop's
        # executor on it, and asyncio.run() would then wait for that thread forever if kopf failed.
        self._loop: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]]
        self._loop = concurrent.futures.Future()
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # handed over to the test thread
            self.finished.set_exception(e)
        else:
            self.finished.set_result(None)

    async def _main(self) -> None:
        stop_flag = asyncio.Event()
        self._loop.set_result((asyncio.get_running_loop(), stop_flag))
        if self._stopping.is_set():
            stop_flag.set()
        registry, _ = runner.build_registry(settings_for(self.config), with_login=False)
        kopf.on.login(registry=registry, id="e2e-kubeconfig")(login_with(self.config))
        await kopf.operator(registry=registry, namespaces=[f"{NAMESPACE_PREFIX}*"], standalone=True,
                            ready_flag=self.ready, stop_flag=stop_flag)

    def start_and_wait(self, within: float) -> None:
        """Start the thread; return once kopf is ready, or raise what stopped it."""
        self.start()
        concurrent.futures.wait([self.ready, self.finished], timeout=within,
                                return_when=concurrent.futures.FIRST_COMPLETED)
        if self.finished.done():
            self.finished.result()  # raises kopf's failure, if any
            raise RuntimeError("the local operator exited during its startup (see the log)")
        if not self.ready.done():
            self.stop(within=10)
            raise TimeoutError(f"the local operator was not ready within {within:g} s (a failing login? see the log)")

    def stop(self, within: float) -> None:
        """Raise kopf's stop flag (it then finishes in-flight handlers) and wait for the thread."""
        self._stopping.set()
        if self._loop.done() and not self.finished.done():
            loop, stop_flag = self._loop.result()
            try:
                loop.call_soon_threadsafe(stop_flag.set)
            except RuntimeError:  # the loop has just closed: nothing left to stop
                pass
        concurrent.futures.wait([self.finished], timeout=within)
        if not self.finished.done():
            raise RuntimeError(f"the local operator did not stop within {within:g} s")
        self.finished.result()
