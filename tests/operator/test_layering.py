"""aiohttp stays inside the client layer; the request layer never imports kopf."""
from __future__ import annotations

import ast
import pathlib

import headlamp_operator

PACKAGE = pathlib.Path(headlamp_operator.__file__).parent



def _imports(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _aiohttp_client_imports(path: pathlib.Path) -> list[str]:
    """aiohttp imports other than its server (``aiohttp.web``): the client, its errors, its cookie jars."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "aiohttp" and a.name != "aiohttp.web"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "aiohttp":
                found += [f"aiohttp.{a.name}" for a in node.names if a.name != "web"]
            elif node.module.split(".")[0] == "aiohttp" and not node.module.startswith("aiohttp.web"):
                found.append(node.module)
    return found


def test_aiohttp_never_leaks_out_of_the_client_layer() -> None:
    """Only the two clients talk HTTP (Headlamp's request layer, kube/api.py); elsewhere aiohttp serves (/metrics)."""
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(("testing/", "headlamp/")) or relative == "kube/api.py":
            continue  # the emulators are servers and clients of their own; the two clients: Headlamp's, Kubernetes'

        if found := _aiohttp_client_imports(path):
            offenders[relative] = found
    assert offenders == {}


def test_the_request_layer_imports_no_kopf() -> None:
    for path in (PACKAGE / "headlamp").rglob("*.py"):
        assert "kopf" not in _imports(path), path
