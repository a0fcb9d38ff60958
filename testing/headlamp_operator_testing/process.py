"""``headlamp-operator run`` as a separate process, for fault, HA and benchmark scenarios.

The process logs in through ``$KUBECONFIG`` exactly as it would in a real deployment (kopf's
login via the official client), talks to the emulators over loopback, and is always stopped:
SIGTERM, then SIGKILL after a grace period.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import IO

import aiohttp


@contextlib.contextmanager
def held_port(port: int = 0, *, hosts: Sequence[str] = ("127.0.0.1", "::1")) -> Iterator[int]:
    """Hold a local port as another process would: listening on each of ``hosts`` (0: a free port), yields it.

    Headlamp v0.45.0's forwards listen on ``localhost`` as client-go does, on 127.0.0.1 and ::1, and a
    start succeeds while either is free (docs/headlamp-backend.md#routes): to take a port from a forward, hold both
    (the default). ``::1`` is skipped on a machine without IPv6 loopback.
    """
    with contextlib.ExitStack() as stack:
        for host in hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            try:
                sock = stack.enter_context(socket.socket(family, socket.SOCK_STREAM))
                sock.bind((host, port))
            except OSError:
                if family == socket.AF_INET6 and not socket.has_ipv6:
                    continue
                raise
            sock.listen()
            port = sock.getsockname()[1]
        yield port


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def operator_command() -> list[str]:
    """The console script next to this interpreter (else ``python -m headlamp_operator``)."""
    script = pathlib.Path(sys.executable).parent / "headlamp-operator"
    if script.exists():
        return [str(script)]
    found = shutil.which("headlamp-operator")
    return [found] if found else [sys.executable, "-m", "headlamp_operator"]


@dataclasses.dataclass
class OperatorProcess:
    """A running operator process and where to find its probe and its log."""

    process: subprocess.Popen[bytes]
    liveness: str
    log_path: pathlib.Path

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a node dies."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=10)

    def log(self) -> str:
        """Everything the process printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


async def live(url: str) -> bool:
    """Whether a liveness endpoint answers 200 now."""
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response:
            return response.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


def stop(process: subprocess.Popen[bytes], *, grace: float) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds: a process started here always ends."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=10)


@contextlib.asynccontextmanager
async def operator_process(*, kubeconfig: pathlib.Path, headlamp_url: str, workdir: pathlib.Path, name: str = "op",
                           args: Sequence[str] = ("--standalone", "--all-namespaces"),
                           env: Mapping[str, str] | None = None, ready: Callable[[], bool] | None = None,
                           startup_timeout: float = 60.0,
                           command: Sequence[str] | None = None) -> AsyncIterator[OperatorProcess]:
    """Start ``headlamp-operator run`` and wait until its liveness probe answers and ``ready()`` holds.

    ``command``: the ``headlamp-operator`` to start (default: the one next to this interpreter).
    """
    port = free_port()
    liveness = f"http://127.0.0.1:{port}/healthz"
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("HEADLAMP_", "KUBECONFIG"))}
    environ.pop("KUBERNETES_SERVICE_HOST", None)  # never the in-cluster login
    environ.update({"KUBECONFIG": str(kubeconfig), "HEADLAMP_URL": headlamp_url, "PYTHONUNBUFFERED": "1"})
    environ.update(env or {})
    log_path = workdir / f"operator-{name}.log"
    log: IO[bytes] = log_path.open("ab")
    started = [*(command or operator_command()), "run", *args, "--liveness", liveness]
    process = subprocess.Popen(started, env=environ, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603, ASYNC220 (starts only)
                               stdin=subprocess.DEVNULL, start_new_session=True)
    handle = OperatorProcess(process=process, liveness=liveness, log_path=log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while not (await live(liveness) and (ready is None or ready())):
            if not handle.alive():
                raise RuntimeError(f"the operator exited with {process.returncode}:\n{handle.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the operator was not ready within {startup_timeout} s:\n{handle.log()[-3000:]}")
            await asyncio.sleep(0.05)
        yield handle
    finally:
        await asyncio.to_thread(stop, process, grace=5.0)
        log.close()
