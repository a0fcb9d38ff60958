"""``python -m bench [--quick] [--real-api | --heal] [--n 500] [--single 50 | --single-only] [--out FILE]``:
run the phases, print the table, write the files.

Without ``--real-api``: the in-memory Kubernetes API and the Headlamp emulator, with the floors and the
targets of issue 14. With it: the same bursts and idle phase on a real kube-apiserver + etcd (the
real-peer suite's world; ``make peers`` builds it), written under the ``real_api`` key of the same file.
With ``--heal``: how fast a forward's traffic comes back after its pod dies, on the same real control plane
(:mod:`bench.heal`), under the ``heal`` key, one entry per backend (``emulator``, ``headlamp-server``).
Each run keeps the other modes' entries of an existing file, so one file holds them all. Both the
in-memory and the real-API runs start with the single-apply phase (:mod:`bench.single`: 50 applies one at
a time on a quiet operator, under ``single`` and ``real_api.single``); ``--single-only`` runs that phase
alone and keeps every other figure of the file.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import os
import pathlib
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from bench import realreport, report, single
from bench.run import Options, run_all
from headlamp_operator.runner import GC_YOUNG_THRESHOLD

HERE = pathlib.Path(__file__).resolve().parent
# --quick: a check that everything runs, in about a minute; the targets' sizes are the defaults.
QUICK: dict[str, float] = {"n": 50, "idle_count": 100, "idle_window": 10.0}
DEFAULTS: dict[str, float] = {"n": 500, "idle_count": 1000, "idle_window": 30.0}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-api", action="store_true",
                        help="on a real kube-apiserver + etcd + kwok (the real-peer suite's; `make peers` first)")
    parser.add_argument("--heal", action="store_true",
                        help="the heal bench on the real control plane: pods deleted behind two forwards")
    parser.add_argument("--deletions", type=int, default=20, help="--heal: pods deleted, both kinds alternately (20)")
    parser.add_argument("--heal-timeout", type=float, default=45.0,
                        help="--heal: seconds a heal may take before it counts as failed (default 45)")
    parser.add_argument("--heal-interval", type=float, default=None,
                        help="--heal: HEADLAMP_SYNC_INTERVAL, seconds (default: unset, the operator's default 30 s)")
    parser.add_argument("--recreate-after", type=float, default=6.0,
                        help="--heal: seconds before the pod forward's pod is created again (default 6)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, for a check run of about a minute: --n 50 --idle-count 100 --idle-window 10")
    parser.add_argument("--n", type=int, default=None, help="N PortForwards and N ResourcePatches (default 500)")
    parser.add_argument("--factor", type=int, default=4, help="the second size is factor x N (default 4)")
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results.json", help="the JSON results")
    parser.add_argument("--png", type=pathlib.Path, default=None,
                        help="the chart (default: next to --out, .png); 'none' to skip")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="creations in flight, and the floor's concurrency (default 32 = HEADLAMP_MAX_CONCURRENCY)")
    parser.add_argument("--credentials", choices=("token", "anonymous"), default="token",
                        help="token: Secrets with a bearer token per namespace (default); "
                             "anonymous: HEADLAMP_ALLOW_ANONYMOUS=true (in-memory API only)")
    parser.add_argument("--idle-count", type=int, default=None, help="PortForwards in the idle phase (default 1000)")
    parser.add_argument("--idle-factor", type=int, default=4,
                        help="a second idle phase with this many times as many (default 4; 1: none; in-memory only)")
    parser.add_argument("--idle-interval", type=float, default=5.0,
                        help="HEADLAMP_SYNC_INTERVAL of the idle phase, seconds (default 5)")
    parser.add_argument("--idle-window", type=float, default=None,
                        help="seconds measured in the idle phase, after one interval (default 30)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of each operator and kopf-floor burst, the median reported (default 3; --quick 1)")
    parser.add_argument("--single", type=int, default=None,
                        help="applies of the single-apply phase, one at a time on a quiet operator (default 50; "
                             "--quick 10; 0: none)")
    parser.add_argument("--single-only", action="store_true",
                        help="only the single-apply phase; the other figures of --out are kept")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle phase")
    parser.add_argument("--no-floor", action="store_true", help="skip the floors (no ratios; in-memory only)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a burst may take (default 60 + 0.1 per resource; real API: 120 + 0.1)")
    parser.add_argument("--operator", type=pathlib.Path, default=None,
                        help="the headlamp-operator to measure (make bench: a runtime-only install, as in the image)")
    parser.add_argument("--keep-logs", type=pathlib.Path, default=None, help="copy the operator logs here")
    return parser


def _commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,  # noqa: S607
                              text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _previous(path: pathlib.Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    sizes = {key: getattr(args, key) if getattr(args, key) is not None else (QUICK if args.quick else DEFAULTS)[key]
             for key in QUICK}
    n, idle_count, idle_window = int(sizes["n"]), int(sizes["idle_count"]), float(sizes["idle_window"])
    if n < 1 or args.factor < 1 or args.concurrency < 1:
        parser.error("--n, --factor and --concurrency must be positive")
    # The emulators keep every object and every request in memory; with CPython's default collector
    # thresholds this process spent 16 s in full collections over a run, slowing the floors and the
    # operator's bursts alike. The operator's own setting (runner.GC_YOUNG_THRESHOLD) is used here too,
    # between the phases: during one the collector is paused (world.collector_paused).
    singles = args.single if args.single is not None else (10 if args.quick else single.COUNT)
    if args.single_only and singles < 1:
        parser.error("--single-only needs --single of at least 1")
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    say = lambda line: print(line, flush=True)  # noqa: E731
    # The machine is shared: its load average before and after says whether others ran meanwhile.
    stamp: dict[str, Any] = {"measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                             "commit": _commit(), "loadavg_before": os.getloadavg()}
    results = _previous(args.out)
    if args.heal:
        from bench import heal, healreport  # imports the real-peer world, as --real-api does

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        heal_options = heal.HealOptions(deletions=args.deletions, sync_interval=args.heal_interval,
                                        timeout=args.heal_timeout, recreate_after=args.recreate_after,
                                        keep_logs=args.keep_logs,
                                        operator=str(args.operator) if args.operator else None)
        healed = asyncio.run(heal.run_heal(heal_options, say=say))
        healed["summary"] = healreport.summarize(healed["heals"], timeout=args.heal_timeout)
        healed.update(stamp, loadavg_after=os.getloadavg())
        after = healed["loadavg_after"]
        # One entry per backend (emulator, headlamp-server), so that both runs' figures stay side by side.
        previous = results.get("heal")
        previous = previous if isinstance(previous, dict) and "heals" not in previous else {}
        results["heal"] = {**previous, "headlamp-server" if "headlamp-server" in healed["config"]["headlamp"]
                           else "emulator": healed}
        printed = healreport.table(healed)
    elif args.real_api:
        from bench.realrun import (  # imports the real-peer world (headlamp_operator_testing.realpeers)
            RealOptions,
            run_real,
        )

        # The control plane's processes run in sessions of their own: on SIGTERM (timeout, CI) exit through
        # the context managers and atexit, which stop them, rather than die and leave them running.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

        real_options = RealOptions(n=n, factor=args.factor, concurrency=args.concurrency, idle_count=idle_count,
                                   single_applies=singles, single_only=args.single_only,
                                   idle_interval=args.idle_interval, idle_window=idle_window, idle=not args.no_idle,
                                   timeout=args.timeout, keep_logs=args.keep_logs,
                                   operator=str(args.operator) if args.operator else None)
        real = asyncio.run(run_real(real_options, say=say))
        real["config"]["quick"] = args.quick
        real.update(stamp, loadavg_after=os.getloadavg())
        after = real["loadavg_after"]
        if args.single_only:  # the bursts' figures of the last whole run stay, dated by their own stamp
            previous = results.get("real_api")
            results["real_api"] = {**(previous if isinstance(previous, dict) else {}),
                                   "single": {**real["single"], **stamp, "loadavg_after": after}}
            printed = single.table(results["real_api"]["single"], title="real API server")
        else:
            real["targets"] = realreport.targets(real)
            results["real_api"] = real
            printed = realreport.table(real)
    else:
        options = Options(n=n, factor=args.factor, concurrency=args.concurrency, credentials=args.credentials,
                          idle_count=idle_count, idle_interval=args.idle_interval, idle_window=idle_window,
                          idle_factor=args.idle_factor, idle=not args.no_idle, floor=not args.no_floor,
                          timeout=args.timeout, keep_logs=args.keep_logs, quick=args.quick,
                          operator=str(args.operator) if args.operator else None,
                          repeats=args.repeats if args.repeats is not None else (1 if args.quick else 3),
                          single_applies=singles, single_only=args.single_only)
        emulated = asyncio.run(run_all(options, say=say))
        emulated.update(stamp, loadavg_after=os.getloadavg())
        after = emulated["loadavg_after"]
        if args.single_only:  # the other figures of the last whole run stay, dated by their own stamp
            results["single"] = {**emulated["single"], **stamp, "loadavg_after": after}
            printed = single.table(results["single"], title="in-memory API")
        else:
            emulated["targets"] = report.targets(emulated)
            kept: dict[str, Any] = {key: results[key] for key in ("real_api", "heal") if key in results}  # dated
            results = {**emulated, **kept}
            printed = report.table(emulated)
    report.write_json(results, args.out)
    skip = args.png is not None and str(args.png).lower() == "none"
    png = None if skip or args.single_only or "sizes" not in results else (args.png or args.out.with_suffix(".png"))
    drawn = png is not None and report.plot(results, png)
    print()
    print(printed)
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{v:.2f}' for v in stamp['loadavg_before'])}; after: "
          f"{', '.join(f'{v:.2f}' for v in after)} on {os.cpu_count()} CPUs (the bench itself adds about 1)")
    print()
    print(f"results: {args.out}" + (f", chart: {png}" if drawn else " (no chart: matplotlib is not installed)"
                                     if png is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
