"""Keep secrets out of anything people or logs see."""

from __future__ import annotations

import re

_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*")
_AUTH_WORDS = re.compile(
    r"(?i)\b(authorization|x-access-token|x-amz-security-token|x-amz-signature|signature|"
    r"access_token|token)([\"']?\s*[:=]\s*[\"']?)(bearer\s+|aws4?-hmac-sha256\s+|aws\s+)?[^\s\"',&]+"
)


def redact(text: str) -> str:
    """Drop URL query strings (where signatures live) and values after auth-like words."""
    text = _URL_QUERY.sub(r"\1?…", text)
    return _AUTH_WORDS.sub(lambda m: f"{m.group(1)}{m.group(2)}…", text)


def url_for_people(url: str) -> str:
    """A URL without its query string: safe to show, log or journal in events."""
    return url.split("?", 1)[0]
