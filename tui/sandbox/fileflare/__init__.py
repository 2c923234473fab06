"""The Fileflare / Digital Downloads emulator: the API under ``/api/v1``, parts on S3.

Faithful to providers.md section 5: ``POST /assets/signed`` starts an S3 multipart
upload and presigns every part for 12 hours (host-signed, for the provider's S3
gateway), cut at ``chunk_size``; ``POST`` (or ``PUT``) ``/assets/{id}/uploaded``
completes it, quoted or bare ETags alike, 201; ``POST /assets/{id}/cancel`` aborts it.
Laravel-style JSON errors (401 ``Unauthenticated.``, 402 plan storage, 404, 422 with
``errors``, 429 with ``Retry-After``) and the 60-requests-a-minute limit with its
``X-RateLimit-*`` headers.

``ctx.options`` switches: ``chunk_size`` (bytes, default 100,000,000), ``quota_bytes``
(plan storage; None for unlimited), ``rate_limit`` (requests per window, default 60; 0
turns it off), ``rate_window`` (seconds, default 60), ``repeat_complete`` (``"succeed"``
answers a repeated complete 201 as AWS would; by default it fails 500, as the app does
when MinIO answers NoSuchUpload), ``store`` (the key prefix, like
``my-store.myshopify.com``). Counted faults: ``complete_lost`` (the upload completes,
the answer is 500), ``abort_lost`` (the upload is cancelled, the answer is 500) and
``view_500`` (``GET /assets/{id}`` answers 500).

Sandbox-only: ``GET /_sandbox/stats`` (calls by route, 429s sent) and ``GET
/_sandbox/assets`` (every asset with its S3 key), for tests; ``GET /assets/{id}`` is the
``file_url`` page, showing the asset as JSON.

Modules: ``assets`` (the emulated store and its part URLs), ``validation`` (Laravel's
rules), ``gate`` (call counts, the throttle, the token), ``errors`` (Laravel's error
answers) and ``emulator`` (the handlers and the app).
"""

from __future__ import annotations

from tui.sandbox.fileflare.assets import CHUNK_SIZE, LINK_LIFETIME, Asset
from tui.sandbox.fileflare.emulator import API, Fileflare, create_app
from tui.sandbox.fileflare.errors import SERVER_ERROR, ApiError, invalid
from tui.sandbox.fileflare.gate import RATE_LIMIT, RATE_WINDOW, Handler, RateLimiter
from tui.sandbox.fileflare.validation import MAX_BODY, Rules, json_body

__all__ = [
    "API",
    "CHUNK_SIZE",
    "LINK_LIFETIME",
    "MAX_BODY",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "SERVER_ERROR",
    "ApiError",
    "Asset",
    "Fileflare",
    "Handler",
    "RateLimiter",
    "Rules",
    "create_app",
    "invalid",
    "json_body",
]
