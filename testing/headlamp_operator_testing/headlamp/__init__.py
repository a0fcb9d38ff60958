"""An emulated Headlamp backend for tests, the benchmark and the sandbox, built from docs/headlamp-backend.md.

The class ladder: :class:`HeadlampScaffold` (server, request log, faults, backend token) ->
:class:`HeadlampEmulator` (set-token cookies, port-forwards, clusters, dynamic clusters). Behind each cluster is
an in-memory Kubernetes API of the test kit's own (:class:`KubeCluster`, from
:mod:`headlamp_operator_testing.kubernetes`, proxied to over HTTP) or a real API server (:mod:`.upstream`).
Which backend it is, v0.45.0 or v0.45.0 with open upstream pull requests applied, is its :class:`Contract`
(:mod:`.contracts`).
"""
from headlamp_operator_testing.kubernetes import KubeCluster

from .contracts import VARIANTS, Contract, ContractError
from .emulator import Context, HeadlampEmulator
from .forwards import Forward, ForwardError
from .records import Fault, RecordedRequest
from .scaffold import BACKEND_TOKEN_HEADER, HeadlampScaffold
from .sessions import CHUNK_SIZE, cookie_name, sanitize

__all__ = [
    "BACKEND_TOKEN_HEADER",
    "CHUNK_SIZE",
    "VARIANTS",
    "Context",
    "Contract",
    "ContractError",
    "Fault",
    "Forward",
    "ForwardError",
    "HeadlampEmulator",
    "HeadlampScaffold",
    "KubeCluster",
    "RecordedRequest",
    "cookie_name",
    "sanitize",
]
