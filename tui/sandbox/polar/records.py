"""The emulated store: one record per file, as Polar's ``files`` table holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tui.sandbox.context import EmulatorContext

PUBLIC_SERVICES = ("product_media", "organization_avatar")


@dataclass
class FileRecord:
    """One row of Polar's ``files`` table, with the S3 upload behind it."""

    id: str
    organization_id: str
    name: str
    path: str
    mime_type: str
    size: int
    service: str
    version: str | None
    upload_id: str
    created_at: float
    part_checksums: dict[int, str | None] = field(default_factory=dict)
    """The per-part SHA-256 (base64) given at create, signed into each part URL."""
    checksum_sha256_base64: str | None = None
    checksum_sha256_hex: str | None = None
    is_uploaded: bool = False
    checksum_etag: str | None = None
    last_modified_at: float | None = None
    deleted: bool = False
    swept: bool = False
    """The lifecycle rule has aborted its multipart upload."""


def iso(timestamp: float) -> str:
    """A UTC timestamp as Polar's API writes datetimes."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def human_readable_size(size: float) -> str:
    """Polar's ``size_readable``: ``12.0 MB`` (binary steps)."""
    for unit in ("", "K", "M", "G", "T", "P", "E", "Z"):
        if abs(size) < 1024.0:
            return f"{size:3.1f} {unit}B"
        size /= 1024.0
    return f"{size:.1f} YB"


def file_read(record: FileRecord, ctx: EmulatorContext) -> dict[str, Any]:
    """FileRead: the record as ``GET``, ``/uploaded`` and the list show it."""
    out: dict[str, Any] = {
        "id": record.id,
        "organization_id": record.organization_id,
        "name": record.name,
        "path": record.path,
        "mime_type": record.mime_type,
        "size": record.size,
        "storage_version": None,
        "checksum_etag": record.checksum_etag,
        "checksum_sha256_base64": record.checksum_sha256_base64,
        "checksum_sha256_hex": record.checksum_sha256_hex,
        "last_modified_at": iso(record.last_modified_at) if record.last_modified_at else None,
        "version": record.version,
        "service": record.service,
        "is_uploaded": record.is_uploaded,
        "created_at": iso(record.created_at),
        "size_readable": human_readable_size(record.size),
    }
    if record.service in PUBLIC_SERVICES:
        backend = ctx.require_backend()
        out["public_url"] = f"{backend.public_url}/{backend.bucket}/{record.path}"
    return out
