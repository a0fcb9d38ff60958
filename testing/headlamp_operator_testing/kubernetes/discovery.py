"""What the in-memory API says about itself: ``/version``, its groups and resources, and the 404 of its mux.

It says it is the kube-apiserver v1.36.3 the real-peer suite builds from Go modules (peers/build.py): the
``/version`` a real headlamp-server passed on, as recorded in tests/kit/headlamp/transcripts/headlamp-v0.45.0.json
(a module build has no commit or build date stamp). A path under a group or version it does not serve (a CRD
not installed) has no route in kube-apiserver's mux: a plain-text ``404 page not found``, not a Status.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp.web
import kmock

from headlamp_operator_testing.kubernetes import registration

Body = dict[str, Any]

VERSION: Mapping[str, str] = {
    'major': '1', 'minor': '36', 'emulationMajor': '1', 'emulationMinor': '36', 'minCompatibilityMajor': '1',
    'minCompatibilityMinor': '35', 'gitVersion': 'v1.36.3', 'gitCommit': '$Format:%H$', 'gitTreeState': 'clean',
    'buildDate': '1970-01-01T00:00:00Z', 'goVersion': 'go1.26.8', 'compiler': 'gc', 'platform': 'linux/amd64'}

# What discovery lists of a subresource beyond its parent's kind: (verbs, group, version, kind); None: the parent's
_SUBRESOURCES: Mapping[str, tuple[list[str], str | None, str | None, str | None]] = {
    'status': (['get', 'patch', 'update'], None, None, None),
    'finalize': (['update'], None, None, None),
    'scale': (['get', 'patch', 'update'], 'autoscaling', 'v1', 'Scale'),
    'portforward': (['create', 'get'], None, None, 'PodPortForwardOptions'),
}


def page_not_found() -> aiohttp.web.Response:
    """kube-apiserver's mux for a path it has no route for: Go's ``http.NotFound``."""
    return aiohttp.web.Response(status=404, body=b'404 page not found\n',
                                headers={'Content-Type': 'text/plain; charset=utf-8',
                                         'X-Content-Type-Options': 'nosniff'})


def routed(resource: kmock.resource, resources: Iterable[kmock.resource]) -> bool:
    """Whether the mux has a route for a path under that group (and version): one it serves."""
    served = {(r.group, r.version) for r in resources}
    if resource.group == '':
        return resource.version == 'v1'
    if resource.version is None:
        return any(group == resource.group for group, _ in served)
    return (resource.group, resource.version) in served


def group_document(group: str, versions: list[str]) -> Body:
    """One group of ``/apis``: its versions, the preferred one first."""
    docs = [{'groupVersion': f'{group}/{version}', 'version': version} for version in versions]
    return {'name': group, 'versions': docs, 'preferredVersion': docs[0]}


def groups_document(resources: Iterable[kmock.resource], preferred: Mapping[str, str]) -> Body:
    """``/apis``: every group served, each with its versions (a CRD's storage version preferred)."""
    groups = registration.group_versions(resources, preferred)
    return {'apiVersion': 'v1', 'kind': 'APIGroupList',
            'groups': [group_document(group, versions) for group, versions in groups.items()]}


def resource_list(document: Body) -> Body:
    """kmock's ``APIResourceList`` as the API server writes it: the core group is ``v1`` (not ``/v1``), and a
    subresource has no names of its own, its verbs, and its own kind (``deployments/scale``: a Scale)."""
    document['groupVersion'] = str(document['groupVersion']).lstrip('/')
    for entry in document.get('resources') or ():
        sub = str(entry.get('name')).partition('/')[2]
        if sub:
            verbs, group, version, kind = _SUBRESOURCES.get(sub, (['get'], None, None, None))
            entry.update(singularName='', shortNames=[], categories=[], verbs=verbs)
            if group is not None:
                entry.update(group=group, version=version)
            if kind is not None:
                entry['kind'] = kind
    return document
