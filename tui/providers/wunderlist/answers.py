"""Wunderlist's answers read defensively: the Upload resource and its part credentials."""

from __future__ import annotations

import base64
import email.utils
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from tui.core.errors import RejectedError, TransientError
from tui.core.redact import redact

SIGNATURE_SKEW = 15 * 60
"""Seconds S3 accepts a SigV2 request after its date: the life of part credentials
that come without ``expires_at``."""
MAX_TEXT = 200
"""Longest piece of server text quoted in a message."""
MAX_HEADER = 4096
"""Longest credential value accepted as a header."""

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")


@dataclass(frozen=True)
class PartCredentials:
    """What Wunderlist hands out for one part: where to PUT it and the signed headers."""

    number: int
    url: str
    date: str
    """RFC 1123 date, sent as ``x-amz-date`` (it is signed)."""
    authorization: str
    """``AWS KEY:SIGNATURE`` (SigV2)."""
    expires_at: float | None
    md5: str | None = None
    """Hex MD5 signed in as Content-MD5, or None when the credentials sign none."""

    def headers(self) -> dict[str, str]:
        """The PUT headers, exactly as signed: SigV2 signs Content-Type and Content-MD5."""
        headers = {
            # Forced empty: any other value breaks the signature (Wunderlist's docs).
            "Content-Type": "",
            "Authorization": self.authorization,
            "x-amz-date": self.date,
        }
        if self.md5:
            headers["Content-MD5"] = base64.b64encode(bytes.fromhex(self.md5)).decode()
        return headers

    def as_remote(self) -> dict[str, Any]:
        """A JSON-ready copy for the journal."""
        return {
            "number": self.number,
            "url": self.url,
            "date": self.date,
            "authorization": self.authorization,
            "expires_at": self.expires_at,
            "md5": self.md5,
        }

    @classmethod
    def from_remote(cls, data: Any) -> PartCredentials | None:
        """The stored copy back, or None when the journal holds something else."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(
                number=int(data["number"]),
                url=str(data["url"]),
                date=str(data["date"]),
                authorization=str(data["authorization"]),
                expires_at=_float_or_none(data.get("expires_at")),
                md5=str(data["md5"]) if data.get("md5") else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class UploadAnswer:
    """An Upload resource as Wunderlist returns it from create and parts."""

    id: str
    user_id: str | None
    state: str | None
    part: PartCredentials


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def quote_text(value: Any) -> str:
    """Server text fit for a one-line message: no secrets, no line breaks, not too long."""
    text = " ".join(redact(str(value)).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def read_json(response: httpx.Response, what: str) -> Any:
    """The JSON body of a successful answer; TransientError when it is not JSON."""
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        raise TransientError(
            f"{what}: Wunderlist's answer is not JSON (status {response.status_code}); will retry"
        ) from None


def odd_answer(what: str, detail: str) -> RejectedError:
    """The refusal of an answer that is not the shape Wunderlist sends."""
    return RejectedError(f"{what}: Wunderlist's answer is not what it sends ({detail})")


def _upload_id(value: Any, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _ID.match(value):
        return value
    raise odd_answer(what, "no usable upload id")


def parse_time(value: Any) -> float | None:
    """Unix time of an ISO-8601 ``expires_at`` (UTC when no zone is given), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def _rfc1123(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


def _header_value(part: Mapping[str, Any], name: str, what: str) -> str:
    value = part.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_HEADER:
        raise odd_answer(what, f"part.{name} is missing")
    if not _PRINTABLE.match(value):
        raise odd_answer(what, f"part.{name} is not a valid header value")
    return value


def _part_url(part: Mapping[str, Any], number: int, what: str) -> str:
    value = part.get("url")
    if not isinstance(value, str) or not value or len(value) > 8192:
        raise odd_answer(what, "part.url is missing")
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise odd_answer(what, "part.url is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise odd_answer(what, "part.url is not an http(s) URL")
    # A link for another part would put these bytes in the wrong place of the file.
    given = parse_qs(url.query.decode("ascii", "replace")).get("partNumber")
    if given and given[0] != str(number):
        raise odd_answer(what, f"the link is for part {quote_text(given[0])}, not part {number}")
    return value


def parse_upload(body: Any, what: str, number: int, md5: str | None = None) -> UploadAnswer:
    """An Upload answer with the credentials for part ``number`` (signed with ``md5``)."""
    if not isinstance(body, Mapping):
        raise odd_answer(what, "not a JSON object")
    upload_id = _upload_id(body.get("id"), what)
    part = body.get("part")
    if not isinstance(part, Mapping):
        raise odd_answer(what, "no part credentials")
    url = _part_url(part, number, what)
    date = _header_value(part, "date", what)
    authorization = _header_value(part, "authorization", what)
    expires_at = parse_time(body.get("expires_at"))
    if expires_at is None:
        # S3 refuses a SigV2 request dated more than 15 minutes off its clock.
        signed = _rfc1123(date)
        expires_at = signed + SIGNATURE_SKEW if signed is not None else None
    user = body.get("user_id")
    state = body.get("state")
    return UploadAnswer(
        id=upload_id,
        user_id=quote_text(user) if isinstance(user, int | str) and str(user) else None,
        state=state if isinstance(state, str) else None,
        part=PartCredentials(number, url, date, authorization, expires_at, md5),
    )


def parse_finished(body: Any, what: str) -> None:
    """Return when the answer says the upload is finished; else RejectedError."""
    if not isinstance(body, Mapping):
        raise odd_answer(what, "not a JSON object")
    state = body.get("state")
    if state != "finished":
        shown = quote_text(state) if isinstance(state, str) else "none"
        raise RejectedError(
            f"{what}: Wunderlist answered state {shown!r} instead of finished; run partdeck "
            "complete again, or upload the file again if it persists"
        )
