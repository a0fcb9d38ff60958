"""Who may do what in the in-memory API: the tokens it refuses, forbids or denies a port-forward, as knobs.

kube-apiserver authenticates a request's bearer token (``401 Unauthorized`` when it cannot), then asks RBAC
whether its user may do the verb (``403 Forbidden``, naming the user, never the token). The in-memory API has
no RBAC: every token is allowed everything unless a test says otherwise with these knobs. A request without
a token stands for ``anonymous`` (a cluster behind Headlamp names it after Headlamp's own identity).

A ``SelfSubjectAccessReview`` (Headlamp's port-forward permission check asks ``create pods/portforward``) is
answered from the same knobs; creating one needs no permission, as with RBAC's ``system:basic-user``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import kmock

from headlamp_operator_testing.kubernetes.store import api_error

Body = dict[str, Any]
Token = str | None


def bearer_token(headers: Mapping[str, str]) -> Token:
    """The bearer token of a request's ``Authorization`` header, or None."""
    value = next((v for k, v in headers.items() if k.lower() == 'authorization'), '')
    scheme, _, token = value.partition(' ')
    return token.strip() if scheme.lower() == 'bearer' and token.strip() else None


class Access:
    """The knobs, and the checks the API server makes with them."""

    def __init__(self) -> None:
        self.refused: set[Token] = set()  # -> 401 Unauthorized
        self.forbidden: dict[Token, frozenset[str] | None] = {}  # -> 403 for these verbs (None: every verb)
        self.portforward_denied: set[Token] = set()  # -> reviews of pods/portforward not allowed
        self.users: dict[Token, str] = {}  # token -> the user the API server knows it as
        self.anonymous = 'system:anonymous'  # the user of a request without a token

    # -- the knobs ----------------------------------------------------------------------------------

    def refuse_token(self, token: Token) -> None:
        """Answer 401 Unauthorized to every request with that token (None: requests without one)."""
        self.refused.add(token)

    def forbid_token(self, token: Token, *, verbs: Iterable[str] | None = None) -> None:
        """Answer 403 Forbidden to that token's requests (for these verbs only, if given)."""
        self.forbidden[token] = frozenset(verbs) if verbs is not None else None

    def deny_portforward(self, token: Token) -> None:
        """Make the port-forward permission check (a review of ``create pods/portforward``) fail for that token."""
        self.portforward_denied.add(token)

    def allow_token(self, token: Token) -> None:
        """Undo refuse_token, forbid_token and deny_portforward for that token."""
        self.refused.discard(token)
        self.forbidden.pop(token, None)
        self.portforward_denied.discard(token)

    def name_token(self, token: Token, user: str) -> None:
        """Say whose token it is: the API server names that user in its refusals
        (``system:serviceaccount:{namespace}:{name}`` for a ServiceAccount's token)."""
        self.users[token] = user

    def user_of(self, token: Token) -> str:
        """The user a token stands for (never the token itself): as named, else a made-up one."""
        if token in self.users:
            return self.users[token]
        if token is None:
            return self.anonymous
        return f'emulated-user-{hashlib.sha256(token.encode()).hexdigest()[:8]}'

    # -- the checks ---------------------------------------------------------------------------------

    def authenticate(self, token: Token) -> None:
        """Raise the API server's 401 for a refused token."""
        if token in self.refused:
            raise api_error(401, 'Unauthorized', 'Unauthorized')

    def allows(self, token: Token, verb: str, subresource: str | None = None) -> bool:
        """Whether that token may do ``verb`` (on ``subresource``, for the port-forward knob)."""
        if token in self.forbidden:
            verbs = self.forbidden[token]
            if verbs is None or verb in verbs:
                return False
        return not (subresource == 'portforward' and token in self.portforward_denied)

    def authorize(self, token: Token, verb: str, resource: kmock.resource, *, subresource: str | None = None,
                  namespace: str | None = None, name: str | None = None) -> None:
        """Raise the API server's 403, in its words, when that token may not do ``verb`` on the resource."""
        if self.allows(token, verb, subresource):
            return
        qualified = f'{resource.plural}.{resource.group}' if resource.group else str(resource.plural)
        what = f'{qualified} "{name}"' if name else qualified
        where = f' in the namespace "{namespace}"' if namespace else ' at the cluster scope'
        message = (f'{what} is forbidden: User "{self.user_of(token)}" cannot {verb} resource '
                   f'"{resource.plural}{"/" + subresource if subresource else ""}" in API group '
                   f'"{resource.group}"{where}')
        details = {'name': name, 'group': resource.group, 'kind': resource.plural}
        raise api_error(403, 'Forbidden', message, {k: v for k, v in details.items() if v})

    def review(self, token: Token, body: Any) -> Body:
        """The answer to a SelfSubjectAccessReview: its spec, and whether the knobs allow what it asks."""
        spec = _mapping(_mapping(body).get('spec'))
        attributes = _mapping(spec.get('resourceAttributes'))
        allowed = self.allows(token, str(attributes.get('verb') or ''), attributes.get('subresource') or None)
        return {'kind': 'SelfSubjectAccessReview', 'apiVersion': 'authorization.k8s.io/v1',
                'metadata': {'creationTimestamp': None}, 'spec': dict(spec), 'status': {'allowed': allowed}}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
