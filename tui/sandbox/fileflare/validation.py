"""Laravel's validation of Fileflare's request bodies and queries, by hand."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from tui.sandbox.fileflare.assets import Asset
from tui.sandbox.fileflare.errors import ApiError, invalid

MAX_BODY = 8 * 1024 * 1024
"""Request bodies above this are refused (a complete of 10,000 parts is ~600 KB)."""


def _whole(value: Any) -> int | None:
    """A JSON integer (not a bool), or a string of digits as Laravel's rule accepts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


class Rules:
    """Collects Laravel validation messages for one request body."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, field: str, text: str) -> None:
        """Record one problem with ``field``."""
        self.errors.setdefault(field, []).append(text)

    def string(self, field: str, value: Any, max_length: int = 255) -> str | None:
        """required|string|max."""
        if value is None or value == "":
            self.fail(field, f"The {field} field is required.")
        elif not isinstance(value, str):
            self.fail(field, f"The {field} field must be a string.")
        elif len(value) > max_length:
            self.fail(field, f"The {field} field must not be greater than {max_length} characters.")
        else:
            return value
        return None

    def integer(self, field: str, value: Any, minimum: int) -> int | None:
        """required|integer|min."""
        number = _whole(value)
        if value is None or value == "":
            self.fail(field, f"The {field} field is required.")
        elif number is None:
            self.fail(field, f"The {field} field must be an integer.")
        elif number < minimum:
            self.fail(field, f"The {field} field must be at least {minimum}.")
        else:
            return number
        return None

    def check(self) -> None:
        """Raise the 422 if anything failed."""
        if self.errors:
            raise invalid(self.errors)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else counts as empty input, as in Laravel."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "Request Entity Too Large")
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def check_upload_id(rules: Rules, body: dict[str, Any], asset: Asset) -> None:
    """``upload_id``: required, and the asset's own."""
    upload_id = rules.string("upload_id", body.get("upload_id"))
    if upload_id is not None and upload_id != asset.upload_id:
        rules.fail("upload_id", "The selected upload id is invalid.")


def parse_parts(rules: Rules, raw: Any) -> list[dict[str, Any]]:
    """``parts``: required array of {ETag, PartNumber}; ETags quoted for S3 either way."""
    if not isinstance(raw, list) or not raw:
        rules.fail("parts", "The parts field is required.")
        return []
    parts: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        entry = item if isinstance(item, dict) else {}
        etag = rules.string(f"parts.{i}.ETag", entry.get("ETag"), 1024)
        number = rules.integer(f"parts.{i}.PartNumber", entry.get("PartNumber"), 1)
        if etag is not None and number is not None:
            parts.append({"PartNumber": number, "ETag": f'"{etag.strip().strip(chr(34))}"'})
    return parts
