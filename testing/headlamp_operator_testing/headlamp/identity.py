"""Who the emulated backend is to the API servers behind it: its version and its ``User-Agent``.

headlamp-server v0.45.0 wraps the transport of its Kubernetes API proxy in a round tripper that SETS the
``User-Agent`` of every proxied request (``backend/pkg/kubeconfig/kubeconfig.go``, ``buildUserAgent``:
``"{AppName} {Version} ({GOOS}/{GOARCH})"``, AppName ``Headlamp`` and Version the release's
``app/package.json`` version, both given to the linker by its Makefile). The client's own
``User-Agent`` never reaches the API server, so an object written without ``?fieldManager=`` is
managed by what the API server makes of Headlamp's agent: the text before its first ``/``
(kube-apiserver's ``prefixFromUserAgent``, :func:`headlamp_operator_testing.kubernetes.managedfields.manager_of`),
i.e. ``Headlamp 0.45.0 (linux``.
"""
from __future__ import annotations

import platform
import sys

VERSION = "0.45.0"
APP_NAME = "Headlamp"

_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386",
           "i686": "386", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def _goos() -> str:
    """Go's GOOS of this machine (the backend runs where the emulator runs)."""
    for prefix, goos in (("linux", "linux"), ("darwin", "darwin"), ("win", "windows"), ("freebsd", "freebsd")):
        if sys.platform.startswith(prefix):
            return goos
    return sys.platform


def _goarch() -> str:
    """Go's GOARCH of this machine."""
    machine = platform.machine().lower()
    return _GOARCH.get(machine, machine or "amd64")


USER_AGENT = f"{APP_NAME} {VERSION} ({_goos()}/{_goarch()})"
