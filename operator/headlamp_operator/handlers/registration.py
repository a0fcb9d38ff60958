"""Everything the operator registers with kopf: lifecycle, settings, and both resources' handlers."""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import pathlib
import socket
import tempfile
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

import kopf

from headlamp_operator import certificates, crds, logs, metrics
from headlamp_operator.handlers import admission, portforwards, resourcepatches, secrets
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.headlamp.client import Backend


class DigestedDiffBaseStorage(kopf.StatusDiffBaseStorage):
    """kopf's last-handled spec in ``status.kopf``, kept as a SHA-256 digest of the spec only.

    kopf compares this stored essence with the current one to tell a spec change; a digest changes
    exactly when the spec does (our handlers read the body, never kopf's diff). A full copy would
    double a large patch in the stored object, past etcd's request limit (SPEC 3.2), and fill
    ``kubectl describe`` with a JSON copy of the spec. ``spec.patch`` is digested first, so what
    earlier versions stored (the full spec, or the spec with only its patch digested) compares equal
    to the digest of the same spec: an upgrade sees no spurious change.
    """

    @staticmethod
    def _digested(essence: Any) -> Any:
        spec = essence.get("spec") if isinstance(essence, dict) else None
        if isinstance(spec, dict) and not _is_digest(spec):
            if "patch" in spec and not _is_digest(spec["patch"]):
                spec = {**spec, "patch": {"sha256": _sha256(spec["patch"])}}
            essence = {**essence, "spec": {"sha256": _sha256(spec)}}
        return essence

    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> Any:
        # kopf's essence (DiffBaseStorage.build) made without its deep copy of the whole body, which
        # kopf does on every event only to drop metadata and status and digest the spec here
        # (py-spy, make bench: ~5 % of a burst's CPU). The same essence (tests/unit/test_diffbase.py):
        # everything but apiVersion, kind, metadata and status; labels; annotations but kopf's own
        # (of any kopf operator) and kubectl's last-applied-configuration; then the handlers' fields
        # (``field=``: the spec, the requestedAt annotation) put back; empty stanzas dropped.
        extra = [tuple(field) for field in extra_fields or ()]
        if self.ignored_fields or any(not _kept_field(field) for field in extra):
            return self._digested(cast(dict[str, Any], super().build(body=body, extra_fields=extra_fields)))
        essence: dict[str, Any] = copy.deepcopy({key: value for key, value in body.items()
                                                 if key not in ("apiVersion", "kind", "metadata", "status", "spec")})
        if "spec" in body:
            essence["spec"] = body["spec"]  # digested below, never copied
        metadata = body.get("metadata") or {}
        labels = dict(metadata.get("labels") or {})
        annotations = metadata.get("annotations") or {}
        prefixes = self._detect_marked_prefixes(annotations)
        kept = {key: value for key, value in annotations.items()
                if key != "kubectl.kubernetes.io/last-applied-configuration"
                and not any(key.startswith(f"{prefix}/") for prefix in prefixes)}
        for field in extra:
            if field[0] == "metadata" and field[2] in (metadata.get(field[1]) or {}):
                (labels if field[1] == "labels" else kept)[field[2]] = metadata[field[1]][field[2]]
        stanza = {key: value for key, value in (("labels", labels), ("annotations", kept)) if value}
        if stanza:
            essence["metadata"] = stanza
        digested = self._digested(essence)
        if digested.get("spec") is body.get("spec"):  # a spec that is not a mapping: kopf's copy of it
            digested["spec"] = copy.deepcopy(digested["spec"])
        return digested

    def fetch(self, *, body: kopf.Body) -> Any:
        return self._digested(super().fetch(body=body))


def _kept_field(field: tuple[Any, ...]) -> bool:
    """Whether a handler's ``field=`` is one :meth:`DigestedDiffBaseStorage.build` keeps by itself.

    The spec or anything in it, or one label or annotation; any other field goes to kopf's own build.
    """
    return bool(field) and (field[0] == "spec" or (
        len(field) == 3 and field[0] == "metadata" and field[1] in ("labels", "annotations")))


