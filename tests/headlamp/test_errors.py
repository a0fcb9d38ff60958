"""408, 502, error messages from plain text and JSON, Retry-After, redaction and size limits."""
from __future__ import annotations

import pathlib
import ssl
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web

from headlamp_operator import certificates
from headlamp_operator.headlamp import errors, portforward, proxy, resources
from headlamp_operator.headlamp.backend import Backend
from headlamp_operator.structs import Credentials
from headlamp_operator_testing.headlamp import Fault, HeadlampEmulator

from .conftest import KUBECONFIG, TOKEN_A, b64


async def test_no_answer_in_time_is_408(hl: HeadlampEmulator, make_backend: Callable[..., Backend]) -> None:
    hl.delay = 2.0
    async with make_backend(request_timeout=0.2) as backend:
        with pytest.raises(errors.RequestTimeoutError) as err:
            await proxy.cluster_request(backend, "/api/v1", cluster="prod")
    assert err.value.status == 408
    assert err.value.message == "Request timed-out"
    assert err.value.cluster == "prod"
    assert err.value.transient


async def test_backend_not_listening_is_502_unreachable(hl: HeadlampEmulator, backend: Backend) -> None:
    await hl.stop_listening()
    with pytest.raises(errors.UnreachableError) as err:
        await portforward.list_port_forwards(backend, "prod")
    where = f"{hl.url.host}:{hl.url.port}"
    assert (err.value.status, err.value.message, err.value.cluster) == (
        502, f"Unreachable - connection refused by {where}", "prod")
    assert isinstance(err.value.__cause__, aiohttp.ClientConnectorError)  # aiohttp's own, kept as the cause
    assert err.value.transient
    await hl.start_listening()
    assert await portforward.list_port_forwards(backend, "prod") == []


