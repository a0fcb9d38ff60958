"""How a request becomes a change of the store: its verb, its field manager, and the change a PUT or a PATCH
(of an object, of its status, or of a Deployment's scale) makes of the stored object.

The patch media types are the API server's: a JSON patch, a merge patch, or a strategic merge patch (built-in
kinds only); any other is go-restful's ``415`` (recorded: tests/kit/headlamp/transcripts/headlamp-v0.45.0.json,
``proxy/patch-415``). Writing a Scale writes the Deployment's ``spec.replicas`` (:mod:`.workloads`).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import kmock

from headlamp_operator_testing.kubernetes import managedfields, patches, workloads
from headlamp_operator_testing.kubernetes.admission import CustomResourceAdmission
from headlamp_operator_testing.kubernetes.store import api_error

Body = dict[str, Any]
Change = Callable[[Body], Any]
_VERBS = {kmock.action.LIST: 'list', kmock.action.WATCH: 'watch', kmock.action.FETCH: 'get',
          kmock.action.CREATE: 'create', kmock.action.UPDATE: 'patch', kmock.action.DELETE: 'delete'}


def verb_of(request: kmock.Request) -> str | None:
    """The verb RBAC would check: get, list, watch, create, update, patch, delete, deletecollection."""
    if request.action is None:
        return 'update' if request.method == kmock.method.PUT else None
    verb = _VERBS.get(request.action)
    return 'deletecollection' if verb == 'delete' and request.name is None else verb


def field_manager(request: kmock.Request) -> str:
    """The manager a write is recorded under: ``?fieldManager=``, else what the API server makes of the
    ``User-Agent`` (:func:`.managedfields.manager_of`)."""
    agent = next((value for key, value in request.headers.items() if key.lower() == 'user-agent'), '')
    return request.params.get('fieldManager') or managedfields.manager_of(agent)


def change_of(request: kmock.Request, admission: CustomResourceAdmission, *, custom: bool) -> Change:
    """The change a PUT (``action`` None) or a PATCH makes; ``custom``: the resource is a CRD's."""
    change = _replacement(request, admission) if request.action is None else _patcher(request, custom=custom)
    if request.subresource != 'scale':
        return change
    return lambda old: workloads.scaled(old, change(workloads.scale_of(old)))


def _replacement(request: kmock.Request, admission: CustomResourceAdmission) -> Change:
    body = request.data
    if not isinstance(body, dict) or (body.get('metadata') or {}).get('name') not in (None, request.name):
        raise api_error(400, 'BadRequest', 'the name of the object does not match the name on the URL')
    assert request.resource is not None and request.name is not None
    if request.subresource is None:
        admission.check_replace(request.resource, request.name, body)
    return lambda old: copy.deepcopy(body)


def _patcher(request: kmock.Request, *, custom: bool) -> Change:
    headers = {key.lower(): value for key, value in request.headers.items()}
    content_type = headers.get('content-type', '').split(';')[0].strip().lower()
    data = request.data
    if content_type == patches.JSON_PATCH:
        return lambda old: patches.json_patch(old, data)
    if content_type not in (patches.MERGE_PATCH, patches.STRATEGIC_MERGE_PATCH):
        raise api_error(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {})
    if not isinstance(data, dict):
        raise api_error(400, 'BadRequest', 'a merge patch must be a JSON object')
    if content_type == patches.MERGE_PATCH:
        return lambda old: patches.merge_patch(old, data)
    if custom:
        raise api_error(415, 'UnsupportedMediaType', 'strategic merge patch is not supported '
                                                     'for custom resources; use a merge patch')
    return lambda old: patches.strategic_merge_patch(old, data)
