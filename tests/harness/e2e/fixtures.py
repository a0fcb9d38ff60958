"""The e2e harness: a real cluster (E2E_KUBECONFIG), a real Headlamp (E2E_HEADLAMP_URL), the operator; for tests
marked ``e2e``.

Without both variables every test marked ``e2e`` is skipped at collection, with the reason, before
any fixture runs: plain ``pytest`` (``make test``) collects the suite and skips it in no time.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.harness.e2e.cluster import Headlamp, Kube, Namespace
from tests.harness.e2e.config import E2EConfig, E2EConfigError, e2e_config


def skip_unless_configured(items: list[pytest.Item]) -> None:
    """Skip every test marked ``e2e``, with the reason, unless the E2E_* variables name a cluster and a Headlamp."""
    try:
        result = e2e_config(os.environ)
    except E2EConfigError:
        return  # the variables are set: the `e2e` fixture fails each test with the message
    if isinstance(result, str):
        skip = pytest.mark.skip(reason=result)
        for item in items:
            if item.get_closest_marker("e2e") is not None:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def e2e() -> E2EConfig:
    """The suite's configuration from the E2E_* variables."""
    try:
        result = e2e_config(os.environ)
    except E2EConfigError as e:
        pytest.fail(f"e2e configuration: {e}", pytrace=False)
    if isinstance(result, str):
        pytest.skip(result)
    return result


@pytest.fixture(scope="session")
def e2e_cluster(e2e: E2EConfig) -> Iterator[Kube]:
    """The official client on E2E_KUBECONFIG; the operator's CRDs must be installed."""
    kube = Kube(e2e)
    try:
        missing = kube.missing_crds()
        if missing:
            pytest.fail(f"the cluster of E2E_KUBECONFIG lacks the CRDs {', '.join(missing)}: "
                        f"kubectl apply -f manifests/crds/ (or make deploy)", pytrace=False)
        yield kube
    finally:
        kube.close()


@pytest.fixture(scope="session")
def operator_hint(e2e: E2EConfig, e2e_cluster: Kube) -> Iterator[str]:
    """The operator under test, running; yields a hint for the failure messages of status waits.

    ``E2E_OPERATOR=deployed``: the one installed in the cluster (``make deploy``) does the work.
    ``E2E_OPERATOR=local``: this work tree's operator runs in a thread of the test process.
    """
    pods = e2e_cluster.running_operator_pods()
    if e2e.operator == "deployed":
        if pods == []:
            yield ("\nhint: E2E_OPERATOR=deployed, but no Running pod labelled app.kubernetes.io/name="
                   "headlamp-operator was found: `make deploy`, or run with E2E_OPERATOR=local")
        else:
            yield f"\nhint: the deployed operator ({', '.join(pods or ['pods not visible'])}) did not get there"
        return
    if pods:
        pytest.fail(f"E2E_OPERATOR=local, but the cluster runs the operator too ({', '.join(pods)}): both would "
                    f"act on the suite's resources. Scale it down (kubectl -n headlamp-operator scale "
                    f"deployment/headlamp-operator --replicas=0) or use E2E_OPERATOR=deployed", pytrace=False)
    # imports kopf and the operator only when they are run here
    from tests.harness.e2e.local_operator import LocalOperator
    operator = LocalOperator(e2e)
    operator.start_and_wait(within=min(60.0, e2e.timeout))
    try:
        yield "\nhint: the operator runs in this process (E2E_OPERATOR=local): see its log above"
    finally:
        operator.stop(within=30.0)


_headlamp_checked: set[str] = set()


@pytest.fixture()
async def headlamp(e2e: E2EConfig) -> AsyncIterator[Headlamp]:
    """Reads Headlamp's port-forward list; checks once per session that Headlamp knows E2E_CLUSTER."""
    async with aiohttp.ClientSession() as session:
        reader = Headlamp(session, e2e)
        if reader.base not in _headlamp_checked:
            await reader.check()
            _headlamp_checked.add(reader.base)
        yield reader


@pytest.fixture()
async def ns(e2e_cluster: Kube, headlamp: Headlamp, operator_hint: str) -> AsyncIterator[Namespace]:
    """This test's namespace (random suffix, labelled headlamp-operator-e2e=true), deleted at the end."""
    namespace = await Namespace.new(e2e_cluster, headlamp, hint=operator_hint)
    try:
        yield namespace
    finally:
        await namespace.cleanup()
