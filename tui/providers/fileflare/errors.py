"""What Fileflare's failures mean: its Laravel-style errors mapped to RemoteErrors."""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx

from tui.core.errors import CallUnsupported, RejectedError, RemoteError, TransientError
from tui.core.model import Part, Session
from tui.core.redact import redact
from tui.core.transfer import NOT_IMPLEMENTED, answer_text, retry_after
from tui.providers.fileflare.answers import load_json

MAX_SHOWN = 160
"""Characters of the server's own error text kept in a message."""
RATE_WAIT_CAP = 120.0
"""Longest single wait on a 429, whatever Retry-After says."""

NOT_FILEFLARE = "not-fileflare"
"""RemoteError code of a success status whose body is not Fileflare's answer."""


def shown_text(text: str) -> str:
    """The server's own words, safe and short enough for a one-line message."""
    text = redact(" ".join(text.split())).rstrip(".")
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def error_text(body: bytes) -> tuple[str | None, dict[str, list[str]]]:
    """(message, {field: [problems]}) of a Laravel-style JSON error answer."""
    data = load_json(body)
    if not isinstance(data, dict):
        return None, {}
    message = data.get("message")
    errors: dict[str, list[str]] = {}
    raw = data.get("errors")
    if isinstance(raw, dict):
        for field, problems in raw.items():
            items = problems if isinstance(problems, list) else [problems]
            errors[str(field)] = [p for p in items if isinstance(p, str)]
    return (message if isinstance(message, str) and message.strip() else None), errors


def _fields_sentence(message: str | None, errors: Mapping[str, list[str]]) -> str:
    """``name (The name field is required) and size (...)``, or the message alone."""
    named = [
        f"{shown_text(field)} ({shown_text(problems[0])})" if problems else shown_text(field)
        for field, problems in list(errors.items())[:4]
    ]
    if len(errors) > 4:
        named.append(f"{len(errors) - 4} more")
    if not named:
        return f"the request ({shown_text(message)})" if message else "the request"
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def error_for(response: httpx.Response, what: str) -> RemoteError:
    """The RemoteError for a failed Fileflare API answer; its message is one line."""
    status = response.status_code
    message, errors = error_text(answer_text(response).encode())  # a quoted token cut out
    said = f" (Fileflare said: {shown_text(message)})" if message else ""
    if status == 429:
        wait = retry_after(response)
        limit = response.headers.get("X-RateLimit-Limit", "60")
        when = f"waiting {wait:.0f}s" if wait is not None else "waiting"
        return TransientError(
            f"{what}: rate limited by Fileflare ({shown_text(limit)} requests a minute); {when} "
            "before trying again",
            status=status,
            retry_after=wait,
        )
    if status in NOT_IMPLEMENTED:
        return CallUnsupported(
            f"{what}: Fileflare does not support this request (HTTP {status}){said}; asking "
            "again will not help: check the account's base_url",
            status=status,
        )
    if status >= 500 or status == 408:
        return TransientError(
            f"{what}: Fileflare server error {status}{said}; will retry", status=status
        )
    if status == 401:
        return RejectedError(
            f"{what}: Fileflare rejected the API key{said}; check the account's token or make "
            "a new API key in Fileflare",
            status=status,
            code="unauthenticated",
        )
    if status == 402:
        return RejectedError(
            f"{what}: Fileflare storage quota is full: delete files or upgrade the plan{said}",
            status=status,
            code="quota",
        )
    if status == 403:
        return RejectedError(
            f"{what}: Fileflare denied access{said}; check the API key's permissions",
            status=status,
            code="forbidden",
        )
    if status == 404:
        return RejectedError(
            f"{what}: Fileflare no longer has this asset{said}; it was cancelled or never "
            "made, so upload the file again",
            status=status,
            code="not_found",
        )
    if status == 422:
        return RejectedError(
            f"{what}: Fileflare refused {_fields_sentence(message, errors)}",
            status=status,
            code="invalid",
        )
    return RejectedError(f"{what}: Fileflare said HTTP {status}{said}", status=status)


def rate_wait(exc: TransientError) -> float:
    """Seconds to wait after a 429: its Retry-After (capped), else a guess of 5 s."""
    return min(exc.retry_after if exc.retry_after is not None else 5.0, RATE_WAIT_CAP)


_CALL_NAME = re.compile(r"^[a-z ]{1,20}: ")
"""The name of the call a network error's message starts with."""


def cause(exc: RemoteError) -> str:
    """A few words on why a call had no clear answer, for a later message."""
    if exc.status == 429:
        return "rate limited"
    if exc.code == NOT_FILEFLARE:
        return f"an HTTP {exc.status} answer that is not Fileflare's"
    if exc.status:
        return f"HTTP {exc.status}"
    return _CALL_NAME.sub("", exc.settled)  # "complete: the connection was reset (host)"


def expired_message(session: Session, part: Part) -> str:
    """What a part whose link has died says: the link cannot be renewed, start over."""
    short = session.id[:8]
    return (
        f"part {part.number}: its Fileflare upload link expired (links last 12 h) and "
        f"cannot be renewed: abort with partdeck abort {short} and upload the file again"
    )
