import pytest

from headlamp_operator import settings


def test_defaults_follow_the_spec() -> None:
    s = settings.from_env({})
    assert s.backend.url == "http://localhost:4466"
    assert s.backend.request_timeout == 120
    assert s.backend.max_concurrency == 32
    assert s.backend.backend_token is None
    assert s.reconcile.allow_anonymous is False
    assert s.reconcile.sync_interval == 30


def test_environment_is_read() -> None:
    s = settings.from_env({
        "HEADLAMP_URL": "http://hl.example:8080/prefix",
        "HEADLAMP_BACKEND_TOKEN": "bt",
        "HEADLAMP_REQUEST_TIMEOUT": "5.5",
        "HEADLAMP_MAX_CONCURRENCY": "4",
        "HEADLAMP_ALLOW_ANONYMOUS": "true",
        "HEADLAMP_SYNC_INTERVAL": "10",
    })
    assert s.backend.url == "http://hl.example:8080/prefix"
    assert s.backend.backend_token == "bt"
    assert "bt" not in repr(s)
    assert s.backend.request_timeout == 5.5
    assert s.backend.max_concurrency == 4
    assert s.reconcile.allow_anonymous is True
    assert s.reconcile.sync_interval == 10


@pytest.mark.parametrize(("variable", "value"), [
    ("HEADLAMP_URL", "not a url"),
    ("HEADLAMP_URL", "ftp://host"),
    ("HEADLAMP_REQUEST_TIMEOUT", "-1"),
    ("HEADLAMP_REQUEST_TIMEOUT", "soon"),
    ("HEADLAMP_MAX_CONCURRENCY", "0"),
    ("HEADLAMP_ALLOW_ANONYMOUS", "maybe"),
    ("HEADLAMP_SYNC_INTERVAL", "0"),
    ("HEADLAMP_BACKEND_TOKEN", "a\nb"),
])
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(settings.ConfigError) as err:
        settings.from_env({variable: value})
    assert err.value.variable == variable
    assert variable in str(err.value)


def test_the_crds_shortest_reapply_interval_is_the_settings() -> None:
    """The 30 s minimum is said twice, by the CRD's CEL rule (at admission) and by the operator: one value."""
    import pathlib
    import re

    crd = (pathlib.Path(__file__).parents[2] / "manifests" / "crds" / "resourcepatches.yaml").read_text()
    rules = re.findall(r"duration\(self\) >= duration\('(\d+)s'\)", crd)
    assert rules and all(float(seconds) == settings.MIN_REAPPLY_SECONDS for seconds in rules)
    assert settings.ReconcileSettings().min_reapply_interval == settings.MIN_REAPPLY_SECONDS


def test_every_flag_and_variable_is_declared_once_with_its_setting() -> None:
    """The CLI builds its flags from the settings' options: each flag and variable names one setting."""
    flags = [d.option.flag for d in settings.described() if d.option.flag]
    variables = [d.option.env for d in settings.described() if d.option.env]
    assert len(flags) == len(set(flags)) and len(variables) == len(set(variables))
    assert settings.named("HEADLAMP_URL") is not None and settings.named("--headlamp-url") is not None
    assert {d.option.group for d in settings.described()} <= set(settings.GROUPS)


def test_flags_win_over_variables() -> None:
    s = settings.from_env({"HEADLAMP_SYNC_INTERVAL": "10", "POD_NAMESPACE": "ops", "POD_ID": "pod-1"},
                          flags={"reconcile__sync_interval": 3.0, "run__namespaces": ("a", "b")})
    assert s.reconcile.sync_interval == 3.0
    assert (s.peering.namespace, s.peering.identity) == ("ops", "pod-1")
    assert s.run.namespaces == ("a", "b") and not s.run.clusterwide
