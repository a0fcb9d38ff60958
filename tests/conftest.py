"""The harnesses a test chooses from, by the fixtures it asks for and the marker it carries.

- no marker: the operator, for real, against the in-memory Kubernetes API and the Headlamp emulator over
  loopback (:mod:`tests.harness.memory`: ``env``, ``start_operator``, ``hl``, ``kube``); a folder may give
  ``hl`` another seed (the request layer's and the emulator's own tests do);
- ``realpeers``: a real kube-apiserver, etcd and kwok with the product installed (:mod:`tests.harness.realpeers`,
  ``world``), run by ``make test-real``, skipped by ``make test``;
- ``e2e``: a real cluster and a real Headlamp named by the E2E_* variables (:mod:`tests.harness.e2e`, ``ns``,
  ``headlamp``); run against the real-peer world by ``make test-real``, skipped without either;
- ``soak``: the seeded fault soak (``-m soak``, ``-m "not soak"``).
"""
from __future__ import annotations

import pytest

from tests.harness.e2e.fixtures import e2e, e2e_cluster, headlamp, ns, operator_hint, skip_unless_configured  # noqa: F401 (fixtures)
from tests.harness.memory import env, hl, kube, start_operator  # noqa: F401 (fixtures)
from tests.harness.realpeers.fixtures import skip_unless_running, world  # noqa: F401 (fixtures)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_unless_configured(items)
    skip_unless_running(config, items)
