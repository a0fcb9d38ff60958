"""``python -m headlamp_operator_testing.soak --seconds N --seed S``: the fault soak (``make soak``).

Prints its random seed first (``SOAK_SEED=<it>`` replays the same resources and the same fault schedule),
then, once the faults stopped and every resource had its deadline, each stuck resource with its
status, what the faults met of undo (revertOnDelete), preview (dryRun) and drift (``revert:``,
``preview:``, ``drift:``), the faults by kind, and as the LAST line ``soak: N resources, F faults,
S stuck``. Exit code 0 when nothing is stuck, 1 otherwise (the operator logs are then kept and their
directory printed), 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TextIO

from headlamp_operator_testing.soak import expectations, faults, workload
from headlamp_operator_testing.soak import world as w

DEFAULT_RESOURCES = 200
FIRST_STATUS_WITHIN = 30.0  # seconds the resources get to show a first status before the faults begin


def build_parser() -> argparse.ArgumentParser:
    """The soak's arguments."""
    parser = argparse.ArgumentParser(prog="python -m headlamp_operator_testing.soak",
                                     description="Random faults against the operator, then every resource must "
                                                 "reach its expected end state.")
    parser.add_argument("--seconds", type=float, default=180.0, help="how long faults are injected (default 180)")
    parser.add_argument("--seed", type=int, default=None, help="a seed to replay (default: a new one, printed)")
    parser.add_argument("--resources", type=int, default=DEFAULT_RESOURCES,
                        help=f"how many PortForwards and ResourcePatches (default {DEFAULT_RESOURCES}, "
                             f"at least {len(workload.ROLES)})")
    parser.add_argument("--sync-interval", type=float, default=w.OperatorConfig.sync_interval, metavar="SECONDS",
                        help="the operator's --sync-interval")
    parser.add_argument("--backoff-max", type=float, default=w.OperatorConfig.backoff_max, metavar="SECONDS",
                        help="the operator's --backoff-max")
    parser.add_argument("--finalizer-timeout", type=float, default=w.OperatorConfig.finalizer_timeout,
                        metavar="SECONDS", help="the operator's --finalizer-timeout (default %(default)g)")
    parser.add_argument("--workdir", type=pathlib.Path, default=None,
                        help="where the operator's logs go (default: a temporary directory, kept when stuck)")
    return parser


async def first_statuses(world: w.World, items: Sequence[workload.Item], within: float) -> int:
    """Wait (up to ``within`` s) until every resource shows a phase, so that faults meet a settled fleet too;
    returns how many do."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        shown = sum(1 for item in items if ((world.kube.get_object(w.GROUP, w.VERSION, item.plural, item.namespace,
                                                                   item.name) or {}).get("status") or {}).get("phase"))
        if shown == len(items) or loop.time() >= deadline:
            return shown
        await asyncio.sleep(0.25)  # polling in-process state until the deadline


async def soak(*, seconds: float, seed: int, resources: int, config: w.OperatorConfig, workdir: pathlib.Path,
               out: TextIO) -> int:
    """Run the soak and print its report; returns how many findings (stuck resources, broken invariants)."""
    began = time.monotonic()

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    # Replayable draws, not secrets: one stream for the resources, one for the faults.
    items = workload.plan(resources, random.Random(f"{seed}/resources"))  # noqa: S311
    schedule = faults.plan(seconds, random.Random(f"{seed}/faults"))  # noqa: S311
    extra = "" if resources == DEFAULT_RESOURCES else f" SOAK_ARGS=--resources={resources}"
    say(f"soak: seed {seed} (replay: make soak SOAK_SEED={seed} SOAK_SECONDS={seconds:g}{extra}); "
        f"{len(items)} resources, {len(schedule)} faults planned over {seconds:g} s; operator logs in {workdir}")
    say(f"soak: operator with --sync-interval {config.sync_interval:g} --backoff-min {config.backoff_min:g} "
        f"--backoff-max {config.backoff_max:g} --request-timeout {config.request_timeout:g} "
        f"--finalizer-timeout {config.finalizer_timeout:g}: each resource must "
        f"converge within {config.settle_time:g} s of the faults stopping "
        f"({config.settle_time + workload.REAPPLY_INTERVAL:g} s for a re-applied patch whose target drifted)")
    async with w.world(workdir, config=config) as world:
        await workload.create(world, items)
        shown = await first_statuses(world, items, FIRST_STATUS_WITHIN)
        say(f"soak: {shown} of {len(items)} resources have a status after {time.monotonic() - began:.1f} s; "
            "faults begin")
        injector = faults.Faults(world, items)
        churn = asyncio.create_task(workload.churn(world, items, seconds))
        await injector.run(schedule, seconds)
        changes = await churn
        await injector.restore()
        say(f"soak: faults stopped after {time.monotonic() - began:.1f} s ({changes} deletions, state flips, drifts "
            f"and late targets meanwhile; the operator started {world.operator.starts} times); world restored")
        findings = await expectations.settle(world, items, config)
        world.journal.note(f"settled: {len(findings)} stuck")
        counted = expectations.summary(world, items, config, now=asyncio.get_running_loop().time())
    for finding in findings:
        for line in finding.lines():
            say(line)
    for line in counted:
        say(line)
    say("faults: " + " ".join(f"{kind}={injector.counts[kind]}" for kind in faults.KINDS))
    say(f"soak: wall time {time.monotonic() - began:.0f} s, seed {seed}")
    say(f"soak: {len(items)} resources, {injector.total} faults, {len(findings)} stuck")
    return len(findings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when nothing is stuck, 1 otherwise."""
    args = build_parser().parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    config = w.OperatorConfig(sync_interval=args.sync_interval, backoff_max=args.backoff_max,
                              finalizer_timeout=args.finalizer_timeout)
    if args.resources < len(workload.ROLES):
        print(f"--resources: at least {len(workload.ROLES)} (one per role)", file=sys.stderr)
        return 2
    workdir = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="headlamp-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stuck = asyncio.run(soak(seconds=args.seconds, seed=seed, resources=args.resources, config=config,
                             workdir=workdir, out=sys.stdout))
    if stuck == 0 and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if stuck else 0
