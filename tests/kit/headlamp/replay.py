"""Replay a recorded transcript of a real headlamp-server against the Headlamp emulator.

The emulator runs in front of the in-memory Kubernetes API (:class:`KubeCluster`), seeded with the
transcript's objects under the same names and field manager (``kubectl create``'s, as the recorder made
them): its pods Running and Ready as kwok's were, its tokens allowed, without RBAC or refused as the recorded
ServiceAccounts' were. Every step runs in the recorded order:
actions are done to the emulator's world, requests are sent with their placeholders filled, and each
answer is compared with the recorded one (:func:`tests.headlamp.transcript.compare`). A polled exchange is
repeated until it matches, as the recorder repeated it until the server's state settled.

``python -m tests.kit.headlamp.replay [TRANSCRIPT]`` prints every difference and which known difference
covers it; ``tests/kit/headlamp/test_transcript.py`` fails on any that none covers.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import pathlib
import sys
import time
import uuid
from typing import Any

import aiohttp
import yaml
from multidict import CIMultiDict

from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.process import held_port
from tests.kit.headlamp.transcript import Bindings, Difference, answer_of, compare, covering, request_body

TRANSCRIPT = pathlib.Path(__file__).parent / "transcripts" / "headlamp-v0.45.0.json"
POLL_SECONDS = 3.0  # the emulator settles at once: a polled answer that differs for this long differs
SERVED = {"Namespace", "Deployment", "Service", "ConfigMap", "Secret", "Pod"}  # what the in-memory API keeps
SEED_MANAGER = "kubectl-create"  # the field manager of the recorder's `kubectl create`


@dataclasses.dataclass
class Outcome:
    """One replayed exchange: its name and every difference found (empty: the same answer)."""

    name: str
    differences: list[Difference]


def given_bindings(seed: dict[str, Any]) -> Bindings:
    """The replay's own values for the placeholders of the file's ``seed``: tokens, pods, the dynamic kubeconfig."""
    bindings = Bindings()
    for key, who in seed["tokens"].items():
        bindings.values[key] = f"replay-token-{who['user'].rsplit(':', 1)[-1]}"
    for pod in seed["pods"]:
        bindings.values[pod["name"]] = pod["name"].strip("{}").split(":", 1)[1]
    for key, spec in seed["kubeconfigs"].items():
        config = {"apiVersion": "v1", "kind": "Config", "current-context": spec["context"],
                  "clusters": [{"name": spec["cluster"], "cluster": {"server": "https://replay.invalid:6443"}}],
                  "users": [{"name": "user", "user": {"token": bindings.fill(spec["token"])}}],
                  "contexts": [{"name": spec["context"], "context": {"cluster": spec["cluster"], "user": "user"}}]}
        bindings.values[key] = base64.b64encode(yaml.safe_dump(config).encode()).decode()
    return bindings


def seed_emulator(hl: HeadlampEmulator, seed: dict[str, Any], bindings: Bindings) -> None:
    """Every cluster of the recorded backend, each holding the ``seed``'s objects (one API server behind all)."""
    for name in seed["clusters"]:
        cluster = hl.add_cluster(name)
        for obj in seed["objects"]:
            if obj["kind"] in SERVED:
                cluster.put(obj, manager=SEED_MANAGER)
        for pod in seed["pods"]:
            cluster.add_pod(pod["namespace"], bindings.fill(pod["name"]), labels=pod["labels"], ports=pod["ports"])
        for key, who in seed["tokens"].items():
            token = bindings.fill(key)
            cluster.name_token(token, who["user"])
            if who["access"] == "none":
                cluster.forbid_token(token)
            elif who["access"] == "revoked":
                cluster.refuse_token(token)


def _make(kind: str) -> str:
    """A value of the replay's own for a placeholder first met in a request."""
    if kind == "port":
        with held_port() as port:
            return str(port)
    if kind == "id":
        return str(uuid.uuid4())
    raise KeyError(f"the replay cannot make a {kind}")


