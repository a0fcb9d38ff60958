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


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "headlamp_operator", *args], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_bad_value_given_as_a_flag_is_named_as_the_flag() -> None:
    for args, flag, message in (
            (("--request-timeout", "-3"), "--request-timeout", "must be a positive number of seconds"),
            (("--headlamp-url", "ftp://x"), "--headlamp-url", "not an http(s) URL: 'ftp://x'"),
            (("--metrics-port", "70000"), "--metrics-port", "not a port number (1-65535): '70000'"),
            (("--log-level", "loud"), "--log-level", "invalid choice: 'loud'")):
        done = run_cli("run", *args, HEADLAMP_REQUEST_TIMEOUT="5")  # a good variable does not hide the bad flag
        assert done.returncode == 2, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith(f"headlamp-operator run: error: argument {flag}: {message}"), last
        assert "HEADLAMP_" not in last


def test_the_variable_is_named_when_the_value_came_from_the_environment() -> None:
    done = run_cli("run", HEADLAMP_URL="ftp://x")
    assert done.returncode == 2
    assert done.stderr.strip() == "headlamp-operator: configuration error: HEADLAMP_URL: not an http(s) URL: 'ftp://x'"


def test_help_is_written_for_users_without_docstring_markup() -> None:
    for args in ((), ("run",)):
        done = run_cli(*args, "--help")
        assert done.returncode == 0, done.stderr
        assert "``" not in done.stdout and ":func:" not in done.stdout and ":class:" not in done.stdout, done.stdout
    run_help = run_cli("run", "--help").stdout
    for group in ("the Headlamp backend:", "behaviour:", "replicas, probes and metrics:", "logging:",
                  "the admission webhook (off unless --webhook-port is given):"):
        assert group in run_help, run_help
    assert "HEADLAMP_URL" in run_help  # the epilog says every setting has a variable


def test_backoff_flags_set_the_retry_delays_of_every_transient_error() -> None:
    from headlamp_operator import cli

    parsed = cli.build_parser().parse_args(["run", "--backoff-min", "0.5", "--backoff-max", "8"])
    reconcile = cli.settings_of(parsed).reconcile
    assert (reconcile.backoff_min, reconcile.backoff_max) == (0.5, 8.0)
    defaults = cli.settings_of(cli.build_parser().parse_args(["run"])).reconcile
    assert (defaults.backoff_min, defaults.backoff_max) == (1.0, 300.0)  # docs/status.md#retries: from 1 s to 5 minutes


def test_a_backoff_pair_out_of_order_is_refused_naming_both_flags() -> None:
    for args in (("--backoff-max", "0.5"), ("--backoff-min", "0"), ("--backoff-min", "9", "--backoff-max", "8")):
        done = run_cli("run", *args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == ("headlamp-operator run: error: argument --backoff-min/--backoff-max: "
                                       "needs 0 < minimum <= maximum"), done.stderr
