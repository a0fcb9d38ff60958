"""Running the operator: kopf with this project's registry, settings and login."""
from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import random
from collections.abc import Sequence

import kopf

from headlamp_operator.handlers import login, registration, secrets
from headlamp_operator.handlers.runtime import Runtime
from headlamp_operator.settings import Settings

logger = logging.getLogger("headlamp_operator")

PEERING_NAME = "default"  # the ClusterKopfPeering (cluster-wide) or KopfPeering (per namespace) in manifests/


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How kopf runs: which namespaces, peering, probes."""

    namespaces: Sequence[str] = ()
    clusterwide: bool = False
    standalone: bool = False
    liveness: str | None = None
    metrics_port: int | None = None
    priority: int | None = None  # peering priority; distinct per replica, or both pause
    log_format: str = "full"  # plain | full | json


def build_registry(settings: Settings, *, with_login: bool = True) -> tuple[kopf.OperatorRegistry, Runtime]:
    """A registry with every handler of the operator, and the runtime those handlers share."""
    registry = kopf.OperatorRegistry()
    runtime = Runtime(settings=settings, read_secret=secrets.SecretReader())
    if with_login:
        login.register(registry)
    registration.register(registry, runtime)
    return registry, runtime


async def operate(settings: Settings, options: RunOptions, *, stop_flag: asyncio.Event | None = None,
                  ready_flag: asyncio.Event | None = None) -> None:
    """Run the operator until cancelled or ``stop_flag`` is set."""
    registry, _ = build_registry(settings)
    if not options.standalone:
        where = "ClusterKopfPeering" if options.clusterwide else "KopfPeering of each namespace served"
        logger.info("Peering: this replica acts only once it has read the %s %r (manifests/peering.yaml) and "
                    "found no live replica of a higher priority; while that object is missing it waits. "
                    "A single replica may run with --standalone instead.", where, PEERING_NAME)
    if options.metrics_port is not None:
        from headlamp_operator import metrics
        metrics.serve(options.metrics_port)
    await kopf.operator(
        registry=registry,
        clusterwide=options.clusterwide,
        namespaces=list(options.namespaces),
        standalone=options.standalone,
        # Mandatory peering: a replica starts paused and acts only once it has read the peering
        # object and found no live peer above it. (kopf's default, auto-detection, starts active, so
        # a replica starting beside an active one acted too until it saw that peer.)
        peering_name=None if options.standalone else PEERING_NAME,
        priority=options.priority if options.priority is not None else random.randint(1, 1_000_000),  # noqa: S311
        liveness_endpoint=options.liveness,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )


# The cyclic collector's young-generation threshold (CPython's default: 700 allocations). The operator
# keeps thousands of objects per watched resource; with the default, a burst of 4,000 resources spent
# 3.6 of its 16 CPU-s in the collector (14 full collections). At 7,000 it spent 1.2 s (one full
# collection), for 17 MB more peak RSS (make bench, 2 cores).
GC_YOUNG_THRESHOLD = 7000


def prepare_process() -> None:
    """Load the heavy long-lived modules before any resource waits, then let the collector skip them.

    kubernetes' CoreV1Api (the Secret reader's client) builds hundreds of pydantic models on import:
    about a second of CPU that would otherwise stall the first reconciles; ``gc.freeze`` then keeps
    those ~70,000 objects out of every later collection.
    """
    from kubernetes import client

    client.CoreV1Api  # noqa: B018  (the attribute access is the import)
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def run(settings: Settings, options: RunOptions) -> None:
    """The blocking entry point of ``headlamp-operator run``."""
    prepare_process()
    kopf.configure(verbose=False, log_format=kopf.LogFormat[options.log_format.upper()])
    asyncio.run(operate(settings, options))