async def _exchange(http: aiohttp.ClientSession, url: str, step: dict[str, Any], bindings: Bindings) -> dict[str, Any]:
    request = step["request"]
    data = request_body(request, bindings, make=_make)
    target = url + bindings.fill(request["path"], make=_make)
    if request["query"]:
        target += "?" + bindings.fill(request["query"], make=_make)
    headers = CIMultiDict((name, bindings.fill(value, make=_make)) for name, value in request["headers"])
    async with http.request(request["method"], target, data=data, headers=headers, allow_redirects=False) as answer:
        return answer_of(answer.status, answer.headers.get("Content-Type"), answer.headers.getall("Set-Cookie", []),
                         answer.headers.get("X-Reload"), await answer.read())


async def replay(transcript: dict[str, Any]) -> list[Outcome]:
    """Replay every step; return each exchange's differences, in order."""
    seed = transcript["seed"]
    bindings = given_bindings(seed)
    outcomes: list[Outcome] = []
    async with contextlib.AsyncExitStack() as stack:
        servers = {"plain": await stack.enter_async_context(HeadlampEmulator(ready_timeout=30.0)),
                   "guarded": await stack.enter_async_context(
                       HeadlampEmulator(ready_timeout=30.0, backend_token=seed["backend_token"]))}
        for hl in servers.values():
            seed_emulator(hl, seed, bindings)
        held = stack.enter_context(contextlib.ExitStack())
        http = await stack.enter_async_context(aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()))
        for step in transcript["steps"]:
            if step.get("action") == "hold_port":
                port = int(bindings.fill(step["port"], make=_make))
                held.enter_context(held_port(port, hosts=tuple(step["hosts"])))
            elif step.get("action") == "delete_pod":
                servers["plain"].clusters[seed["clusters"][0]].kill_pod(step["namespace"], bindings.fill(step["pod"]),
                                                                         delete=True)
            elif step.get("action") == "add_plugin":
                servers["plain"].plugins.add(step["plugin"])
            elif "action" in step:
                raise ValueError(f"unknown action {step['action']!r}")
            else:
                outcomes.append(await _replay_exchange(http, str(servers[step["server"]].url), step, bindings))
    return outcomes


async def _replay_exchange(http: aiohttp.ClientSession, url: str, step: dict[str, Any],
                           bindings: Bindings) -> Outcome:
    """One exchange; a polled one is repeated (every 0.1 s, for at most POLL_SECONDS) until it matches."""
    deadline = time.monotonic() + (POLL_SECONDS if "poll" in step else 0)
    while True:
        attempt = Bindings(bindings.values)
        answer = await _exchange(http, url, step, attempt)
        differences = compare(step["answer"], answer, attempt, unordered=step.get("unordered", False))
        if not differences or time.monotonic() >= deadline:
            bindings.values.update(attempt.values)
            return Outcome(step["name"], differences)
        await asyncio.sleep(0.1)


def report(transcript: dict[str, Any], outcomes: list[Outcome]) -> tuple[list[str], list[str], dict[str, int]]:
    """(differences no known difference covers, known differences that covered nothing, counts)."""
    known = transcript["known_differences"]
    used: set[int] = set()
    uncovered: list[str] = []
    explained = 0
    for outcome in outcomes:
        for difference in outcome.differences:
            index = covering(known, outcome.name, difference)
            if index is None:
                uncovered.append(f"{outcome.name}: {difference}")
            else:
                used.add(index)
        explained += bool(outcome.differences) and all(covering(known, outcome.name, d) is not None
                                                       for d in outcome.differences)
    unused = [entry["why"] for index, entry in enumerate(known) if index not in used]
    counts = {"exchanges": len(outcomes), "equal": sum(not o.differences for o in outcomes), "known": explained}
    return uncovered, unused, counts


def main(argv: list[str]) -> int:
    path = pathlib.Path(argv[0]) if argv else TRANSCRIPT
    transcript = json.loads(path.read_text())
    outcomes = asyncio.run(replay(transcript))
    for outcome in outcomes:
        for difference in outcome.differences:
            index = covering(transcript["known_differences"], outcome.name, difference)
            print(f"{outcome.name}: {difference}" + (f"  [known #{index}]" if index is not None else ""))
    uncovered, unused, counts = report(transcript, outcomes)
    print(f"{counts['equal']} of {counts['exchanges']} answers equal; {counts['known']} differ only in known ways; "
          f"{len(uncovered)} unexplained differences; {len(unused)} known differences unused")
    return 1 if uncovered or unused else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
