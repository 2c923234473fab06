"""Keep secrets out of anything people or logs see."""

from __future__ import annotations

import logging
import re
from typing import Any

_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*")
_SECRET_WORDS = (
    r"authorization|x-access-token|x-amz-security-token|x-amz-signature|signature|"
    r"access_token|refresh_token|id_token|client_secret|api_key|apikey|password|secret|token"
)
_AUTH_VALUES = re.compile(
    rf"(?i)(?<![A-Za-z0-9])({_SECRET_WORDS})([\"']?\s*[:=]\s*[\"']?)"
    r"(bearer\s+|aws4?-hmac-sha256\s+|aws\s+)?[^\s\"',&}]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',&}]+")
_SECRET_KEY = re.compile(rf"(?i)(^|[_-])({_SECRET_WORDS})$")


def redact(text: str) -> str:
    """Drop URL query strings (where signatures live), values after auth-like words, and
    bare bearer tokens."""
    text = _URL_QUERY.sub(r"\1?…", text)
    text = _AUTH_VALUES.sub(lambda m: f"{m.group(1)}{m.group(2)}…", text)
    return _BEARER.sub(r"\1 …", text)


def redact_data(value: Any, key: str = "") -> Any:
    """``redact`` every string inside a JSON-like value; blank values under secret keys."""
    if key and _SECRET_KEY.search(key) and value is not None:
        return "…"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def url_for_people(url: str) -> str:
    """A URL without its query string: safe to show, log or journal in events."""
    return url.split("?", 1)[0]


class RedactingFormatter(logging.Formatter):
    """Log lines with URL signatures and tokens cut out."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
