"""Paged lists: ``?limit=`` and ``?continue=``, as kube-apiserver pages them.

A page ends after ``limit`` items, sorted by namespace and name; its ``continue`` token names the list's
resourceVersion and the last item given, so the next page goes on after it; ``remainingItemCount`` says
how many are left.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from headlamp_operator_testing.kubernetes.store import api_error

Body = dict[str, Any]


def _sort_key(item: Body) -> list[str]:
    meta = item.get('metadata') or {}
    return [meta.get('namespace') or '', meta.get('name') or '']


def _decode_continue(token: str | None) -> tuple[str | None, list[str] | None]:
    if not token:
        return None, None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data['rv']), list(data['after'])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise api_error(400, 'BadRequest', 'invalid continue token') from None


def page(items: list[Body], params: Mapping[str, str], resource_version: str) -> tuple[list[Body], Body]:
    """The items of the page the parameters ask for, and the list's ``metadata``."""
    rv, after = _decode_continue(params.get('continue'))
    if after is not None:
        items = [item for item in items if _sort_key(item) > after]
    metadata: Body = {'resourceVersion': rv or resource_version}
    limit = params.get('limit', '0')
    if not limit.isdigit():
        raise api_error(400, 'BadRequest', f'invalid limit: {limit!r}')
    if int(limit) and len(items) > int(limit):
        metadata['remainingItemCount'] = len(items) - int(limit)
        items = items[:int(limit)]
        token = json.dumps({'rv': metadata['resourceVersion'], 'after': _sort_key(items[-1])})
        metadata['continue'] = base64.urlsafe_b64encode(token.encode()).decode()
    return items, metadata
