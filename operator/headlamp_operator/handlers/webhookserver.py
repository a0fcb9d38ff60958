"""kopf's admission server, reading reviews as large as the API server can send.

kopf's ``WebhookServer`` (``kopf/_kits/webhooks.py``, kopf 1.45) builds a plain
``aiohttp.web.Application()``, which reads a request body up to aiohttp's default ``client_max_size``
of 1 MiB and answers 413 above it. An AdmissionReview carries the whole object, so a ResourcePatch of
about 1 MiB was never judged: the API server met the 413, ``failurePolicy: Ignore`` let the object in,
and its size error appeared only later in its status (docs/operations.md#validation-and-the-admission-webhook
promises the webhook's verdict at admission).

How large a review can be:

- kube-apiserver reads a write request's body up to 3 MiB (``MaxRequestBodyBytes``,
  ``k8s.io/apiserver/pkg/server/config.go``: 413 ``Request entity too large: limit is 3145728``
  above), and a create or update sends the webhook that object, re-encoded as JSON;
- an UPDATE's review carries ``oldObject`` as well: two objects in one body;
- etcd stores an object up to 1,572,864 bytes (its default ``--max-request-bytes``), so any object that
  can be stored makes a review of at most about 3 MiB (two such objects).

:data:`MAX_REVIEW_BYTES` is 8 MiB: two objects at the API server's own 3 MiB limit, with room for the
review's other fields and JSON's escapes. aiohttp takes memory only as the bytes arrive, so a small
review costs what it did. Beyond 8 MiB the answer is still 413 (nothing that large can be stored).

The limit is set per request with ``Request.clone(client_max_size=...)``, aiohttp's documented way
to override the body size of one request (aio-libs/aiohttp#6340), in kopf's one hook for serving a
review (``_serve``): kopf's server is otherwise used unchanged.
"""
from __future__ import annotations

import aiohttp.web
import kopf

MAX_REVIEW_BYTES = 8 * 1024 * 1024


class WebhookServer(kopf.WebhookServer):
    """``kopf.WebhookServer`` that reads AdmissionReviews of up to :data:`MAX_REVIEW_BYTES`."""

    @staticmethod
    async def _serve(fn: kopf.WebhookFn, request: aiohttp.web.Request) -> aiohttp.web.Response:
        return await kopf.WebhookServer._serve(fn, request.clone(client_max_size=MAX_REVIEW_BYTES))
