"""What Wunderlist's failures mean: its error bodies mapped to RemoteErrors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from tui.core.errors import RejectedError, RemoteError, UploadGone
from tui.core.transfer import answer_text, check_transient
from tui.providers.wunderlist.answers import quote_text

NO_PARTS = "There are no parts upload to finish it"
"""Wunderlist's own text when an upload is finished before any part landed."""

UPLOAD_GONE = (
    "Wunderlist has no such upload{said}; it discards unfinished uploads after a while, "
    "so upload the file again"
)
"""What a 404 means for calls on an upload, with its fix."""
USER_GONE = "Wunderlist has no /user{said}; check the account's base_url"


def _error_detail(body: Any) -> tuple[str | None, str]:
    """(type, readable detail) from ``{"error": {...}}`` or ``{"errors": [...]}``."""
    if not isinstance(body, Mapping):
        return None, ""
    error = body.get("error")
    if isinstance(error, Mapping):
        kind = error.get("type")
        pieces = [str(error.get("message") or "")]
        for key, value in error.items():
            if key in ("type", "translation_key", "message"):
                continue
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            pieces.append(f"{key}: {value}")
        detail = "; ".join(p for p in pieces if p)
        return (quote_text(kind) if isinstance(kind, str) else None), quote_text(detail)
    errors = body.get("errors")
    if isinstance(errors, list):
        return None, quote_text(": ".join(str(e) for e in errors))
    return None, ""


def error_for(response: httpx.Response, what: str, gone: str = UPLOAD_GONE) -> RemoteError:
    """The RemoteError for a failed Wunderlist answer: one line naming problem and fix.

    ``gone`` is what a 404 means for this call, with its fix.
    """
    try:
        check_transient(response, what)
    except RemoteError as exc:  # transient, or a call the server lacks (501, 405)
        return exc
    status = response.status_code
    try:
        body = json.loads(answer_text(response))  # the token cut out, should it be quoted
    except (ValueError, RecursionError):
        body = None
    kind, detail = _error_detail(body)
    shown = ": ".join(p for p in (kind, detail) if p)
    said = f" ({shown})" if shown else ""
    if status == 400 and NO_PARTS in detail:
        return RejectedError(
            "Wunderlist has no parts for this upload, so it cannot be finished; resume the "
            "session to send its parts, or upload the file again",
            status=status,
            code="no_parts",
        )
    if status == 401:
        message = (
            f"{what}: Wunderlist did not accept the access token or client id{said}; "
            "check the account's token and client_id"
        )
    elif status == 403:
        message = f"{what}: Wunderlist denied access{said}; check what the token may do"
    elif status == 404 and gone == UPLOAD_GONE:
        # The upload was collected: its parts went with it; only a new one carries the file.
        return UploadGone(f"{what}: {gone.format(said=said)}", status=status, code=kind)
    elif status == 404:
        message = f"{what}: {gone.format(said=said)}"
    elif kind == "missing_parameter":
        message = (
            f"{what}: Wunderlist refused a parameter{said}; this partdeck request does not "
            "fit the API, please report it"
        )
    else:
        message = f"{what}: Wunderlist refused the request with status {status}{said}"
    return RejectedError(message, status=status, code=kind)
