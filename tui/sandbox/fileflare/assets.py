"""The emulated store: one asset per upload, its S3 multipart upload, and its part URLs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tui.sandbox.backend import S3Backend

CHUNK_SIZE = 100_000_000
"""The chunk size of the reference example."""
LINK_LIFETIME = 43_200
"""X-Amz-Expires of every part URL: 12 hours."""


@dataclass
class Asset:
    """One file asset and its S3 multipart upload."""

    id: str
    name: str
    size: int
    mime: str
    key: str
    upload_id: str
    file_url: str
    state: str = "signed"
    """``signed``, ``uploaded`` or ``cancelled`` (cancelled ones answer 404)."""
    completes: int = 0
    """``/uploaded`` calls received."""

    def listed(self) -> dict[str, Any]:
        """The asset as ``GET /assets`` and ``GET /assets/{asset}`` show it."""
        return {
            "id": self.id,
            "filename": self.name,
            "size": self.size,
            "is_file": True,
            "is_link": False,
            "url": None,
        }

    def public(self) -> dict[str, Any]:
        """The asset as the API shows it."""
        return {
            "id": self.id,
            "type": "file",
            "name": self.name,
            "size": self.size,
            "mime": self.mime,
            "file_url": self.file_url,
            "status": self.state,
        }


def chunk_ranges(size: int, chunk: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each part of a ``size``-byte file cut at ``chunk`` bytes."""
    return [(start, min(start + chunk, size)) for start in range(0, size, chunk)]


async def presign_parts(backend: S3Backend, key: str, upload_id: str, count: int) -> list[str]:
    """The UploadPart URLs of parts 1 to ``count``, each for LINK_LIFETIME seconds."""

    def presign() -> list[str]:
        return [backend.presign_part(key, upload_id, n, LINK_LIFETIME) for n in range(1, count + 1)]

    # Thousands of signatures are real CPU work: keep them off the loop.
    return await asyncio.to_thread(presign)
