"""Polar's request schemas, checked by hand: only what the emulator reads.

Each check fails as pydantic would, with the same error entries, so a client sees
FastAPI's 422 exactly as Polar sends it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from starlette.requests import Request

from tui.sandbox.polar.errors import Invalid, entry

MAX_PARTS = 10_000
SERVICES = ("downloadable", "product_media", "organization_avatar", "support_case_attachment")
_IMAGES = r"^image\/(jpeg|png|gif|webp|svg\+xml)$"
_SUPPORT = (
    r"^(image\/(jpeg|png|gif|webp)|video\/(mp4|quicktime|webm)|application\/pdf"
    r"|text\/(csv|plain)|application\/msword"
    r"|application\/vnd\.openxmlformats-officedocument\.wordprocessingml\.document"
    r"|application\/vnd\.ms-excel"
    r"|application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet)$"
)
SERVICE_RULES: dict[str, tuple[str, int]] = {
    "product_media": (_IMAGES, 10 * 1024 * 1024),
    "organization_avatar": (_IMAGES, 1 * 1024 * 1024),
    "support_case_attachment": (_SUPPORT, 250 * 1024 * 1024),
}
"""Service -> (mime pattern, largest size); ``downloadable`` takes anything."""


def _get(
    data: dict[str, Any],
    name: str,
    kind: type,
    loc: list[Any],
    errors: list[dict[str, Any]],
    *,
    required: bool = True,
) -> Any:
    """``data[name]`` if it is of ``kind`` (None allowed when not required), else an error."""
    where = [*loc, name]
    if name not in data:
        if required:
            errors.append(entry("missing", where, "Field required", data))
        return None
    value = data[name]
    if value is None and not required:
        return None
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        errors.append(entry("int_type", where, "Input should be a valid integer", value))
        return None
    if kind is str and not isinstance(value, str):
        errors.append(entry("string_type", where, "Input should be a valid string", value))
        return None
    if kind is list and not isinstance(value, list):
        errors.append(entry("list_type", where, "Input should be a valid list", value))
        return None
    if kind is dict and not isinstance(value, dict):
        errors.append(_not_object(where, value))
        return None
    return value


def _not_object(loc: list[Any], value: Any) -> dict[str, Any]:
    return entry(
        "model_attributes_type",
        loc,
        "Input should be a valid dictionary or object to extract fields from",
        value,
    )


def _object(body: Any, loc: list[Any]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid([_not_object(loc, body)])
    return body


def parse_create(body: Any) -> dict[str, Any]:
    """A FileCreate body, checked as Polar's discriminated schema checks it."""
    data = _object(body, ["body"])
    service = data.get("service")
    if "service" not in data:
        raise Invalid(
            [
                entry(
                    "union_tag_not_found",
                    ["body"],
                    "Unable to extract tag using discriminator 'service'",
                    data,
                )
            ]
        )
    if service not in SERVICES:
        tags = ", ".join(f"'{s}'" for s in SERVICES)
        raise Invalid(
            [
                entry(
                    "union_tag_invalid",
                    ["body"],
                    f"Input tag '{service}' found using 'service' does not match any of the "
                    f"expected tags: {tags}",
                    data,
                )
            ]
        )
    loc: list[Any] = ["body", service]
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {"service": service}
    out["organization_id"] = _get(data, "organization_id", str, loc, errors, required=False)
    out["name"] = _get(data, "name", str, loc, errors)
    out["mime_type"] = _get(data, "mime_type", str, loc, errors)
    out["size"] = _get(data, "size", int, loc, errors)
    out["checksum_sha256_base64"] = _get(
        data, "checksum_sha256_base64", str, loc, errors, required=False
    )
    out["version"] = _get(data, "version", str, loc, errors, required=False)
    _check_service_rules(service, out, loc, errors)
    upload = _get(data, "upload", dict, loc, errors)
    out["parts"] = _parse_create_parts(upload, [*loc, "upload"], errors) if upload else []
    if errors:
        raise Invalid(errors)
    return out


