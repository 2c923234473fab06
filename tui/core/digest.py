"""Fingerprints and provider digests of byte ranges, in one read.

Every read of a part goes through here or through ``transfer``; both read the file at an
offset in bounded chunks, so memory stays at one chunk whatever the part size. The
blocking work runs in a thread (``hash_range``); hashlib and xxhash release the GIL on
large buffers, so parts hash in parallel while the event loop keeps sending.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import xxhash

from tui.core import checksums
from tui.core.errors import LocalChanged, LocalFileError
from tui.core.model import Part

CHUNK = 1024 * 1024
"""Bytes read at a time; also the memory one part in flight holds."""

CRCS = frozenset({"crc64nvme", "crc32c", "crc32"})
"""S3's flexible checksums of the CRC family (``tui.core.checksums``)."""
ALGORITHMS = frozenset({"md5", "sha1", "sha256"}) | CRCS
"""Digests a provider may ask for, beside the xxh3_128 fingerprint every part gets."""


@dataclass(frozen=True)
class Digests:
    """The fingerprint and provider digests of one byte range, as lowercase hex."""

    xxh3: str
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    crcs: Mapping[str, str] = field(default_factory=dict)
    """The CRCs asked for, by name, as S3 writes them (base64 of the big-endian bytes)."""


def part_digest(part: Part, name: str) -> str | None:
    """The digest ``name`` of a part as recorded: its MD5, SHA-1 or SHA-256 (hex), or its
    checksum for one of S3's CRCs (the one its session was opened with)."""
    if name in CRCS:
        return part.checksum
    value: str | None = getattr(part, name)
    return value


def read_chunks(fd: int, start: int, end: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """Yield the bytes of ``[start, end)`` from an open file, ``chunk`` at a time.

    Raises LocalChanged when the file ends early (it shrank since it was planned).
    """
    offset = start
    while offset < end:
        data = os.pread(fd, min(chunk, end - offset), offset)
        if not data:
            raise LocalChanged(
                f"the file ended at byte {offset:,} but the part runs to {end:,}: it shrank "
                "since it was planned; start a new upload of the file as it is now"
            )
        offset += len(data)
        yield data


def local_file_error(path: str, exc: OSError, doing: str = "read") -> LocalFileError:
    """A one-line LocalFileError for an OS error met while ``doing`` something to ``path``."""
    if isinstance(exc, FileNotFoundError):
        return LocalFileError(f"{path}: no such file; check the path")
    if isinstance(exc, PermissionError):
        return LocalFileError(f"{path}: permission denied; make it readable by this user")
    return LocalFileError(f"{path}: {doing} failed ({exc.strerror}); check the file and the disk")


def check_readable(path: str) -> os.stat_result:
    """Stat a file that is about to be read; one-line LocalFileError when it cannot be."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise local_file_error(path, exc, "stat") from None
    if stat.S_ISDIR(info.st_mode):
        raise LocalFileError(f"{path} is a directory; give the files inside it")
    if not stat.S_ISREG(info.st_mode):
        raise LocalFileError(f"{path} is not a regular file (a pipe or device); copy it to a file")
    if not os.access(path, os.R_OK):
        raise LocalFileError(f"{path}: permission denied; make it readable by this user")
    return info


def open_for_read(path: str) -> int:
    """Open ``path`` read-only, mapping OS errors to one-line LocalFileErrors."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise local_file_error(path, exc, "open") from None


def hash_range(path: str, start: int, end: int, algorithms: Iterable[str] = ()) -> Digests:
    """Read ``[start, end)`` of ``path`` once; return xxh3_128 plus the named digests."""
    wanted = set(algorithms)
    unknown = wanted - ALGORITHMS
    if unknown:
        raise ValueError(f"unknown digest algorithms: {sorted(unknown)}")
    fingerprint = xxhash.xxh3_128()
    others: dict[str, Any] = {name: hashlib.new(name) for name in sorted(wanted - CRCS)}
    others.update({name: checksums.algorithm(name).new() for name in sorted(wanted & CRCS)})
    fd = open_for_read(path)
    try:
        for data in read_chunks(fd, start, end):
            fingerprint.update(data)
            for h in others.values():
                h.update(data)
    except OSError as exc:
        raise local_file_error(path, exc) from None
    finally:
        os.close(fd)
    return Digests(
        xxh3=fingerprint.hexdigest(),
        **{name: h.hexdigest() for name, h in others.items() if name not in CRCS},
        crcs={name: checksums.encode(others[name].digest()) for name in sorted(wanted & CRCS)},
    )


async def hash_range_async(
    path: str, start: int, end: int, algorithms: Iterable[str] = ()
) -> Digests:
    """``hash_range`` in a worker thread, so the event loop never waits on disk or hashing."""
    return await asyncio.to_thread(hash_range, path, start, end, tuple(algorithms))
