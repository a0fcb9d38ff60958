"""The Flux ``healthCheckExprs`` of docs/gitops.md, read from the page itself so that the tests and the page
cannot drift apart: the fast suite (tests/status/test_flux_health.py) and the real-peer suite
(tests/status/test_gitops_health_real.py) evaluate exactly what a reader copies."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from headlamp_operator_testing.flux import HealthCheck

GITOPS = Path(__file__).resolve().parents[2] / "docs" / "gitops.md"
FENCE = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)


def flux_health_checks() -> dict[str, HealthCheck]:
    """The page's one Flux Kustomization's ``spec.healthCheckExprs``, by kind."""
    kustomizations = [document for block in FENCE.findall(GITOPS.read_text())
                      for document in yaml.safe_load_all(block)
                      if isinstance(document, dict) and document.get("kind") == "Kustomization"
                      and "healthCheckExprs" in (document.get("spec") or {})]
    assert len(kustomizations) == 1, f"{GITOPS}: expected one Kustomization with healthCheckExprs"
    checks = [HealthCheck.from_entry(entry) for entry in kustomizations[0]["spec"]["healthCheckExprs"]]
    return {check.kind: check for check in checks}
