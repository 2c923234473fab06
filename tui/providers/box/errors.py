"""What Box's refusals mean: its ClientError bodies mapped to partdeck's RemoteErrors."""

from __future__ import annotations

import json

import httpx

from tui.core.errors import RejectedError, TransientError, UploadGone
from tui.core.redact import redact
from tui.core.transfer import answer_text, check_transient
from tui.providers.box.answers import MAX_JSON

TOO_SMALL = (
    "Box's chunked upload needs files of at least 20 MiB (20,971,520 bytes); smaller files go "
    "through Box's plain upload (the web app or POST /files/content), which partdeck does not use"
)
EXPIRED = "the Box upload session expired (sessions last 7 days); start a new upload"
SESSION_GONE = "Box no longer has the upload session (it expired after 7 days or was aborted)"
"""What a 404 on a session endpoint means: the session and every part in it are gone."""
DIGEST_MISMATCH = (
    "the whole-file checksum differs from what Box received; did the file change? run "
    "partdeck verify"
)
STORAGE_FULL = "Box storage is full; free space in the account or raise its quota, then resume"


def error_of(body: bytes) -> tuple[str | None, str | None]:
    """(code, message) of Box's ClientError body, or (None, None)."""
    try:
        data = json.loads(body[:MAX_JSON]) if body else None
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    code, message = data.get("code"), data.get("message")
    code = code[:80] if isinstance(code, str) and code else None
    message = message[:300] if isinstance(message, str) and message else None
    return code, message


def _said(status: int, code: str | None, message: str | None) -> str:
    """``409 (code: message)`` for a message; a token or signature Box quotes is redacted."""
    detail = redact(": ".join(x for x in (code, message) if x))
    return f"{status} ({detail})" if detail else str(status)


def raise_for_box(
    response: httpx.Response,
    what: str,
    *,
    gone: str | None = None,
    file_name: str | None = None,
) -> None:
    """Raise the right RemoteError for a failed Box answer; return on 2xx.

    ``gone`` is the sentence for a 404 where the caller says what is missing; without
    it the call was on a session endpoint, and a 404 there is UploadGone: the session
    expired or was aborted, and only a new one can carry the file.
    """
    if response.is_success:
        return
    status = response.status_code
    code, message = error_of(answer_text(response).encode())  # a quoted token cut out
    said = _said(status, code, message)
    check_transient(response, what)
    if status == 401:
        raise RejectedError(
            f"{what}: Box refused the access token ({said}); get a new token for the account",
            status=status,
            code=code,
        )
    if code == "storage_limit_exceeded":
        raise RejectedError(f"{what}: {STORAGE_FULL} ({said})", status=status, code=code)
    if code == "file_size_too_small":
        raise RejectedError(f"{what}: {TOO_SMALL}", status=status, code=code)
    if code == "digest_mismatch":
        raise RejectedError(f"{what}: {DIGEST_MISMATCH} ({said})", status=status, code=code)
    if status == 400 and code == "bad_digest":
        raise TransientError(
            f"{what}: Box received bytes that do not match the part's SHA-1 ({said}); sending "
            "it again",
            status=status,
            code=code,
        )
    if status == 409 and code == "range_overlaps_existing_part":
        raise TransientError(
            f"{what}: Box already holds a part at this offset ({said}); checking what it holds",
            status=status,
            code=code,
        )
    if status == 409 and file_name is not None and code in ("item_name_in_use", "conflict", None):
        raise RejectedError(
            f"{what}: a file named {file_name} already exists in the folder ({said}); rename "
            "it or upload a new version",
            status=status,
            code=code,
        )
    if (
        status == 400
        and file_name is not None
        and code in ("item_name_invalid", "item_name_too_long")
    ):
        raise RejectedError(
            f'{what}: Box does not take the file name "{file_name}" ({said}); Box names have '
            "no / or \\, no leading or trailing spaces and at most 255 characters: rename "
            "the file (or copy it under another name) and upload that",
            status=status,
            code=code,
        )
    if status == 416:
        raise RejectedError(
            f"{what}: Box refused the byte range ({said}); the parts were cut wrong, a bug: "
            "please report it",
            status=status,
            code=code,
        )
    if status == 404 and gone is None:
        raise UploadGone(f"{what}: {SESSION_GONE} ({said})", status=status, code=code)
    if status == 404:
        raise RejectedError(f"{what}: {gone} ({said})", status=status, code=code)
    if status == 403:
        raise RejectedError(
            f"{what}: Box denied access ({said}); check the token's scopes and the folder's "
            "permissions",
            status=status,
            code=code,
        )
    raise RejectedError(
        f"{what}: Box said {said}; fix the request or the account and try again",
        status=status,
        code=code,
    )
