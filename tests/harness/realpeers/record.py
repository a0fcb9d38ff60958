"""``python -m tests.harness.realpeers.record --headlamp-server BIN [--out PATH]``: record a real headlamp-server.

``make record-headlamp HEADLAMP_SERVER=...`` runs it. It starts a real control plane
(:mod:`headlamp_operator_testing.realpeers.controlplane`; no operator), creates the objects of
:mod:`tests.harness.realpeers.recording_script`, starts the binary twice on 127.0.0.1 with a HOME of its own (plain,
and with ``HEADLAMP_BACKEND_TOKEN``), sends the script's fixed requests and writes what was said, with what
changes from run to run replaced by placeholders (:mod:`tests.headlamp.transcript`), to
``tests/kit/headlamp/transcripts/headlamp-{release}.json``. ``tests/kit/headlamp/test_transcript.py`` replays it
against the Headlamp emulator in ``make test``. The file's ``known_differences`` are kept by hand: a new
recording keeps those of the file it replaces.

The binary is the person's (Headlamp's release archives ship ``headlamp-server``, or build it from
Headlamp's source, docs/development.md); nothing here fetches or builds it.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime
import functools
import json
import os
import pathlib
import re
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import yaml
from multidict import CIMultiDict

from headlamp_operator_testing.process import held_port
from headlamp_operator_testing.realpeers.controlplane import ControlPlane, free_ports
from headlamp_operator_testing.realpeers.world import Process, answers, headlamp_server_version, wait_for
from tests.harness.realpeers import recording_script as script
from tests.kit.headlamp.transcript import FORMAT, UUID, Bindings, answer_of, placeholder, request_body

ROOT = pathlib.Path(__file__).resolve().parents[3]
TRANSCRIPTS = ROOT / "tests" / "headlamp" / "transcripts"
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


class Scrubber:
    """Replaces what changes from run to run by placeholders: the values the recorder knows (tokens, pods,
    ports it picked, the API server's URL) and what answers bring (ids, ports, uids by their JSON keys;
    resourceVersions and timestamps as wildcards)."""

    def __init__(self, bindings: Bindings) -> None:
        self.bindings = bindings  # placeholder -> real value
        self.extra: dict[str, str] = {}  # value -> wildcard placeholder ({{server}})
        self.counters: dict[str, int] = {}

    def _register(self, kind: str, value: str) -> str:
        for key, known in self.bindings.values.items():
            if known == value:
                return key
        self.counters[kind] = self.counters.get(kind, 0) + 1
        key = placeholder(kind, str(self.counters[kind]))
        self.bindings.values[key] = value
        return key

    def document(self, value: Any, key: str = "") -> Any:
        """A JSON document with run-dependent values replaced (registering what answers bring)."""
        if isinstance(value, dict):
            return {k: self.document(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.document(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if key == "resourceVersion" and value.isdigit():
            return placeholder("rv")
        if key in ("creationTimestamp", "time", "lastTransitionTime") and TIMESTAMP.match(value):
            return placeholder("time")
        if key in ("id", "uid") and re.fullmatch(UUID, value):
            self._register(key, value)
        elif key == "port" and value.isdigit():
            self._register("port", value)
        return self.text(value)

    def text(self, value: str) -> str:
        """A string with every known value replaced (numbers only where no digit surrounds them)."""
        known = [(v, k) for k, v in self.bindings.values.items() if v] + list(self.extra.items())
        for real, key in sorted(known, key=lambda pair: -len(pair[0])):
            if real.isdigit():
                value = re.sub(rf"(?<![0-9]){re.escape(real)}(?![0-9])", key.replace("\\", "\\\\"), value)
            else:
                value = value.replace(real, key)
        return value

    def answer(self, answer: dict[str, Any]) -> dict[str, Any]:
        out = dict(answer)
        out["set_cookie"] = [{"name": self.text(c["name"]), "value": self.text(c["value"]),
                              "attributes": c["attributes"]} for c in answer["set_cookie"]]
        if "json" in answer:
            out["json"] = self.document(answer["json"])
        else:
            out["text"] = self.text(answer["text"])
        return out


class Recorder:
    """Sends the script's requests to the two servers and keeps the steps, placeholders in place."""

    def __init__(self, urls: dict[str, str], bindings: Bindings, cp: ControlPlane,
                 plugin_dir: pathlib.Path) -> None:
        self.urls = urls
        self.plugin_dir = plugin_dir  # the plain server's (development) plugin folder
        self.bindings = bindings
        self.scrub = Scrubber(bindings)
        self.scrub.extra[cp.server] = placeholder("server")
        self.cp = cp
        self.steps: list[dict[str, Any]] = []
        self.held: contextlib.ExitStack = contextlib.ExitStack()
        self.http: aiohttp.ClientSession | None = None
        self.warnings: list[str] = []

    def _make(self, kind: str) -> str:
        if kind != "port":
            raise KeyError(f"the recorder cannot make a {kind}")
        with held_port() as port:  # free on both loopback addresses right now
            return str(port)

    async def send(self, name: str, method: str, path: str, *, query: str = "",
                   headers: tuple[tuple[str, str], ...] = (), json: Any = None, body: str | None = None,
                   server: str = "plain", until: Callable[[dict[str, Any]], bool] | None = None,
                   within: float = 20.0, unordered: bool = False, note: str = "") -> dict[str, Any]:
        """Send one request (placeholders filled), record it and its scrubbed answer; with ``until``, repeat
        it every 0.2 s until the scrubbed answer satisfies it (at most ``within`` seconds)."""
        assert all(step.get("name") != name for step in self.steps), f"two exchanges named {name}"
        assert self.http is not None
        request: dict[str, Any] = {"method": method, "path": path, "query": query,
                                   "headers": [list(h) for h in headers]}
        if json is not None:
            request["json"] = json
        elif body is not None:
            request["body"] = body
        data = request_body(request, self.bindings, make=self._make)
        url = self.urls[server] + self.bindings.fill(path, make=self._make)
        if query:
            url += "?" + self.bindings.fill(query, make=self._make)
        sent = CIMultiDict((k, self.bindings.fill(v, make=self._make)) for k, v in headers)
        deadline = time.monotonic() + within
        while True:
            async with self.http.request(method, url, data=data, headers=sent, allow_redirects=False) as response:
                raw = answer_of(response.status, response.headers.get("Content-Type"),
                                response.headers.getall("Set-Cookie", []), response.headers.get("X-Reload"),
                                await response.read())
            answer = self.scrub.answer(raw)
            if until is None or until(answer):
                break
            if time.monotonic() > deadline:
                self.warnings.append(f"{name}: the condition did not hold within {within:g} s")
                break
            await asyncio.sleep(0.2)
        if unordered and isinstance(answer.get("json"), list):  # a Go map's order: sorted, so recordings diff well
            answer["json"] = sorted(answer["json"], key=lambda e: (str(e.get("cluster")), str(e.get("id"))))
        step: dict[str, Any] = {"name": name, "server": server}
        if note:
            step["note"] = note
        if until is not None:
            step["poll"] = {"within": within}
        if unordered:
            step["unordered"] = True
        step.update(request=request, answer=answer)
        self.steps.append(step)
        print(f"{answer['status']} {name}", flush=True)
        return answer

    async def hold_port(self, port: str, hosts: tuple[str, ...], *, note: str) -> None:
        """Hold a port as another process would, on these loopback addresses, until the recording ends."""
        if port not in self.bindings.values:
            self.bindings.values[port] = str(self.held.enter_context(held_port(0, hosts=hosts)))
        else:
            self.held.enter_context(held_port(int(self.bindings.values[port]), hosts=hosts))
        self.steps.append({"action": "hold_port", "port": port, "hosts": list(hosts), "note": note})

    async def delete_pod(self, pod: str, *, note: str) -> None:
        """Delete a pod (the ReplicaSet makes another); the forwards to it are the backend's business."""
        self.cp.kubectl("-n", script.NS, "delete", "pod", self.bindings.fill(pod), "--wait=false")
        self.steps.append({"action": "delete_pod", "namespace": script.NS, "pod": pod, "note": note})


    async def add_plugin(self, name: str, *, note: str) -> None:
        """Move a plugin folder (package.json, main.js) into the plain server's plugin folder: one event."""
        staging = self.plugin_dir.parent / f".staging-{name}"
        staging.mkdir()
        (staging / "package.json").write_text(json.dumps({"name": name, "version": "0.1.0"}))
        (staging / "main.js").write_text("")
        staging.rename(self.plugin_dir / name)
        self.steps.append({"action": "add_plugin", "plugin": name, "note": note})


