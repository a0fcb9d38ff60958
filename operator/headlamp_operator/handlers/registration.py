"""Everything the operator registers with kopf: lifecycle, settings, and both resources' handlers."""
from __future__ import annotations

import contextlib
import pathlib
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import kopf

from headlamp_operator import certificates, crds, logs, metrics
from headlamp_operator.handlers import admission, persistence, portforwards, resourcepatches, webhookserver
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.kube import secrets
from headlamp_operator.scheduling import state as rt


def configure(settings: kopf.OperatorSettings, runtime: rt.Runtime, *,
              diffbase: persistence.DigestedDiffBaseStorage) -> None:
    """kopf's settings for this operator: its bookkeeping in status.kopf (``diffbase``), no events of its own."""
    # kopf's bookkeeping goes into status.kopf: one status write carries both the outcome and the
    # handled state, where annotations would cost a second write (and a crash between the two).
    settings.persistence.progress_storage = persistence.ProgressStorage(name="kopf")
    settings.persistence.diffbase_storage = diffbase
    persistence.lean_empty_patches()  # kopf's check after each patch, without its copy of the whole body
    settings.persistence.finalizer = crds.FINALIZER  # put on by the first reconcile, removed by kopf
    # Events are ours (runtime.events): one per phase change, never a log line, none from kopf.
    settings.posting.enabled = False
    # kopf keeps one worker task per resource alive this long after its last event: in a burst, its
    # default (5 s) keeps thousands alive at once (bench/README.md has the memory this saves). The echo
    # of a resource's own status write arrives within milliseconds, still to the same worker.
    settings.queueing.idle_timeout = 1.0
    settings.watching.server_timeout = 300
    settings.execution.max_workers = 8
    logs.quiet(FORGET_IDS.values())  # a deletion's bookkeeping is not news to a user


def webhook_server(runtime: rt.Runtime) -> kopf.WebhookServer | None:
    """kopf's HTTPS admission server from our settings; a self-signed certificate when none is given.

    It reads reviews of any object the API server can send (:mod:`headlamp_operator.handlers.webhookserver`).
    """
    webhook = runtime.settings.webhook
    if webhook.port is None:
        return None
    certfile, pkeyfile, cafile = webhook.certfile, webhook.pkeyfile, webhook.cafile
    if certfile is None:
        names = [name for name in (webhook.host, "localhost", "127.0.0.1") if name]
        bundle = certificates.generate(pathlib.Path(tempfile.mkdtemp(prefix="headlamp-operator-webhook-")), names)
        certfile, pkeyfile, cafile = str(bundle.certfile), str(bundle.pkeyfile), str(bundle.cafile)
    return webhookserver.WebhookServer(addr=webhook.addr, port=webhook.port, host=webhook.host, certfile=certfile,
                                       pkeyfile=pkeyfile, cafile=cafile)


KINDS = crds.PLURALS
FORGET_IDS = {plural: f"forget-{plural}" for plural in KINDS.values()}


Shown = dict[str, tuple[tuple[str, str], metrics.Seen]]  # uid -> ((namespace, name), phase and Ready)


def _entries(shown: Shown) -> metrics.Source:
    """A metrics source: ((namespace, name), Seen) for every resource of a kind the API shows."""
    def entries() -> list[tuple[tuple[str, str], metrics.Seen]]:
        return list(shown.values())
    return entries


@contextlib.asynccontextmanager
async def serving(runtime: rt.Runtime) -> AsyncIterator[Backend]:
    """The one place the Backend is opened and closed: for the operator's lifetime, wired to what derives from it.

    Its ``X-Reload`` drops the shared forward lists and service resolutions, a logout drops that
    credential's resolutions, and every request is counted in the metrics. A Secret found changed
    retires the credentials that came from it: nothing of a rotated token stays behind.
    """
    async with Backend(runtime.settings.backend) as backend:
        backend.on_reload(runtime.lists.drop)
        backend.on_reload(runtime.resolutions.drop)
        backend.on_forget(runtime.resolutions.forget)
        backend.on_exchange(metrics.observe)
        reader = runtime.read_secret
        unwatch = reader.on_change(backend.retire_source) if isinstance(reader, secrets.SecretReader) else None
        runtime.backend = backend
        try:
            yield backend
        finally:
            runtime.backend = None
            if unwatch is not None:
                unwatch()
            await runtime.events.aclose()  # what is queued is posted before the session goes
            await runtime.kube.close()  # the operator's own Kubernetes API session goes with it


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register startup/cleanup, the admission webhook and the handlers of both resources on ``registry``."""

    lifetime = contextlib.AsyncExitStack()  # what startup opens (the Backend) and cleanup closes
    diffbase = persistence.DigestedDiffBaseStorage(name="kopf")  # remembers each resource's spec digest

    @kopf.on.startup(registry=registry, id="startup")
    async def startup(settings: kopf.OperatorSettings, **kwargs: Any) -> None:
        configure(settings, runtime, diffbase=diffbase)
        for kind, entries in shown.items():
            metrics.watch(kind, _entries(entries))
        server = webhook_server(runtime)
        if server is not None:
            settings.admission.server = server
            settings.admission.managed = crds.GROUP if runtime.settings.webhook.managed else None
        await lifetime.enter_async_context(serving(runtime))

    @kopf.on.cleanup(registry=registry, id="cleanup")
    async def cleanup(**_: Any) -> None:
        await lifetime.aclose()

    # What the API shows of each resource (phase, Ready), for the metrics read at scrape time: current
    # from the first listing on (right after a restart), a deleted resource dropped. It is noted by
    # the filter of the forget-* handler, which kopf calls on every event of the kind anyway; a kopf
    # index would do the same as a handler execution per event, far dearer.
    shown: dict[str, Shown] = {kind: {} for kind in KINDS}

    for kind, plural in KINDS.items():
        def noted_unless_deleted(type: str | None, body: kopf.Body, namespace: str | None, name: str | None,
                                 noted: Shown = shown[kind], **_: Any) -> bool:
            uid = str(body["metadata"]["uid"])
            if type == "DELETED":
                noted.pop(uid, None)
                return True  # the filter keeps kopf from calling (and logging) forget for every event
            noted[uid] = ((namespace or "", name or ""), metrics.seen(body))
            return False

        @kopf.on.event(crds.GROUP, crds.VERSION, plural, registry=registry, id=FORGET_IDS[plural],
                       when=noted_unless_deleted)
        async def forget(body: kopf.Body, **_: Any) -> None:
            """A deleted resource leaves nothing behind in memory."""
            uid = str(body["metadata"]["uid"])
            runtime.blocked.pop(uid, None)
            runtime.forwards.pop(uid)
            runtime.restarts.pop(uid, None)
            runtime.patches.pop(uid, None)
            for retries in (runtime.forward_retries, runtime.patch_retries):
                if retries is not None:
                    retries.cancel(uid)
            diffbase.forget(uid)
            if body.get("kind") == crds.RESOURCEPATCH.kind:
                metadata = body["metadata"]
                metrics.forget_drift(str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))

    if runtime.settings.webhook.port is not None:  # kopf refuses validation handlers without a server
        admission.register(registry, runtime)
    portforwards.register(registry, runtime)
    resourcepatches.register(registry, runtime)
