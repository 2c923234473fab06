"""What the Box emulator holds in memory: folders, upload sessions and their parts, files."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MiB = 1024**2
GiB = 1024**3
MIN_SIZE = 20 * MiB
"""Box says "20MB"; its SDK's test uses 20 MiB: the sandbox takes the stricter reading."""
MAX_PARTS = 10_000
SESSION_LIFETIME = 7 * 86_400
"""Seconds an upload session lives."""
ROOT_FOLDER = "0"


def part_size_for(size: int) -> int:
    """The part size this sandbox gives a session for a file of ``size`` bytes."""
    if size < 512 * MiB:
        part = 8 * MiB
    elif size <= 8 * GiB:
        part = 32 * MiB
    else:
        part = 64 * MiB
    fitting = -(-size // MAX_PARTS)
    if part < fitting:
        part = -(-fitting // MiB) * MiB
    return part


def iso(when: float) -> str:
    """Box's timestamp form, ``2026-11-28T10:53:43+00:00``."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


@dataclass
class StoredPart:
    """A part Box holds for a session."""

    part_id: str
    offset: int
    size: int
    sha1: str
    """Hex, as Box reports it."""
    data: bytes

    def as_json(self, sha1: str | None = None) -> dict[str, Any]:
        """The UploadPart object."""
        return {
            "part_id": self.part_id,
            "offset": self.offset,
            "size": self.size,
            "sha1": sha1 or self.sha1,
        }


@dataclass
class UploadSession:
    """One chunked upload session."""

    id: str
    folder_id: str
    file_name: str
    file_size: int
    part_size: int
    expires_at: float
    parts: dict[int, StoredPart] = field(default_factory=dict)
    """By byte offset."""

    @property
    def total_parts(self) -> int:
        """ceil(file_size / part_size)."""
        return -(-self.file_size // self.part_size)

    def endpoints(self, upload_root: str) -> dict[str, str]:
        """The session's ``session_endpoints``, under the emulator's ``upload_root``."""
        base = f"{upload_root}/files/upload_sessions/{self.id}"
        return {
            "upload_part": base,
            "commit": f"{base}/commit",
            "abort": base,
            "list_parts": f"{base}/parts",
            "status": base,
            "log_event": f"{base}/log",
        }

    def as_json(self, upload_root: str) -> dict[str, Any]:
        """The UploadSession object."""
        return {
            "id": self.id,
            "type": "upload_session",
            "session_expires_at": iso(self.expires_at),
            "part_size": self.part_size,
            "total_parts": self.total_parts,
            "num_parts_processed": len(self.parts),
            "session_endpoints": self.endpoints(upload_root),
        }


@dataclass
class BoxFile:
    """A committed file."""

    id: str
    name: str
    folder_id: str
    data: bytes
    sha1: str
    created_at: float

    def as_json(self, fields: set[str] | None = None) -> dict[str, Any]:
        """The File object (with only ``fields`` beside type, id and etag when asked)."""
        full: dict[str, Any] = {
            "type": "file",
            "id": self.id,
            "etag": "0",
            "sequence_id": "0",
            "name": self.name,
            "sha1": self.sha1,
            "size": len(self.data),
            "created_at": iso(self.created_at),
            "parent": {"type": "folder", "id": self.folder_id},
        }
        if fields is None:
            return full
        return {k: v for k, v in full.items() if k in fields or k in ("type", "id", "etag")}


@dataclass
class BoxStore:
    """Everything the emulator holds: folders, sessions, committed files."""

    folders: dict[str, str] = field(default_factory=lambda: {ROOT_FOLDER: "All Files"})
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    files: dict[str, BoxFile] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_001))

    def new_file_id(self) -> str:
        """Box file ids are numeric strings."""
        return str(next(self._ids))

    def named(self, folder_id: str, name: str) -> BoxFile | None:
        """The file called ``name`` in a folder, if any (Box compares names case-blind)."""
        for f in self.files.values():
            if f.folder_id == folder_id and f.name.lower() == name.lower():
                return f
        return None

    def used(self) -> int:
        """Bytes held in committed files."""
        return sum(len(f.data) for f in self.files.values())

    def live_session(self, session_id: str, clock: Callable[[], float]) -> UploadSession | None:
        """The session unless it has expired by ``clock``; an expired one is dropped."""
        s = self.sessions.get(session_id)
        if s is not None and clock() >= s.expires_at:
            del self.sessions[session_id]  # expired: its parts are discarded
            return None
        return s
