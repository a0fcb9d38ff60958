"""PATCH requests as the Kubernetes API server takes them: the media type, the body, the status codes.

The patch algorithms themselves (RFC 7386, RFC 6902, strategic merge) are shared with the
Kubernetes emulator: one implementation of what the API server does, for both emulators.
"""
from __future__ import annotations

import json
from typing import Any

from headlamp_operator_testing.kubernetes import patches

MERGE = patches.MERGE_PATCH
JSON_PATCH = patches.JSON_PATCH
STRATEGIC = patches.STRATEGIC_MERGE_PATCH
SUPPORTED = (JSON_PATCH, MERGE, STRATEGIC)


class PatchError(Exception):
    """A patch that cannot be taken: ``status`` is 400 (malformed), 415 (media type) or 422 (does not apply)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def apply_patch(content_type: str, target: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Apply a PATCH request's body to a copy of ``target`` according to its content type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in SUPPORTED:
        # go-restful's answer for a media type the PATCH route does not consume, as kube-apiserver passes it on
        # (recorded: tests/headlamp/transcripts/headlamp-v0.45.0.json, proxy/patch-415)
        raise PatchError(415, "415: Unsupported Media Type")
    try:
        patch = json.loads(body)
    except ValueError as exc:
        raise PatchError(400, f"error decoding patch: {exc}") from exc
    try:
        if media_type == JSON_PATCH:
            if not isinstance(patch, list):
                raise PatchError(400, "json patch must be a JSON array of operations")
            result = patches.json_patch(target, patch)
        elif not isinstance(patch, dict):
            raise PatchError(400, "merge patch must be a JSON object")
        elif media_type == STRATEGIC:
            result = patches.strategic_merge_patch(target, patch)
        else:
            result = patches.merge_patch(target, patch)
    except patches.PatchError as exc:
        raise PatchError(422, str(exc)) from exc
    if not isinstance(result, dict):
        raise PatchError(422, "the patched object is not a JSON object")
    return result