# -- the world ----------------------------------------------------------------------------------------------



def _up(url: str, process: Process) -> bool:
    """Whether the server answers (or has exited: no point waiting)."""
    return answers(url) or not process.alive()


def seed(cp: ControlPlane) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Create the script's objects; return the tokens by placeholder, and the Deployment's pods once Ready."""
    cp.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": script.OBJECTS}))
    given = {key: cp.kubectl("-n", script.NS, "create", "token", sa, "--duration=2h").stdout.strip()
             for key, (sa, _) in script.TOKENS.items()}
    cp.kubectl("-n", script.NS, "delete", "serviceaccount", "revoked")  # its token is refused from now on

    def pods() -> list[dict[str, Any]]:
        listed = json.loads(cp.kubectl("-n", script.NS, "get", "pods", "-l", "app=web", "-o", "json").stdout)
        return sorted(listed["items"], key=lambda p: p["metadata"]["name"])

    def ready() -> bool:
        found = pods()
        return len(found) == 2 and all(
            any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
            for p in found)

    wait_for(ready, within=60, what="the Deployment's two pods Ready", log=lambda: cp.log("kwok"))
    recorded = []
    for key, pod in zip((script.POD_A, script.POD_B), pods(), strict=True):
        given[key] = pod["metadata"]["name"]
        labels = {k: v for k, v in pod["metadata"]["labels"].items() if k != "pod-template-hash"}
        recorded.append({"name": key, "namespace": script.NS, "labels": labels,
                         "ports": pod["spec"]["containers"][0]["ports"]})
    return given, recorded


def kubeconfig(cp: ControlPlane, contexts: dict[str, str]) -> dict[str, Any]:
    """A kubeconfig with one context per name, each on the control plane's API server with that token."""
    ca = base64.b64encode(cp.ca_file.read_bytes()).decode()
    return {"apiVersion": "v1", "kind": "Config", "current-context": next(iter(contexts)),
            "clusters": [{"name": "apiserver", "cluster": {"server": cp.server, "certificate-authority-data": ca}}],
            "users": [{"name": f"user-{name}", "user": {"token": token}} for name, token in contexts.items()],
            "contexts": [{"name": name, "context": {"cluster": "apiserver", "user": f"user-{name}"}}
                         for name in contexts]}


