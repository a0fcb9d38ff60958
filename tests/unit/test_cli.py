import subprocess
import sys


def test_bad_configuration_stops_with_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "headlamp_operator", "run"],
        env={"HEADLAMP_REQUEST_TIMEOUT": "-3", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "HEADLAMP_REQUEST_TIMEOUT" in lines[0]


def test_version_prints_the_installed_version() -> None:
    import importlib.metadata

    done = subprocess.run([sys.executable, "-m", "headlamp_operator", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"headlamp-operator {importlib.metadata.version('headlamp-operator')}"
