"""The short fault soak of ``make test`` (issue 22, section 2): a seeded run that must end with nothing stuck.

It runs ``python -m headlamp_operator_testing.soak`` as ``make soak`` does, smaller (every role of
resource, about 50 resources, 45 s of faults) and with a fixed seed, so that a failure replays with
``make soak SOAK_SEED=<seed> SOAK_SECONDS=45 SOAK_ARGS=--resources=50``. Its report (each stuck
resource with its status, the faults by kind) is the failure message.
"""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

SEED, SECONDS, RESOURCES = 22, 45, 50
LAST_LINE = re.compile(r"^soak: (\d+) resources, (\d+) faults, (\d+) stuck$")


@pytest.mark.soak
def test_a_short_seeded_soak_leaves_nothing_stuck(tmp_path: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "headlamp_operator_testing.soak", "--seconds", str(SECONDS), "--seed", str(SEED),
         "--resources", str(RESOURCES), "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False, cwd=pathlib.Path(__file__).parents[2])
    report = done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    match = LAST_LINE.match(lines[-1]) if lines else None
    assert match, f"the soak's last line is not its summary:\n{report}"
    resources, injected, stuck = (int(n) for n in match.groups())
    assert resources == RESOURCES
    assert injected >= SECONDS // 2, f"too few faults were injected for a soak:\n{report}"  # one every ~1 s planned
    assert stuck == 0 and done.returncode == 0, f"stuck after the faults stopped:\n{report}"
