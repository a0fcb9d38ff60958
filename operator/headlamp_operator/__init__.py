"""headlamp-operator: Headlamp's backend driven by Kubernetes custom resources (PortForward, ResourcePatch)."""
from __future__ import annotations

import importlib.metadata


def version() -> str:
    """The installed version of the headlamp-operator distribution ("unknown" in an uninstalled tree)."""
    try:
        return importlib.metadata.version("headlamp-operator")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