@pytest.fixture()
async def tls_server(tmp_path: pathlib.Path) -> AsyncIterator[str]:
    """An HTTPS server whose certificate no one trusts (a CA of its own), on loopback: its base URL."""
    bundle = certificates.generate(tmp_path, ["127.0.0.1"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(bundle.certfile, bundle.pkeyfile)
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}"
    await runner.cleanup()


async def test_unreachable_says_whether_dns_tls_or_the_certificate_failed(
        hl: HeadlampEmulator, tls_server: str, make_backend: Callable[..., Backend]) -> None:
    plain = f"https://{hl.url.host}:{hl.url.port}"  # TLS spoken to a plain-HTTP server
    for url, message, cause in (
            ("http://headlamp.invalid:4466", "Unreachable - DNS: the name headlamp.invalid does not resolve",
             aiohttp.ClientConnectorDNSError),
            (plain, f"Unreachable - TLS: the handshake with {plain.removeprefix('https://')} failed",
             aiohttp.ClientSSLError),
            (tls_server, f"Unreachable - TLS: the certificate of {tls_server.removeprefix('https://')} is not trusted",
             aiohttp.ClientConnectorCertificateError)):
        async with make_backend(url=url) as backend:
            with pytest.raises(errors.UnreachableError) as err:
                await portforward.list_port_forwards(backend, "prod")
        assert err.value.message.startswith(message), (url, err.value.message)
        assert isinstance(err.value.__cause__, cause), (url, repr(err.value.__cause__))
        assert err.value.status == 502 and err.value.transient


async def test_kubernetes_status_json_message(backend: Backend) -> None:
    with pytest.raises(errors.NotFoundError) as err:
        await proxy.cluster_request(backend, "/apis/apps/v1/namespaces/shop/deployments/nope", cluster="prod")
    assert err.value.message.startswith("Not Found - ")
    assert "nope" in err.value.message
    assert "{" not in err.value.message  # the Status message, not the JSON document


async def test_json_string_body_is_the_detail(hl: HeadlampEmulator, backend: Backend) -> None:
    hl.fail_next(1, status=400, body='"a JSON string"', content_type="application/json")
    with pytest.raises(errors.BadRequestError) as err:
        await proxy.cluster_request(backend, "/api/v1", cluster="prod")
    assert err.value.message == "Bad Request - a JSON string"


async def test_long_details_are_cut_at_512(hl: HeadlampEmulator, backend: Backend) -> None:
    hl.fail_next(1, status=500, body="x" * 5000)
    with pytest.raises(errors.ServerError) as err:
        await portforward.list_port_forwards(backend, "prod")
    detail = err.value.message.removeprefix("Internal Server Error - ")
    assert len(detail) == 512 and detail.endswith("...")


async def test_retry_after_is_read(hl: HeadlampEmulator, backend: Backend) -> None:
    hl.fail_next(1, status=429, body="slow down", retry_after=7)
    with pytest.raises(errors.TooManyRequestsError) as err:
        await portforward.list_port_forwards(backend, "prod")
    assert err.value.retry_after == 7 and err.value.transient
    assert err.value.message == "Too Many Requests - slow down"


@pytest.mark.parametrize("status", [503, 504])
async def test_unavailable_backends_are_transient(hl: HeadlampEmulator, backend: Backend, status: int) -> None:
    hl.fail_next(1, status=status, body="later")
    with pytest.raises(errors.ServerError) as err:
        await portforward.list_port_forwards(backend, "prod")
    assert err.value.status == status and err.value.transient


async def test_secret_values_never_reach_an_error_message(hl: HeadlampEmulator, backend: Backend) -> None:
    kubeconfig = Credentials(token=TOKEN_A, kubeconfig=KUBECONFIG, user_id="u1")  # type: ignore[arg-type]
    echo = f"bad token {TOKEN_A} in {b64(KUBECONFIG)} and {KUBECONFIG}"
    hl.fail_next(1, status=500, body=echo)
    with pytest.raises(errors.ServerError) as err:
        await proxy.cluster_request(backend, "/api/v1", cluster="prod", credentials=kubeconfig)
    text = str(err.value) + repr(err.value)
    assert TOKEN_A not in text
    assert b64(KUBECONFIG) not in text
    assert "kubeconfig-user-token" not in text
    assert "***" in text


async def test_backend_token_is_redacted_too(make_backend: Callable[..., Backend], hl: HeadlampEmulator) -> None:
    from headlamp_operator.structs import Secret
    hl.fail_next(1, status=500, body="rejected backend-token-value-123")
    async with make_backend(backend_token=Secret("backend-token-value-123")) as backend:
        with pytest.raises(errors.ServerError) as err:
            await portforward.list_port_forwards(backend, "prod")
    assert "backend-token-value-123" not in str(err.value)


async def test_non_json_success_answer_is_a_clear_error(hl: HeadlampEmulator, backend: Backend) -> None:
    hl.fail_next(1, status=200, body=b"\xff\xfe not json", content_type="application/json")
    with pytest.raises(errors.InvalidResponseError) as err:
        await portforward.list_port_forwards(backend, "prod")
    assert "not JSON" in err.value.message


async def test_oversized_answer_is_refused(hl: HeadlampEmulator, make_backend: Callable[..., Backend]) -> None:
    hl.fault = Fault(status=200, body=b"[" + b" " * 3_000_000 + b"]", content_type="application/json")
    async with make_backend(max_body_size=1_000_000) as backend:
        with pytest.raises(errors.InvalidResponseError) as err:
            await portforward.list_port_forwards(backend, "prod")
    assert "larger than 1000000 bytes" in err.value.message


async def test_discovery_404_names_the_kind(backend: Backend) -> None:
    with pytest.raises(errors.NotFoundError) as err:
        await resources.discover(backend, "prod", api_version="apps/v1", kind="Nope")
    assert "Nope" in err.value.message


@pytest.mark.parametrize(("status", "body", "expected", "transient"), [
    (409, "portforward with this ID is already running", errors.ForwardAlreadyRunningError, False),
    (409, "portforward with this ID is already starting", errors.ForwardStartingError, True),
    (500, "timeout waiting for portforward to be ready", errors.ForwardNotReadyError, True),
    (500, "portforward stopped before becoming ready", errors.ForwardNotReadyError, True),
    (500, "portforward failed, stderr: error: lost connection to pod", errors.ForwardNotReadyError, True),
    (500, "portforward failed: nil error received", errors.ForwardNotReadyError, True),
    (500, "unable to listen on any of the requested ports: [{18080 3000}]", errors.LocalPortInUseError, False),
    (500, "permission check failed: access denied: pods/portforward", errors.PermissionCheckError, False),
    (500, "failed to get context: key not found: prod-eu", errors.UnknownClusterError, False),
    (500, "key not found", errors.UnknownClusterError, False),  # what v0.45.0 answers for an unknown cluster
    (500, 'error upgrading connection: unable to upgrade connection: pods "echo-0" not found',
     errors.PodNotFoundError, False),
    (500, "permission check failed: failed to check permissions: Unauthorized", errors.SessionUnauthorizedError,
     False),
    (500, "permission check failed: access denied: insufficient permissions", errors.PermissionCheckError, False),
    (500, "can't find any available port", errors.ServerError, False),
])
def test_port_forward_start_errors_are_classified_once(status: int, body: str, expected: type[errors.ApiError],
                                                       transient: bool) -> None:
    raw = errors.from_status(status, "Reason", body.encode() + b"\n", headers={}, secrets=(), cluster="prod")
    classified = errors.classify_start_error(raw)
    assert type(classified) is expected
    assert classified.transient is transient
    assert (classified.status, classified.message, classified.cluster) == (raw.status, raw.message, "prod")


def test_a_404_is_read_by_who_answered_it() -> None:
    """v0.45.0's ``key not found`` is an unknown cluster; a plain ``404 page not found`` is not known to be
    (the API server and Headlamp's router answer it too: :mod:`fetch` finds out); a Status JSON is the object's."""
    page = errors.from_status(404, "Not Found", b"404 page not found\n", headers={}, secrets=(), cluster="x")
    unknown = errors.from_status(404, "Not Found", b"key not found\n", headers={}, secrets=(), cluster="x")
    kube = errors.from_status(404, "Not Found", b'{"kind":"Status","message":"deployments.apps \\"web\\" not found"}',
                              headers={}, secrets=(), cluster="x")
    assert type(page) is errors.PageNotFoundError
    assert type(unknown) is errors.UnknownClusterError
    assert type(kube) is errors.NotFoundError


def test_the_error_tree_drawn_in_the_module_docstring_is_the_tree_of_the_classes() -> None:
    """Every error class is drawn once, under its base class (httpx draws its tree so in _exceptions.py)."""
    import inspect
    import re

    drawn: dict[str, str] = {}  # class -> the class it is drawn under
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*(?:[│ ]\s*)*(?:[├└]── )?)([A-Z]\w+Error|HeadlampError|InvalidArgument)\b", line)
        if not match:
            continue
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        drawn[name] = stack[-1][1] if stack else ""
        stack.append((depth, name))
    classes = {name: cls for name, cls in inspect.getmembers(errors, inspect.isclass)
               if issubclass(cls, errors.HeadlampError)}
    assert set(drawn) == set(classes)
    for name, cls in classes.items():
        bases = [base.__name__ for base in cls.__bases__ if issubclass(base, errors.HeadlampError)]
        assert drawn[name] == (bases[0] if bases else ""), name
