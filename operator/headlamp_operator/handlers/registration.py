"""Everything the operator registers with kopf: lifecycle, settings, and both resources' handlers."""
from __future__ import annotations

import logging
from typing import Any

import kopf

from headlamp_operator import metrics
from headlamp_operator.handlers import portforwards, resourcepatches
from headlamp_operator.handlers import runtime as rt
from headlamp_operator.headlamp.client import Backend


def configure(settings: kopf.OperatorSettings, runtime: rt.Runtime) -> None:
    """kopf's settings for this operator: progress kept in annotations, explicit events only, quick batching."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=rt.PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=rt.PREFIX)
    settings.persistence.finalizer = f"{rt.PREFIX}/finalizer"
    settings.posting.loggers = False  # events are ours: one per phase change, never a log line
    settings.posting.level = logging.INFO
    settings.queueing.idle_timeout = 5.0
    settings.watching.server_timeout = 300
    settings.execution.max_workers = 8


def register(registry: kopf.OperatorRegistry, runtime: rt.Runtime) -> None:
    """Register startup/cleanup and the handlers of both resources on ``registry``."""

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure(settings, runtime)
        runtime.backend = await Backend(runtime.settings.backend).__aenter__()
        runtime.backend.reload_listeners.append(runtime.lists.drop)
        runtime.backend.observers.append(metrics.observe)

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        if runtime.backend is not None:
            await runtime.backend.close()
            runtime.backend = None

    portforwards.register(registry, runtime)
    resourcepatches.register(registry, runtime)