def start_servers(binary: pathlib.Path, workdir: pathlib.Path, cp: ControlPlane) -> dict[str, Process]:
    """The binary twice on 127.0.0.1, each with a HOME of its own: plain, and with a backend token."""
    path = workdir / "headlamp.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig(cp, {script.CLUSTER: cp.admin_token, script.OTHER: cp.admin_token})))
    processes = {}
    for (name, token), port in zip((("plain", None), ("guarded", script.BACKEND_TOKEN)), free_ports(2), strict=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADLAMP_", "KUBECONFIG"))}
        env["HOME"] = str(workdir / f"{name}-home")
        env["XDG_CONFIG_HOME"] = str(workdir / f"{name}-home" / ".config")  # its plugin folders are under it
        pathlib.Path(env["HOME"]).mkdir(exist_ok=True)
        if token:
            env["HEADLAMP_BACKEND_TOKEN"] = token
        command = [str(binary), "-kubeconfig", str(path), "-listen-addr", "127.0.0.1", "-port", str(port),
                   "-enable-dynamic-clusters"]
        process = processes[name] = Process(name=name, command=command, env=env, log_path=workdir / f"{name}.log")
        process.start()
        url = f"http://127.0.0.1:{port}/clusters/{script.CLUSTER}/version"
        wait_for(functools.partial(_up, url, process), within=30, what=f"headlamp-server ({name}) answering",
                 log=process.log)
        if not process.alive():
            raise RuntimeError(f"headlamp-server ({name}) exited:\n{process.log()[-3000:]}")
    return processes


async def record(binary: pathlib.Path, workdir: pathlib.Path, release: str) -> dict[str, Any]:
    """Run the whole recording; return the transcript (without its known differences)."""
    cp = ControlPlane(workdir / "control-plane")
    processes: dict[str, Process] = {}
    try:
        cp.start()
        given, pods = seed(cp)
        dyn = kubeconfig(cp, {"dyn": given[script.EDITOR]})
        given[script.DYN] = base64.b64encode(yaml.safe_dump(dyn).encode()).decode()
        processes = start_servers(binary, workdir, cp)
        urls = {name: f"http://127.0.0.1:{p.command[p.command.index('-port') + 1]}" for name, p in processes.items()}
        plugin_dir = workdir / "plain-home" / ".config" / "Headlamp" / "plugins"  # headlamp-server makes it
        recorder = Recorder(urls, Bindings(given), cp, plugin_dir)
        recorder.scrub.extra[str(workdir)] = placeholder("workdir")  # in /config's cluster metadata
        with recorder.held:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as recorder.http:
                await script.script(recorder)
        for warning in recorder.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        _check_scrubbed(json.dumps(recorder.steps), [v for k, v in given.items() if "token" in k])
    finally:
        for process in processes.values():
            process.stop()
        cp.stop()
    version = headlamp_server_version(binary)
    return {
        "format": FORMAT,
        "recorded": {
            "date": datetime.date.today().isoformat(), "release": release, "headlamp_server": version,
            "version_note": (f"`headlamp-server -version` printed {version!r}: a binary built by hand from "
                             "Headlamp's source carries no version stamp (the release's Makefile passes it to the "
                             f"linker); the person recording said it was built from {release} (--release)"
                             if "unknown" in version else ""),
            "flags": "-kubeconfig FILE -listen-addr 127.0.0.1 -port N -enable-dynamic-clusters; HOME of its own; "
                     "the guarded server with HEADLAMP_BACKEND_TOKEN",
            "peers": dict(sorted(cp.versions.items())), "recorder": "python -m tests.harness.realpeers.record",
            "warnings": recorder.warnings,
        },
        "seed": {
            "namespace": script.NS, "clusters": [script.CLUSTER, script.OTHER], "backend_token": script.BACKEND_TOKEN,
            "objects": script.OBJECTS, "pods": pods,
            "tokens": {key: {"user": f"system:serviceaccount:{script.NS}:{sa}", "access": access}
                       for key, (sa, access) in script.TOKENS.items()},
            "kubeconfigs": {script.DYN: {"context": "dyn", "cluster": script.CLUSTER, "token": script.EDITOR}},
        },
        "steps": recorder.steps,
    }


def _check_scrubbed(text: str, secrets: list[str]) -> None:
    leaked = [s[:12] + "..." for s in secrets if s and s in text]
    if leaked or "eyJ" in text:
        raise RuntimeError(f"the transcript would hold a token ({leaked or 'a JWT'}): not written")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.harness.realpeers.record", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--headlamp-server", type=pathlib.Path, default=os.environ.get("HEADLAMP_SERVER") or None,
                        help="the headlamp-server binary (default: $HEADLAMP_SERVER)")
    parser.add_argument("--release", default="v0.45.0", help="the Headlamp release it is (default: v0.45.0)")
    parser.add_argument("--out", type=pathlib.Path, help="where to write (default: tests/kit/headlamp/transcripts/"
                                                         "headlamp-{release}.json)")
    parser.add_argument("--workdir", type=pathlib.Path, help="work folder (default: a temporary one, removed after)")
    args = parser.parse_args(argv)
    if args.headlamp_server is None:
        parser.error("--headlamp-server (or HEADLAMP_SERVER) is required")
    binary = args.headlamp_server.expanduser().resolve()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        parser.error(f"{binary}: not an executable file")
    out = args.out or TRANSCRIPTS / f"headlamp-{args.release}.json"
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="record-")))
        transcript = asyncio.run(record(binary, workdir.resolve(), args.release))
    previous = json.loads(out.read_text()) if out.exists() else {}
    transcript["known_differences"] = previous.get("known_differences", [])
    transcript = {k: transcript[k] for k in ("format", "recorded", "seed", "known_differences", "steps")}
    text = json.dumps(transcript, indent=1, ensure_ascii=False) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    exchanges = sum(1 for step in transcript["steps"] if "action" not in step)
    print(f"{exchanges} exchanges written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
