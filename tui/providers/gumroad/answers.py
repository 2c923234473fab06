"""Gumroad's answers read without I/O: JSON bodies, its own words, presign's part links."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

import httpx

from tui.core.redact import redact

MAX_TEXT = 200
"""Characters of the server's own error text kept in a message."""


def _is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http may reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def link_problem(url: object) -> str | None:
    """Why a part link cannot be used, or None: it must be https (http only on loopback)."""
    if not isinstance(url, str) or not url:
        return "has no link"
    try:
        # Judged as httpx reads it, since httpx sends it (urlsplit would strip a space
        # around it that httpx keeps, and read another scheme than the one sent).
        parsed = httpx.URL(url)
        host = parsed.host
    except (ValueError, httpx.InvalidURL):
        return "has a malformed link"
    if not host:
        return "has a link without a host"
    if parsed.scheme == "https" or (parsed.scheme == "http" and _is_loopback(host)):
        return None
    return "has a link that is not https"


def clean(text: str, secret: str = "") -> str:
    """The server's text made safe and short for a one-line message (``secret`` cut out)."""
    if secret:
        text = text.replace(secret, "…")
    text = " ".join(redact(text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def no_such_upload(response: httpx.Response) -> bool:
    """True when Gumroad's error passes on S3's NoSuchUpload (its code or its text)."""
    error = (json_object(response) or {}).get("error")
    if not isinstance(error, str):
        return False
    text = error.lower()
    return "nosuchupload" in text or "specified upload does not exist" in text


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is anything else."""
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def server_text(body: Mapping[str, Any] | None, secret: str = "") -> str | None:
    """Gumroad's own words: ``error`` (files API), ``message`` (the rest), OAuth's
    ``error_description``."""
    if body is None:
        return None
    for name in ("error_description", "error", "message"):
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return clean(value, secret)
    return None


def links_problem(raw: object, expected: int) -> str | None:
    """What is wrong with presign's part list, or None: exactly 1..N, in order, usable."""
    if not isinstance(raw, list):
        return "has no list of part links"
    if len(raw) != expected:
        return f"lists {len(raw)} part link(s) for a file of {expected} part(s)"
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            return f"has a malformed entry for part {n}"
        number = item.get("part_number")
        if type(number) is not int or number != n:
            return f"lists part links out of order (expected part {n} in place {n})"
        problem = link_problem(item.get("presigned_url"))
        if problem is not None:
            return f"for part {n} {problem}"
    return None
