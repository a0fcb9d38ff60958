"""The fault suite shares the integration fixtures: the operator against both emulators over loopback."""
from tests.integration.conftest import env, hl, kube, start_operator  # noqa: F401  (fixtures)
