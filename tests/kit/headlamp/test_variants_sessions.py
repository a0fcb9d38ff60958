"""The session variants of the emulator: upstream #7020 (set-token rate limit), #7352 and #6801 (cookie names of long
cluster names), and ``--contract`` on its command line (docs/headlamp-backend.md#upstream-changes-in-flight)."""
import asyncio
import contextlib
import hashlib
import pathlib
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
import yarl

from headlamp_operator_testing.headlamp import HeadlampEmulator
from headlamp_operator_testing.headlamp.ratelimit import SetTokenLimiter, TokenBucket
from headlamp_operator_testing.headlamp.sessions import fnv1a_32, sanitize
from tests.kit.headlamp.wire import FORWARD, assert_go_error, call, cookies_of

LONG = "arn:aws:eks:eu-west-1:123456789012:cluster." + "platform-production-" * 3  # 103 characters, 97 kept
KEPT = "arnawsekseu-west-1123456789012cluster" + "platform-production-" * 3


def kept_cookies(response: aiohttp.ClientResponse) -> dict[str, str]:
    """The cookies a response set (not those it cleared: #7352 clears chunks up to 9 with every set-token)."""
    return {name: value for name, value in cookies_of(response).items() if value}


# -- #7020: set-token limited to 5 a second per address, burst 10 ------------------------------------------

def test_the_token_bucket_takes_a_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=5, burst=10)
    assert [bucket.allow(100.0) for _ in range(11)] == [True] * 10 + [False]
    assert bucket.allow(100.1) is False  # half a token
    assert bucket.allow(100.2) is True  # one token after 1/5 s
    assert [bucket.allow(200.0) for _ in range(11)] == [True] * 10 + [False]  # never more than the burst


def test_each_client_address_has_its_own_bucket() -> None:
    limiter = SetTokenLimiter(rate=5, burst=2)
    assert [limiter.allow("10.0.0.1") for _ in range(3)] + [limiter.allow("10.0.0.2")] == [True, True, False, True]
    assert limiter.refused == 1


async def test_pr7020_answers_429_past_a_burst_of_10(http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator(contract="pr7020", set_token_rate=0.001) as hl:  # no refill during the test
        hl.add_cluster("prod")
        answers = [await call(http, hl, "POST", "clusters/prod/set-token", json={"token": f"t{i}"})
                   for i in range(12)]
        assert [response.status for response, _ in answers] == [200] * 10 + [429] * 2
        response, body = answers[-1]
        assert_go_error(response, body, 429, "Too many requests")
        assert "Set-Cookie" not in response.headers and "Retry-After" not in response.headers
        response, _ = await call(http, hl, "POST", "clusters/prod/set-token", data=b"not json")
        assert response.status == 429  # the limit comes before the body is read
        response, _ = await call(http, hl, "POST", "clusters/prod/portforward", json=FORWARD)
        assert response.status != 429  # only set-token is limited
        assert hl.set_token_limiter.refused == 3
        await hl.restart()  # the limiters live in the process
        response, _ = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": "t"})
        assert response.status == 200


async def test_v045_does_not_limit_set_token(http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator() as hl:
        answers = [await call(http, hl, "POST", "clusters/prod/set-token", json={"token": "t"}) for _ in range(30)]
        assert {response.status for response, _ in answers} == {200}


# -- #7352 and #6801: cookie names of clusters longer than 50 characters ------------------------------------

def test_fnv1a_32_matches_the_published_test_vectors() -> None:
    assert [fnv1a_32(data) for data in (b"", b"a", b"foobar")] == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]


def test_long_cluster_names_per_scheme() -> None:
    assert sanitize(LONG) == KEPT[:50]
    assert sanitize(LONG, "pr7352") == f"{KEPT[:41]}-{fnv1a_32(LONG.encode()):08x}"  # hashed as sent, unsanitized
    assert sanitize(LONG, "pr6801") == f"{KEPT[:17]}-{hashlib.sha256(LONG.encode()).hexdigest()[:32]}"
    assert {len(sanitize(LONG, scheme)) for scheme in ("cut", "pr7352", "pr6801")} == {50}
    fifty = "c" * 50
    assert {sanitize(fifty, scheme) for scheme in ("cut", "pr7352", "pr6801")} == {fifty}


@pytest.mark.parametrize("contract", ["v0.45.0", "pr7352", "pr6801"])
async def test_two_long_names_sharing_50_characters_share_cookie_names_only_on_v045(
        http: aiohttp.ClientSession, contract: str) -> None:
    async with HeadlampEmulator(contract=contract) as hl:
        names = set()
        for cluster in (LONG + "-eu", LONG + "-us"):
            response, _ = await call(http, hl, "POST", f"clusters/{cluster}/set-token", json={"token": "t"})
            names |= set(kept_cookies(response))
        assert len(names) == (1 if contract == "v0.45.0" else 2)


@pytest.mark.parametrize("contract", ["pr7352", "pr6801"])
async def test_the_start_reads_the_token_from_the_new_names_only(http: aiohttp.ClientSession, contract: str) -> None:
    async with HeadlampEmulator(contract=contract) as hl:
        hl.add_cluster(LONG).add_pod("default", "web-0")
        path = yarl.URL.build(path=f"/clusters/{LONG}/portforward").raw_path[1:]
        response, _ = await call(http, hl, "POST", f"clusters/{LONG}/set-token", json={"token": "tkn"})
        cookies = kept_cookies(response)
        assert list(cookies) == [f"headlamp-auth-{sanitize(LONG, contract)}.0"]
        await call(http, hl, "POST", path, json={**FORWARD, "id": "new-names"}, cookies=cookies)
        await call(http, hl, "POST", path, json={**FORWARD, "id": "cut-name"},
                   cookies={f"headlamp-auth-{KEPT[:50]}.0": "tkn"})
        assert (hl.forward("new-names").token, hl.forward("cut-name").token) == ("tkn", None)


async def test_pr7352_sets_its_chunks_then_clears_up_to_9_and_a_logout_clears_0_to_9(
        http: aiohttp.ClientSession) -> None:
    async with HeadlampEmulator(contract="pr7352", session_ttl=60) as hl:
        response, _ = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": "t" * 5000},
                                 cookies={"headlamp-auth-prod.0": "old"})
        headers = [h.split("; ")[:3] for h in response.headers.getall("Set-Cookie")]
        assert [h[0].split("=")[0] for h in headers] == [f"headlamp-auth-prod.{i}" for i in range(10)]
        assert [h[2] for h in headers] == ["Max-Age=60"] * 2 + ["Max-Age=0"] * 8  # no clearing first
        response, _ = await call(http, hl, "POST", "clusters/prod/set-token", json={"token": None})
        assert response.headers.getall("Set-Cookie") == [  # with no cookie sent at all
            f"headlamp-auth-prod.{i}=; Path=/clusters/prod; Max-Age=0; HttpOnly; SameSite=Strict" for i in range(10)]