def _sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _is_digest(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["sha256"] and isinstance(value["sha256"], str)


def configure(settings: kopf.OperatorSettings, runtime: rt.Runtime) -> None:
    """kopf's settings for this operator: its bookkeeping in status.kopf, explicit events only."""
    # kopf's bookkeeping goes into status.kopf: one status write carries both the outcome and the
    # handled state, where annotations would cost a second write (and a crash between the two).
    settings.persistence.progress_storage = kopf.StatusProgressStorage(name="kopf")
    settings.persistence.diffbase_storage = DigestedDiffBaseStorage(name="kopf")
    settings.persistence.finalizer = portforwards.FINALIZER  # put on by the first reconcile, removed by kopf
    settings.posting.loggers = False  # events are ours: one per phase change, never a log line
    # Events say who reported them, as other operators' do (not kopf's 'kopf'/'dev').
    settings.posting.reporting_component = "headlamp-operator"
    settings.posting.reporting_instance = os.environ.get("POD_ID") or socket.gethostname()
    settings.posting.event_name_prefix = "headlamp-operator-"
    settings.posting.level = logging.INFO
    # kopf keeps one worker task per resource alive this long after its last event. Over a burst of
    # 4,000 resources, 5 s (kopf's default) kept them all alive at once: peak RSS 149 MB; 1 s: 128 MB.
    # The echo of a resource's own status write arrives within milliseconds, still to the same worker.
    settings.queueing.idle_timeout = 1.0
    settings.watching.server_timeout = 300
    settings.execution.max_workers = 8
    logs.quiet(FORGET_IDS.values())  # a deletion's bookkeeping is not news to a user


def webhook_server(runtime: rt.Runtime) -> kopf.WebhookServer | None:
    """kopf's HTTPS admission server from our settings; a self-signed certificate when none is given."""
    webhook = runtime.settings.webhook
    if webhook.port is None:
        return None
    certfile, pkeyfile, cafile = webhook.certfile, webhook.pkeyfile, webhook.cafile
    if certfile is None:
        names = [name for name in (webhook.host, "localhost", "127.0.0.1") if name]
        bundle = certificates.generate(pathlib.Path(tempfile.mkdtemp(prefix="headlamp-operator-webhook-")), names)
        certfile, pkeyfile, cafile = str(bundle.certfile), str(bundle.pkeyfile), str(bundle.cafile)
    return kopf.WebhookServer(addr=webhook.addr, port=webhook.port, host=webhook.host, certfile=certfile,
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
            await runtime.kube.close()  # the operator's own Kubernetes API session goes with it


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register startup/cleanup, the admission webhook and the handlers of both resources on ``registry``."""

    lifetime = contextlib.AsyncExitStack()  # what startup opens (the Backend) and cleanup closes

    @kopf.on.startup(registry=registry, id="startup")
    async def startup(settings: kopf.OperatorSettings, **kwargs: Any) -> None:
        configure(settings, runtime)
        for kind, entries in shown.items():
            metrics.watch(kind, _entries(entries))
        server = webhook_server(runtime)
        if server is not None:
            settings.admission.server = server
            settings.admission.managed = rt.GROUP if runtime.settings.webhook.managed else None
        await lifetime.enter_async_context(serving(runtime))

    @kopf.on.cleanup(registry=registry, id="cleanup")
    async def cleanup(**_: Any) -> None:
        await lifetime.aclose()

    # What the API shows of each resource (phase, Ready), for the metrics read at scrape time: current
    # from the first listing on (right after a restart), a deleted resource dropped. It is noted by
    # the filter of the forget-* handler, which kopf calls on every event of the kind anyway; a kopf
    # index did the same as a handler execution per event: ~10 % of a burst's CPU (py-spy, make bench).
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

        @kopf.on.event(rt.GROUP, rt.VERSION, plural, registry=registry, id=FORGET_IDS[plural],
                       when=noted_unless_deleted)
        async def forget(body: kopf.Body, **_: Any) -> None:
            """A deleted resource leaves nothing behind in memory."""
            uid = str(body["metadata"]["uid"])
            runtime.blocked.pop(uid, None)
            runtime.forwards.pop(uid)
            runtime.patches.pop(uid, None)

    if runtime.settings.webhook.port is not None:  # kopf refuses validation handlers without a server
        admission.register(registry, runtime)
    portforwards.register(registry, runtime)
    resourcepatches.register(registry, runtime)
