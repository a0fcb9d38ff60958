"""``python -m tests.realpeers [--workdir DIR]``: a real control plane on loopback until Ctrl-C (``make cluster``)."""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import signal
import tempfile
import threading

from tests.realpeers.controlplane import ControlPlane


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realpeers", description=__doc__)
    parser.add_argument("--workdir", type=pathlib.Path, help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the start (default: 120)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="realpeers-")))
        cp = ControlPlane(workdir)
        cp.start(timeout=args.timeout)
        stack.callback(cp.stop)
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
        print(f"export KUBECONFIG={cp.admin_kubeconfig}")
        print("Ctrl-C stops everything.", flush=True)
        stopping.wait()
        print("stopping...", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
