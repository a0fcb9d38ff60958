"""An emulated Headlamp backend for tests, the benchmark and the sandbox, built from HEADLAMP_CONTRACT.md.

The class ladder: :class:`HeadlampScaffold` (server, request log, faults, backend token) ->
:class:`HeadlampEmulator` (set-token cookies, port-forwards, clusters, dynamic clusters), with
:class:`KubeCluster` as the in-memory Kubernetes API behind each cluster. Which backend it is, v0.45.0 or v0.45.0
with open upstream pull requests applied, is its :class:`Contract` (:mod:`.contracts`).
"""
from .contracts import VARIANTS, Contract, ContractError
from .emulator import Context, HeadlampEmulator
from .forwards import Forward, ForwardError
from .kube import KubeCluster, ObjectKey
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
    "ObjectKey",
    "RecordedRequest",
    "cookie_name",
    "sanitize",
]
