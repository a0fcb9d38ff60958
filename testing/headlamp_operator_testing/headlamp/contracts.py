"""Which Headlamp backend the emulator is: the v0.45.0 release, or v0.45.0 with open upstream pull requests applied.

docs/headlamp-backend.md#upstream-changes-in-flight lists the pull requests of kubernetes-sigs/headlamp that
would change the wire; each is a *variant* here, and variants combine (``pr7273,pr7020``): each changes one
part of the backend, read off its description there and off its diff against v0.45.0
(``refs/pull/N/head`` of kubernetes-sigs/headlamp; ``backend/pkg/portforward/``, ``backend/pkg/auth/cookies.go``,
``backend/cmd/headlamp.go``). Without a variant the emulator is v0.45.0 as recorded
(``tests/kit/headlamp/transcripts/headlamp-v0.45.0.json``).

The product must never ask which variant it faces ("never from a version string",
docs/headlamp-backend.md#upstream-changes-in-flight):
this is the tests' knob, ``HeadlampEmulator(contract=...)`` and ``python -m headlamp_operator_testing.headlamp
--contract ...``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

BASE = "v0.45.0"

VARIANTS: dict[str, str] = {
    BASE: "the release, as recorded from the real server",
    "pr6153": 'DELETE /portforward reads {"id", "action": "stop"|"delete"} (answers stopped / deleted); '
              'a body without it is 400 `invalid request, action must be "stop" or "delete"`',
    "pr7273": "a service forward whose pod stops is reconnected by the backend itself (Reconnecting, 3 tries at "
              "5, 10, 20 s, the same local port, the list names the new pod); the start reads "
              "`Authorization: Bearer` before the cookies; a closed forward is no longer stored again",
    "pr7389": "a deleted forward is not listed again (no #7389 ghost)",
    "pr7020": "set-token limited to 5 requests per second per client address, burst 10: 429 `Too many requests`",
    "pr7352": "cookie names of clusters over 50 characters: the first 41 kept characters, '-', 8 hex digits of "
              "the name's 32-bit FNV-1a; set-token and logout clear chunks up to 9 whether sent or not",
    "pr6801": "cookie names of clusters over 50 characters: the first 17 kept characters, '-', 32 hex digits "
              "of the name's SHA-256 (the competing PR of #7352)",
    "pr7258": "the pod monitor ends with the start request: every forward is Stopped (`request context canceled`) "
              "right after its start answers",
}

STOPPED_BY_REQUEST = "request context canceled"  # #7258: what the monitor stores when the start's context ends


class ContractError(ValueError):
    """A ``--contract`` value that names no variant, or variants that cannot combine."""


@dataclasses.dataclass(frozen=True)
class Contract:
    """A set of upstream pull requests applied to v0.45.0 (empty: v0.45.0 itself).

    Each property below is one behaviour and says which pull request changes it.
    """

    prs: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, value: str | Iterable[str] | Contract | None) -> Contract:
        """A contract from ``"pr7273,pr7020"``, ``["pr7273", "pr7020"]``, ``"v0.45.0"`` or None (v0.45.0).

        Raises:
            ContractError: an unknown name, or #6801 with #7352 (two cookie-name schemes).
        """
        if isinstance(value, Contract):
            return value
        items = [value] if isinstance(value, str) else list(value or [])
        names = {name.strip() for item in items for name in item.split(",") if name.strip()}
        unknown = sorted(names - set(VARIANTS))
        if unknown:
            raise ContractError(f"unknown contract {', '.join(unknown)}: one or more of {', '.join(VARIANTS)}")
        prs = frozenset(names - {BASE})
        if {"pr6801", "pr7352"} <= prs:
            raise ContractError("pr6801 and pr7352 name long clusters' cookies two ways: pick one")
        return cls(prs)

    def __contains__(self, name: object) -> bool:
        return name in self.prs

    def __str__(self) -> str:
        return "+".join([BASE, *sorted(self.prs)])

    def with_pr(self, pr: str, present: bool) -> Contract:
        """This contract with ``pr`` added (``present``) or taken away."""
        return Contract(self.prs | {pr} if present else self.prs - {pr})

    # -- the behaviours ---------------------------------------------------------------------------

    @property
    def stop_by_action(self) -> bool:
        """#6153: DELETE /portforward reads ``action`` (v0.45.0: the inverted ``stopOrDelete`` flag)."""
        return "pr6153" in self.prs

    @property
    def stores_closed_forwards(self) -> bool:
        """Whether a forward's ``ForwardPorts`` goroutine stores it once more, ``Stopped`` with ``Port forward
        stopped.``, as it ends (``forwardPortsAsync``, v0.45.0). #7273 takes that store out (its monitor alone
        decides), so a stop leaves the entry as the stop wrote it: ``Stopped``, no error."""
        return "pr7273" not in self.prs

    @property
    def ghost_after_delete(self) -> bool:
        """v0.45.0 lists a forward deleted while it ran again, ``Stopped`` (the goroutine's store above).
        #7389 stores only an entry still in the cache; #7273 does not store at all."""
        return self.stores_closed_forwards and "pr7389" not in self.prs

    @property
    def reconnects(self) -> bool:
        """#7273: a service-backed forward whose pod stops is moved to another ready pod by the backend."""
        return "pr7273" in self.prs

    @property
    def start_reads_bearer(self) -> bool:
        """#7273: the port-forward start takes ``Authorization: Bearer`` first, then the cookies (v0.45.0: cookies)."""
        return "pr7273" in self.prs

    @property
    def limits_set_token(self) -> bool:
        """#7020: ``set-token`` is rate-limited per client address (5 per second, burst 10)."""
        return "pr7020" in self.prs

    @property
    def cookie_scheme(self) -> str:
        """How a cluster name over 50 kept characters names its cookies: ``cut`` (v0.45.0), ``pr7352`` or ``pr6801``."""
        return "pr7352" if "pr7352" in self.prs else "pr6801" if "pr6801" in self.prs else "cut"

    @property
    def clears_every_chunk(self) -> bool:
        """#7352: clearing writes chunks up to 9 whether the request carried them or not (v0.45.0: only those
        carried), and set-token no longer clears first: it sets its chunks, then clears the higher ones."""
        return "pr7352" in self.prs

    @property
    def monitor_tied_to_request(self) -> bool:
        """#7258 as written: the pod monitor ends with the start request's context, marking the forward Stopped."""
        return "pr7258" in self.prs
