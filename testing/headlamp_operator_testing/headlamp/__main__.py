"""``python -m headlamp_operator_testing.headlamp``: the emulated backend in front of real clusters.

It takes ``headlamp-server``'s own flags, so a test or a person swaps one for the other by the
command alone::

    python -m headlamp_operator_testing.headlamp -kubeconfig FILE -listen-addr 127.0.0.1 -port 4466 \\
        [-enable-dynamic-clusters] [-kubectl PATH] [-forwarder kubectl|websocket] [-request-log FILE] \\
        [--contract v0.45.0|pr6153|pr7273|pr7389|pr7020|pr7352|pr6801|pr7258 ...]

Each context of the kubeconfig becomes a cluster of that name, served by its real API server (see
:mod:`.upstream`); ``HEADLAMP_BACKEND_TOKEN`` in the environment turns on the backend-token check.
It prints ``listening on http://HOST:PORT`` once it serves, and runs until SIGTERM or Ctrl-C.
The last three flags are the emulator's own. Two are for the benchmark: forwards made in-process instead of
by ``kubectl`` processes, and one JSON line per answered request (method, path, status, arrival time on the
machine's monotonic clock), written as it is answered, so another process can count them. ``--contract``
makes it v0.45.0 with open upstream pull requests applied (:mod:`.contracts`; repeated or comma-separated,
default ``v0.45.0``); it prints ``contract: ...`` before it serves.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import shutil
import signal
from collections.abc import Callable
from typing import IO

from .contracts import VARIANTS, Contract, ContractError
from .emulator import HeadlampEmulator
from .records import RecordedRequest
from .upstream import clusters_from_kubeconfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m headlamp_operator_testing.headlamp",
                                     description="The Headlamp backend emulator, in front of real clusters.")
    parser.add_argument("-kubeconfig", "--kubeconfig", required=True, type=pathlib.Path,
                        help="kubeconfig whose contexts become the clusters")
    parser.add_argument("-listen-addr", "--listen-addr", default="127.0.0.1", help="address to listen on")
    parser.add_argument("-port", "--port", type=int, default=4466, help="port to listen on (0: a free one)")
    parser.add_argument("-enable-dynamic-clusters", "--enable-dynamic-clusters", action="store_true",
                        help="honour KUBECONFIG headers (dynamic clusters)")
    parser.add_argument("-kubectl", "--kubectl", default=shutil.which("kubectl") or "kubectl",
                        help="the kubectl that makes the port-forwards (default: the one on PATH)")
    parser.add_argument("-forwarder", "--forwarder", choices=("kubectl", "websocket"), default="kubectl",
                        help="kubectl: a `kubectl port-forward` process per forward (default); websocket: in-process")
    parser.add_argument("-request-log", "--request-log", type=pathlib.Path, default=None,
                        help="append one JSON line per answered request to this file")
    parser.add_argument("-contract", "--contract", action="append", default=[], metavar="VARIANT[,VARIANT...]",
                        help="the backend's contract: v0.45.0 (default) and/or upstream pull requests, repeated or "
                             f"comma-separated: {', '.join(VARIANTS)}")
    return parser


def _logger(file: IO[str]) -> Callable[[RecordedRequest], None]:
    """The -request-log hook: one line per answered request, flushed at once (the reader is another process)."""
    def log(record: RecordedRequest) -> None:
        file.write(json.dumps({"method": record.method, "path": record.path, "status": record.status,
                               "time": record.time}) + "\n")
        file.flush()
    return log


async def _serve(args: argparse.Namespace, contract: Contract) -> None:
    emulator = HeadlampEmulator(backend_token=os.environ.get("HEADLAMP_BACKEND_TOKEN") or None,
                                dynamic_clusters=args.enable_dynamic_clusters, host=args.listen_addr, port=args.port,
                                ready_timeout=30.0, contract=contract)
    for upstream in clusters_from_kubeconfig(args.kubeconfig, kubectl=args.kubectl, forwarder=args.forwarder):
        emulator.add_upstream_cluster(upstream)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with contextlib.ExitStack() as files:
        if args.request_log is not None:
            emulator.on_answered.append(_logger(files.enter_context(args.request_log.open("a"))))
        async with emulator:
            print(f"contract: {emulator.contract}", flush=True)
            print(f"listening on {emulator.url}", flush=True)
            await stop.wait()


def main() -> None:
    """Run the emulated backend until SIGTERM or Ctrl-C."""
    parser = _parser()
    args = parser.parse_args()
    try:
        contract = Contract.parse(args.contract)
    except ContractError as exc:
        parser.error(f"--contract: {exc}")  # exit status 2, usage and the reason on stderr
    asyncio.run(_serve(args, contract))


if __name__ == "__main__":
    main()
