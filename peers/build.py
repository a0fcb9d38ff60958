"""Build the real peers of the real-peer suite from Go modules, into a cache outside the repository.

The peers (``peers/README`` in the top-level README's "Real peers" section says why each is here):

=========  ==========================================  ====================================
peer       Go module (through the module proxy)        binaries
=========  ==========================================  ====================================
kubernetes k8s.io/kubernetes (helper module replaces    kube-apiserver, kube-controller-manager,
           every staging module with its v0.36.x)       kube-scheduler, kubectl
etcd       go.etcd.io/etcd/server/v3 (etcdmain.Main)    etcd
kwok       sigs.k8s.io/kwok/cmd/kwok                    kwok
kstatus    sigs.k8s.io/cli-utils/pkg/kstatus            kstatus
helm       helm.sh/helm/v3/cmd/helm                     helm
=========  ==========================================  ====================================

Each peer is built by ``go build`` inside its helper module (``peers/<peer>/go.mod``), with
``-trimpath`` and, for Kubernetes, the version ldflags its own release build sets, so that
``kubectl version`` reports the real server version. The output goes to
``$HEADLAMP_OPERATOR_PEERS_CACHE`` (default ``${XDG_CACHE_HOME:-~/.cache}/headlamp-operator/peers``)
under ``<peer>-<version>-<digest>/``, where the digest covers the helper module's files: a changed
helper module builds anew, an unchanged one is reused. Nothing is ever written into the repository.

Usage: ``python3 peers/build.py [--json] [PEER ...]``. It prints one line per peer (its directory,
and whether it was built or reused, with the seconds taken) and exits non-zero on the first failed
build, with Go's output: a missing toolchain or a refused module fails loudly, never silently.

The Headlamp backend (``github.com/kubernetes-sigs/headlamp/backend``) is not built here: the module
proxy refuses it (HTTP 403 "This module version is not available", for the v0.45.0 pseudo-version and
for the module's version list alike), see the README's "Real peers" section.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPE = "1"  # bump when the way of building changes (flags, ldflags), so cached builds are redone


@dataclass(frozen=True)
class Peer:
    """One real peer: its helper module's folder, the packages to build and the binary names."""

    name: str
    module: str  # the upstream module, whose required version names the peer's version
    packages: tuple[tuple[str, str], ...]  # (binary name, package path) pairs
    ldflags: str = ""


def _kubernetes_ldflags(version: str) -> str:
    major, minor = version.lstrip("v").split(".")[:2]
    prefix = "k8s.io/component-base/version"
    client = "k8s.io/client-go/pkg/version"
    flags = []
    for pkg in (prefix, client):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    return " ".join(flags)


def _ldflags(name: str, version: str) -> str:
    """The version stamps a peer's own release build sets, so ``--version`` tells the truth."""
    if name == "kubernetes":
        return _kubernetes_ldflags(version)
    if name == "helm":
        return f"-X helm.sh/helm/v3/internal/version.version={version}"
    return ""


PEERS = {
    "kubernetes": Peer(
        name="kubernetes",
        module="k8s.io/kubernetes",
        packages=(
            ("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"),
            ("kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"),
            ("kube-scheduler", "k8s.io/kubernetes/cmd/kube-scheduler"),
            ("kubectl", "k8s.io/kubernetes/cmd/kubectl"),
        ),
    ),
    "etcd": Peer(name="etcd", module="go.etcd.io/etcd/server/v3", packages=(("etcd", "."),)),
    "kwok": Peer(name="kwok", module="sigs.k8s.io/kwok", packages=(("kwok", "sigs.k8s.io/kwok/cmd/kwok"),)),
    "kstatus": Peer(name="kstatus", module="sigs.k8s.io/cli-utils", packages=(("kstatus", "."),)),
    "helm": Peer(name="helm", module="helm.sh/helm/v3", packages=(("helm", "helm.sh/helm/v3/cmd/helm"),)),
}


def cache_root() -> Path:
    """The folder all peers are cached under (outside the repository; kept between runs)."""
    explicit = os.environ.get("HEADLAMP_OPERATOR_PEERS_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "headlamp-operator" / "peers"


def required_version(peer: Peer) -> str:
    """The version of the upstream module that the helper module's go.mod requires."""
    text = (HERE / peer.name / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(peer.module)}\s+(v\S+)", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"peers/{peer.name}/go.mod does not require {peer.module}")
    return match.group(1)


def digest(peer: Peer) -> str:
    """A short digest of the helper module's files: a change to any of them builds the peer anew."""
    h = hashlib.sha256()
    for path in sorted((HERE / peer.name).iterdir()):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(RECIPE.encode())
    return h.hexdigest()[:12]


def peer_dir(name: str) -> Path:
    """Where the binaries of peer ``name`` are (or will be) cached."""
    peer = PEERS[name]
    return cache_root() / f"{peer.name}-{required_version(peer)}-{digest(peer)}"


def build(name: str) -> dict[str, object]:
    """Build peer ``name`` unless its cache folder is complete; returns what was done.

    Raises:
        SystemExit: ``go`` is missing, or a build failed (Go's output is printed first).
    """
    peer = PEERS[name]
    version = required_version(peer)
    target = peer_dir(name)
    binaries = {binary: str(target / binary) for binary, _ in peer.packages}
    if all(Path(path).is_file() for path in binaries.values()):
        return {"peer": name, "version": version, "dir": str(target), "built": False, "seconds": 0.0, "binaries": binaries}
    go = shutil.which("go")
    if go is None:
        raise SystemExit("peers: no `go` on PATH; the real peers are built from Go modules (Go 1.26+)")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = dict(os.environ, GOFLAGS="-mod=mod", CGO_ENABLED="0")
    ldflags = _ldflags(name, version)
    started = time.monotonic()
    for binary, package in peer.packages:
        command = [go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(staging / binary), package]
        done = subprocess.run(command, cwd=HERE / peer.name, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"peers: building {binary} from {peer.module}@{version} failed ({' '.join(command)})")
    seconds = round(time.monotonic() - started, 1)
    (staging / "build.json").write_text(json.dumps({"version": version, "seconds": seconds}) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return {"peer": name, "version": version, "dir": str(target), "built": True, "seconds": seconds, "binaries": binaries}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the real peers from Go modules into a cache.")
    parser.add_argument("peers", nargs="*", metavar="PEER", help=f"peers to build: {', '.join(PEERS)} (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per peer")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEERS)}")
    for name in args.peers or list(PEERS):
        result = build(name)
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            how = f"built in {result['seconds']} s" if result["built"] else "cached"
            print(f"peers: {name} {result['version']}: {how}: {result['dir']}", flush=True)


if __name__ == "__main__":
    main()
