"""``python -m headlamp_operator_testing.realpeers [--workdir DIR] [--product]``: a real control plane on loopback,
until Ctrl-C.

``make cluster`` runs it. With ``--product``, the whole world of the real-peer suite: the product installed
with one ``kubectl apply -k``, the Headlamp emulator in front of the API server, and the operator running
(its log and metrics printed), to try it by hand as the suite does.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import signal
import tempfile
import threading

from headlamp_operator_testing.realpeers.controlplane import ControlPlane
from headlamp_operator_testing.realpeers.world import CLUSTER, World


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headlamp_operator_testing.realpeers", description=__doc__)
    parser.add_argument("--workdir", type=pathlib.Path, help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the start (default: 120)")
    parser.add_argument("--product", action="store_true",
                        help="also install the product, start Headlamp (emulated) and the operator")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="realpeers-")))
        if args.product:
            world = World(workdir)
            stack.callback(world.stop)
            world.start()
            cp = world.cp
        else:
            cp = ControlPlane(workdir)
            stack.callback(cp.stop)
            cp.start(timeout=args.timeout)
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        print(f"control plane up in {cp.startup_seconds} s, work folder {cp.workdir}")
        print(f"server:     {cp.server}")
        print(f"kubeconfig: {cp.admin_kubeconfig}")
        print(f"versions:   {', '.join(f'{name} {version}' for name, version in cp.versions.items())}")
        print(f"echo port:  {cp.echo_port} (every pod port-forward lands there)")
        for user, token in cp.tokens.items():
            print(f"token of {user}: {token}")
        if args.product:
            print(f"headlamp:   {world.headlamp_url} (cluster {CLUSTER!r})")
            print(f"operator:   log {world.workdir / 'operator.log'}, metrics http://127.0.0.1:{world.metrics_port}/metrics")
        print(f"export KUBECONFIG={cp.admin_kubeconfig}")
        print("Ctrl-C stops everything.", flush=True)
        stopping.wait()
        print("stopping...", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
