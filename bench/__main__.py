"""``python -m bench [--n 500] [--out bench/results.json]``: run every phase, print the table, write the files."""
from __future__ import annotations

import argparse
import asyncio
import gc
import pathlib
import sys
from collections.abc import Sequence

from bench import report
from bench.run import Options, run_all
from headlamp_operator.runner import GC_YOUNG_THRESHOLD

HERE = pathlib.Path(__file__).resolve().parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--n", type=int, default=500, help="N PortForwards and N ResourcePatches (default 500)")
    parser.add_argument("--factor", type=int, default=4, help="the second size is factor x N (default 4)")
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results.json", help="the JSON results")
    parser.add_argument("--png", type=pathlib.Path, default=None,
                        help="the chart (default: next to --out, .png); 'none' to skip")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="creations in flight, and the floor's concurrency (default 32 = HEADLAMP_MAX_CONCURRENCY)")
    parser.add_argument("--credentials", choices=("token", "anonymous"), default="token",
                        help="token: Secrets with a bearer token per namespace (default); "
                             "anonymous: HEADLAMP_ALLOW_ANONYMOUS=true")
    parser.add_argument("--idle-count", type=int, default=1000, help="PortForwards in the idle phase (default 1000)")
    parser.add_argument("--idle-interval", type=float, default=5.0,
                        help="HEADLAMP_SYNC_INTERVAL of the idle phase, seconds (default 5)")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle phase")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (no ratio)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a burst may take (default 60 + 0.1 per resource)")
    parser.add_argument("--keep-logs", type=pathlib.Path, default=None, help="copy the operator logs here")
    args = parser.parse_args(argv)
    if args.n < 1 or args.factor < 1 or args.concurrency < 1:
        parser.error("--n, --factor and --concurrency must be positive")
    options = Options(n=args.n, factor=args.factor, concurrency=args.concurrency, credentials=args.credentials,
                      idle_count=args.idle_count, idle_interval=args.idle_interval, idle=not args.no_idle,
                      floor=not args.no_floor, timeout=args.timeout, keep_logs=args.keep_logs)
    # The emulators keep every object and every request in memory; with CPython's default collector
    # thresholds this process spent 16 s in full collections over a run, slowing the floors and the
    # operator's bursts alike. The operator's own setting (runner.GC_YOUNG_THRESHOLD) is used here too.
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    results = asyncio.run(run_all(options, say=lambda line: print(line, flush=True)))
    results["targets"] = report.targets(results)
    report.write_json(results, args.out)
    skip = args.png is not None and str(args.png).lower() == "none"
    png = None if skip else (args.png or args.out.with_suffix(".png"))
    drawn = png is not None and report.plot(results, png)
    print()
    print(report.table(results))
    print()
    print(f"results: {args.out}" + (f", chart: {png}" if drawn else " (no chart: matplotlib is not installed)"
                                     if png is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
