"""What the file browser lists: a directory's entries, and why some cannot be uploaded."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One line of the listing."""

    path: Path
    name: str
    is_dir: bool
    size: int | None
    """Bytes for regular files; None for anything else."""
    mtime_ns: int = 0
    note: str = ""
    """Why it cannot be uploaded (a FIFO, a device, unreadable), when it cannot."""


def list_directory(directory: Path) -> list[Entry]:
    """Directories first, then files, by name; non-regular files say why they cannot go."""
    entries: list[Entry] = []
    with os.scandir(directory) as found:
        for item in found:
            path = Path(item.path)
            try:
                info = item.stat()
            except OSError as exc:
                entries.append(
                    Entry(path, item.name, False, None, note=f"cannot stat: {exc.strerror}")
                )
                continue
            if stat.S_ISDIR(info.st_mode):
                entries.append(Entry(path, item.name, True, None))
            elif stat.S_ISREG(info.st_mode):
                note = "" if os.access(path, os.R_OK) else "permission denied"
                entries.append(Entry(path, item.name, False, info.st_size, info.st_mtime_ns, note))
            else:
                kind = (
                    "a FIFO"
                    if stat.S_ISFIFO(info.st_mode)
                    else "a device"
                    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket"
                    if stat.S_ISSOCK(info.st_mode)
                    else "not a regular file"
                )
                entries.append(Entry(path, item.name, False, None, note=f"{kind}, not a file"))
    entries.sort(key=lambda e: (not e.is_dir, e.name.lower()))
    return entries
