"""The Helm chart ships the manifests' CRDs: ``make test`` keeps the two copies equal, byte for byte.

Helm installs ``charts/headlamp-operator/crds/`` as they are (never templated), so they must be the
files ``kubectl apply -k manifests/`` applies: a change to one without the other fails here, in every
run, not only in the real-peer suite (which renders and installs the rest of the chart).
"""
from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).parents[2]
CHART_CRDS, MANIFEST_CRDS = ROOT / "charts" / "headlamp-operator" / "crds", ROOT / "manifests" / "crds"


def test_the_charts_crds_are_the_manifests_crds_byte_for_byte() -> None:
    shipped = sorted(path.name for path in CHART_CRDS.iterdir())
    assert shipped == sorted(path.name for path in MANIFEST_CRDS.iterdir())
    for name in shipped:
        assert (CHART_CRDS / name).read_bytes() == (MANIFEST_CRDS / name).read_bytes(), name
