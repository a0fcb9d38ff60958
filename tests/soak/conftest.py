"""The soak's marker: ``pytest -m soak`` selects it, ``-m "not soak"`` leaves it out; ``make test`` runs it."""
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "soak: the short seeded fault soak (about 1.5 minutes), part of make test")