# -- the command line -------------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def command_line(tmp_path: pathlib.Path, *flags: str) -> AsyncIterator[tuple[list[str], yarl.URL]]:
    """``python -m headlamp_operator_testing.headlamp`` with these flags, until it says where it listens."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]"
                          "\nusers: [{name: u, user: {}}]\ncontexts: [{name: prod, context: {cluster: c, user: u}}]\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "headlamp_operator_testing.headlamp", "-kubeconfig", str(kubeconfig), "-port", "0",
        *flags, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(30):
            while not lines or not lines[-1].startswith("listening on "):
                line = (await process.stdout.readline()).decode()
                assert line, f"exited: {(await process.communicate())[1].decode()}"
                lines.append(line.strip())
        yield lines, yarl.URL(lines[-1].removeprefix("listening on "))
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await process.wait()


async def test_the_command_line_takes_repeated_and_comma_separated_contracts(
        tmp_path: pathlib.Path, http: aiohttp.ClientSession) -> None:
    async with command_line(tmp_path, "--contract", "pr7020", "-contract", "pr7352,pr6153") as (lines, url):
        assert lines[0] == "contract: v0.45.0+pr6153+pr7020+pr7352"
        async with http.post(url / "clusters" / LONG / "set-token", json={"token": "t"}) as response:
            assert list(kept_cookies(response)) == [f"headlamp-auth-{sanitize(LONG, 'pr7352')}.0"]
        statuses = []
        for _ in range(11):
            async with http.post(url / "clusters/prod/set-token", json={"token": "t"}) as response:
                statuses.append(response.status)
        assert statuses.count(429) >= 1  # 12 set-tokens in well under a second: past the burst of 10
        async with http.delete(url / "clusters/prod/portforward", json={"id": "x", "stopOrDelete": True}) as response:
            assert (response.status, await response.text()) == (
                400, 'invalid request, action must be "stop" or "delete"\n')


async def test_the_command_line_defaults_to_v045_and_refuses_an_unknown_contract(tmp_path: pathlib.Path) -> None:
    async with command_line(tmp_path) as (lines, _):
        assert lines[0] == "contract: v0.45.0"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "headlamp_operator_testing.headlamp", "-kubeconfig", "x", "--contract", "pr7273,pr1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "--contract: unknown contract pr1: one or more of v0.45.0, pr6153" in stderr.decode()
