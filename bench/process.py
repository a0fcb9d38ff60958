"""The operator as a separate process: start, readiness, /proc figures, and a certain end."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import IO

from bench import workload
from bench.world import ROOT, World
from headlamp_operator_testing.process import OperatorProcess, free_port, live, operator_command, stop

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the bench process dies, however it dies (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def cpu_seconds(pid: int) -> float:
    """The CPU time of a process, in seconds: its CPU-time clock (nanoseconds), else /proc/<pid>/stat.

    /proc's utime + stime (fields 14 and 15) count clock ticks of 10 ms: an idle operator uses a few
    dozen ms in a 30 s window, so a ratio of two of those was mostly rounding. Linux gives any process's
    CPU-time clock as clockid ``(~pid << 3) | 2`` (CPUCLOCK_SCHED, what clock_getcpuclockid(3) returns).
    """
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        pass
    raw = pathlib.Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory(pid: int) -> dict[str, float]:
    """VmHWM (peak RSS) and VmRSS in MB from /proc/<pid>/status."""
    result: dict[str, float] = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            result[key] = int(value.split()[0]) / 1024.0
    return result


@dataclasses.dataclass
class Operator(OperatorProcess):
    """A running ``headlamp-operator run`` process, with the /proc figures the benchmark reports."""

    env: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def memory(self) -> dict[str, float]:
        return memory(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


async def wait_ready(op: Operator, world: World, *, within: float) -> float:
    """Ready = kopf's liveness endpoint answers 200 and kopf watches both resources cluster-wide.

    The watches prove that the login (kopf.login_via_client reading $KUBECONFIG) worked.
    Returns the seconds it took.
    """
    started = time.monotonic()
    deadline = started + within
    while time.monotonic() < deadline:
        if not op.alive():
            raise RuntimeError(f"the operator exited with {op.process.returncode} during startup:\n{op.log_tail()}")
        watching = all(world.kube.watching(workload.GROUP, workload.VERSION, plural, None)
                       for plural in workload.PLURALS.values())
        if watching and await live(op.liveness):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    watches = [world.kube.watching(workload.GROUP, workload.VERSION, p, None) for p in workload.PLURALS.values()]
    raise TimeoutError(f"the operator was not ready within {within:.0f} s (liveness {op.liveness}, watches open: "
                       f"{watches}):\n{op.log_tail()}")


@contextlib.asynccontextmanager
async def operator(world: World, workdir: pathlib.Path, *, credentials: workload.Credentials,
                   sync_interval: float, name: str, startup_timeout: float = 60.0,
                   extra_env: Mapping[str, str] | None = None,
                   kopf_module: str | None = None, command: str | None = None) -> AsyncIterator[Operator]:
    """``headlamp-operator run --standalone --all-namespaces`` against the world; killed on exit, always.

    With ``kopf_module``, plain ``kopf run`` of that module instead (the kopf floor). ``command``: the
    ``headlamp-operator`` to start (default: the one next to this interpreter)."""
    port = free_port()
    liveness = f"http://127.0.0.1:{port}/healthz"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HEADLAMP_", "KUBECONFIG"))}
    env.update({
        "KUBECONFIG": str(world.kubeconfig),
        "HEADLAMP_URL": world.hl_url,
        "HEADLAMP_SYNC_INTERVAL": f"{sync_interval:g}",
        "HEADLAMP_ALLOW_ANONYMOUS": "true" if credentials == "anonymous" else "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("KUBERNETES_SERVICE_HOST", None)  # never the in-cluster login, even inside a pod
    if kopf_module is not None:  # importable from the repository's root, wherever the bench was started
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra_env or {})
    log_path = workdir / f"operator-{name}.log"
    log: IO[bytes] = log_path.open("wb")
    started = [*([command] if command else operator_command()), "run", "--standalone", "--all-namespaces",
               "--liveness", liveness] \
        if kopf_module is None else \
        [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", "--liveness", liveness,
         "-m", kopf_module]
    process = subprocess.Popen(started, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603, ASYNC220
                               stdin=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=_die_with_parent)
    op = Operator(process=process, liveness=liveness, log_path=log_path, env=env)
    try:
        await wait_ready(op, world, within=startup_timeout)
        yield op
    finally:
        # Give kopf a moment to exit cleanly (its cleanup handler closes the session), then kill it.
        await asyncio.to_thread(stop, process, grace=5.0)
        log.close()
