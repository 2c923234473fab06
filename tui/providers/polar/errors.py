"""What Polar's failures mean: its three error shapes mapped to RemoteErrors."""

from __future__ import annotations

from typing import Any, NoReturn

import httpx

from tui.core.errors import RejectedError
from tui.core.redact import redact
from tui.core.transfer import check_transient

SCOPE_FIX = "create an Organization Access Token with the files:write scope"
MAX_TEXT = 200
"""Longest piece of a server's error text put into a message."""


def clip(value: Any, secret: str = "") -> str:
    """A server-supplied value as a short, single-line, secret-free piece of text.

    ``secret`` is cut out before anything is shortened: a cut first could leave part of
    it behind, to surface once whitespace collapses.
    """
    text = str(value)
    if secret:
        text = text.replace(secret, "…")
    text = redact(" ".join(text[: 4 * MAX_TEXT].split()))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def polar_error_text(response: httpx.Response, secret: str = "") -> tuple[str | None, str]:
    """(error kind, detail) from any of Polar's error bodies; detail may be empty.

    Polar's own errors are ``{"type", "detail"}``, validation errors ``{"detail": [{"loc",
    "msg", "type"}]}`` and OAuth errors ``{"error", "error_description"}``.
    """
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested absurdly deep
        return None, clip(response.text, secret) if response.text.strip() else ""
    if not isinstance(body, dict):
        return None, ""
    if isinstance(body.get("error"), str):
        return clip(body["error"], secret), clip(body.get("error_description") or "", secret)
    kind = clip(body["type"], secret) if isinstance(body.get("type"), str) else None
    detail = body.get("detail")
    if isinstance(detail, list):
        return kind or "validation", _validation_text(detail, secret)
    return kind, clip(detail, secret) if detail is not None else ""


def _validation_text(entries: list[Any], secret: str = "") -> str:
    """``body.size: Input should be …; body.name: Field required`` (first three)."""
    shown = []
    for entry in entries[:3]:
        if not isinstance(entry, dict):
            continue
        loc = entry.get("loc")
        where = ".".join(str(x) for x in loc) if isinstance(loc, list) else ""
        msg = entry.get("msg", "invalid")
        shown.append(clip(f"{where}: {msg}" if where else msg, secret))
    more = len(entries) - 3
    return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def raise_for_polar(response: httpx.Response, what: str, secret: str = "") -> NoReturn:
    """Raise the RemoteError for a failed Polar API answer (5xx and 429 are transient).

    ``secret`` (the token) is cut out of anything the server said.
    """
    check_transient(response, what)
    status = response.status_code
    kind, detail = polar_error_text(response, secret)
    said = f" ({detail})" if detail else ""
    if status == 401:
        raise RejectedError(
            f"{what}: Polar rejected the token{said}; check the account's token ({SCOPE_FIX})",
            status=status,
            code=kind,
        )
    if status == 403 and (kind == "insufficient_scope" or "scope" in detail.lower()):
        raise RejectedError(
            f"{what}: the token lacks files:write; {SCOPE_FIX}", status=status, code=kind
        )
    if status == 403:
        raise RejectedError(
            f"{what}: Polar said not permitted{said}; check that the token belongs to the "
            "file's organization",
            status=status,
            code=kind,
        )
    if status == 404:
        raise RejectedError(
            f"{what}: Polar has no such file{said}; it was deleted, so upload the file again",
            status=status,
            code=kind,
        )
    if status == 422:
        raise RejectedError(
            f"{what}: Polar refused the request: {detail or 'invalid'}", status=status, code=kind
        )
    label = f"{kind}: {detail}" if kind and detail else kind or detail
    raise RejectedError(
        f"{what}: Polar said {status}" + (f" ({label})" if label else ""), status=status, code=kind
    )
