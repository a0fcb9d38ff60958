"""Session cookies and tokens as the real headlamp-server v0.45.0 answered them in its recorded transcript
(tests/kit/headlamp/transcripts/headlamp-v0.45.0.json, ``set-token/*``, ``proxy/cookie-over-bearer*``): clearing
writes ``Max-Age=0`` and only for the chunks a request carried, a cookie held is cleared then set again, and
the cookies ARE the token (no session on the server), which replaces an ``Authorization`` header when proxied."""
import aiohttp
import pytest

from headlamp_operator_testing.headlamp import HeadlampEmulator, KubeCluster
from tests.kit.headlamp.wire import FORWARD, assert_status, call, login, start

SET_TOKEN = "clusters/prod/set-token"
ATTRIBUTES = "Path=/clusters/prod; Max-Age={}; HttpOnly; SameSite=Strict"


async def set_cookies(http: aiohttp.ClientSession, hl: HeadlampEmulator, payload: object,
                      cookies: dict[str, str] | None = None, **kwargs: object) -> list[str]:
    response, body = await call(http, hl, "POST", SET_TOKEN, json=payload, cookies=cookies or {}, **kwargs)
    assert (response.status, body) == (200, b"")
    return response.headers.getall("Set-Cookie", [])


async def test_a_logout_without_a_cookie_clears_nothing(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                        prod: KubeCluster) -> None:
    assert await set_cookies(http, hl, {"token": None}) == []
    assert await set_cookies(http, hl, {"token": ""}) == []


async def test_a_logout_clears_the_chunks_carried_from_0_up_to_the_first_missing(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    carried = {"headlamp-auth-prod.0": "a", "headlamp-auth-prod.1": "b", "headlamp-auth-prod.3": "d"}
    assert await set_cookies(http, hl, {"token": None}, cookies=carried) == [
        f"headlamp-auth-prod.{i}=; " + ATTRIBUTES.format(0) for i in (0, 1)]
    assert await set_cookies(http, hl, {"token": None}, cookies={"headlamp-auth-prod.1": "b"}) == []


async def test_a_cookie_held_is_cleared_then_set_again(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                       prod: KubeCluster) -> None:
    assert await set_cookies(http, hl, {"token": "new"}, cookies={"headlamp-auth-prod.0": "old"}) == [
        "headlamp-auth-prod.0=; " + ATTRIBUTES.format(0), "headlamp-auth-prod.0=new; " + ATTRIBUTES.format(86400)]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:  # the last one wins
        browser.cookie_jar.update_cookies({"headlamp-auth-prod.0": "old"}, hl.url)
        async with browser.post(hl.url / SET_TOKEN, json={"token": "new"}) as response:
            assert response.status == 200
        assert {c.key: c.value for c in browser.cookie_jar} == {"headlamp-auth-prod.0": "new"}


async def test_cookies_are_secure_behind_a_tls_proxy(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                     prod: KubeCluster) -> None:
    assert await set_cookies(http, hl, {"token": "t"}, headers={"X-Forwarded-Proto": "https"}) == [
        "headlamp-auth-prod.0=t; Path=/clusters/prod; Max-Age=86400; HttpOnly; Secure; SameSite=Strict"]


@pytest.mark.parametrize(("payload", "cookies"), [
    (b'{"TOKEN": "t"} trailing', ["headlamp-auth-prod.0=t; " + ATTRIBUTES.format(86400)]),  # as Go's decoder
    (b"null", []),  # a null document is no token: a logout
])
async def test_set_token_reads_its_body_as_go_does(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                   prod: KubeCluster, payload: bytes, cookies: list[str]) -> None:
    response, _ = await call(http, hl, "POST", SET_TOKEN, data=payload)
    assert (response.status, response.headers.getall("Set-Cookie", [])) == (200, cookies)


async def test_a_session_cookie_replaces_the_bearer_header_of_a_proxied_request(
    hl: HeadlampEmulator, http: aiohttp.ClientSession, prod: KubeCluster
) -> None:
    prod.refuse_token("revoked")
    path = "clusters/prod/api/v1/namespaces/default/pods"
    cookies = await login(http, hl, "good")
    response, _ = await call(http, hl, "GET", path, cookies=cookies, headers={"Authorization": "Bearer revoked"})
    assert response.status == 200
    response, _ = await call(http, hl, "GET", path, cookies=await login(http, hl, "revoked"),
                                headers={"Authorization": "Bearer good"})
    assert_status(response, await response.json(), 401, "Unauthorized")
    response, _ = await call(http, hl, "GET", path, headers={"Authorization": "Bearer revoked"})  # no cookie
    assert response.status == 401


async def test_cookies_keep_their_token_after_a_logout_elsewhere(hl: HeadlampEmulator, http: aiohttp.ClientSession,
                                                                 prod: KubeCluster) -> None:
    cookies = await login(http, hl, "t")
    await set_cookies(http, hl, {"token": None}, cookies=cookies)  # another tab logs out
    response, _ = await start(http, hl, json={**FORWARD, "id": "pf-1"}, cookies=cookies)
    assert response.status == 200
    assert [f.token for f in hl.forwards] == ["t"]  # the server keeps no session: the cookie is the token
