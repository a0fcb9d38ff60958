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