def _check_service_rules(
    service: str, out: dict[str, Any], loc: list[Any], errors: list[dict[str, Any]]
) -> None:
    rule = SERVICE_RULES.get(service)
    if rule is None:
        return
    pattern, largest = rule
    mime, size = out.get("mime_type"), out.get("size")
    if isinstance(mime, str) and not re.match(pattern, mime):
        errors.append(
            entry(
                "string_pattern_mismatch",
                [*loc, "mime_type"],
                f"String should match pattern '{pattern}'",
                mime,
            )
        )
    if isinstance(size, int) and size > largest:
        errors.append(
            entry(
                "less_than_equal",
                [*loc, "size"],
                f"Input should be less than or equal to {largest}",
                size,
            )
        )


def _parse_create_parts(
    upload: dict[str, Any], loc: list[Any], errors: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    raw = _get(upload, "parts", list, loc, errors)
    if raw is None:
        return []
    if len(raw) > MAX_PARTS:
        errors.append(
            entry(
                "too_long",
                [*loc, "parts"],
                f"List should have at most {MAX_PARTS} items after validation, not {len(raw)}",
                raw,
            )
        )
        return []
    parts = []
    for index, item in enumerate(raw):
        where = [*loc, "parts", index]
        if not isinstance(item, dict):
            errors.append(_not_object(where, item))
            continue
        parts.append(
            {
                "number": _get(item, "number", int, where, errors),
                "chunk_start": _get(item, "chunk_start", int, where, errors),
                "chunk_end": _get(item, "chunk_end", int, where, errors),
                "checksum_sha256_base64": _get(
                    item, "checksum_sha256_base64", str, where, errors, required=False
                ),
            }
        )
    return parts


def parse_uploaded(body: Any) -> dict[str, Any]:
    """A FileUploadCompleted body: ``id``, ``path`` and every part's ETag and checksum."""
    data = _object(body, ["body"])
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "id": _get(data, "id", str, ["body"], errors),
        "path": _get(data, "path", str, ["body"], errors),
    }
    raw = _get(data, "parts", list, ["body"], errors) or []
    parts = []
    for index, item in enumerate(raw):
        where: list[Any] = ["body", "parts", index]
        if not isinstance(item, dict):
            errors.append(_not_object(where, item))
            continue
        etag = _get(item, "checksum_etag", str, where, errors)
        # ``checksum_sha256_base64: str | None`` has no default: the key is required.
        if "checksum_sha256_base64" not in item:
            errors.append(
                entry("missing", [*where, "checksum_sha256_base64"], "Field required", item)
            )
        parts.append(
            {
                "number": _get(item, "number", int, where, errors),
                "checksum_etag": etag.strip() if isinstance(etag, str) else etag,
                "checksum_sha256_base64": _get(
                    item, "checksum_sha256_base64", str, where, errors, required=False
                ),
            }
        )
    out["parts"] = parts
    if errors:
        raise Invalid(errors)
    return out


def parse_uuid(value: str, loc: list[Any]) -> str:
    """A UUID path or query value, or the 422 FastAPI gives for it."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid(
            [
                entry(
                    "uuid_parsing",
                    loc,
                    "Input should be a valid UUID, invalid character: expected an optional "
                    "prefix of `urn:uuid:` followed by [0-9a-fA-F-], found something else",
                    value,
                )
            ]
        ) from None


def query_int(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    """Query value ``name`` as an integer in ``low..high`` (``default`` if absent), or a 422."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    loc = ["query", name]
    try:
        value = int(raw)
    except ValueError:
        raise Invalid([entry("int_parsing", loc, "Input should be a valid integer", raw)]) from None
    if value < low:
        raise Invalid([entry("greater_than", loc, f"Input should be greater than {low - 1}", raw)])
    if high is not None and value > high:
        raise Invalid(
            [entry("less_than_equal", loc, f"Input should be less than or equal to {high}", raw)]
        )
    return value


async def json_body(request: Request) -> Any:
    """The request's JSON body, or FastAPI's 422 for one that is not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Invalid(
            [entry("json_invalid", ["body", 0], "JSON decode error", {"error": str(exc)})]
        ) from None
