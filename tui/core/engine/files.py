"""The local file under a session: that it is still the file planned, and its digests.

Every read runs in a thread; a part's fingerprint (xxh3) and the digests its provider
checks come from one pass over its bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tui.core.digest import check_readable, hash_range_async, part_digest
from tui.core.engine.events import Events
from tui.core.engine.live import LiveSession
from tui.core.engine.messages import format_numbers
from tui.core.errors import LocalChanged
from tui.core.model import Part, PartState

P = PartState


class LocalFile:
    """Checks a session's file against its plan and hashes what the provider needs."""

    def __init__(self, events: Events) -> None:
        self._events = events

    async def check_local(self, live: LiveSession) -> None:
        """Refuse to go on when the file is not the one planned; re-verify if only touched."""
        session = live.session
        info = await asyncio.to_thread(check_readable, session.path)
        if info.st_size == session.size and info.st_mtime_ns == session.mtime_ns:
            return
        if info.st_size != session.size:
            raise LocalChanged(
                f"{session.path}: size is now {info.st_size:,} bytes, was {session.size:,} when "
                "planned; start a new upload of the file as it is now"
            )
        mismatched = await self.verify_parts(live, [p for p in live.parts.values() if p.xxh3])
        if mismatched:
            raise LocalChanged(
                f"{session.path}: part(s) {format_numbers(mismatched)} no longer match their "
                "fingerprints; start a new upload of the file as it is now"
            )
        session.mtime_ns = info.st_mtime_ns
        await self._events.commit(session=session)

    async def check_unchanged(self, live: LiveSession) -> None:
        """Raise LocalChanged when the file's size or modification time moved."""
        session = live.session
        info = await asyncio.to_thread(check_readable, session.path)
        if info.st_size != session.size or info.st_mtime_ns != session.mtime_ns:
            raise LocalChanged(
                f"{session.path} changed while it was being uploaded (size or modification "
                "time); nothing more is sent. Run partdeck verify, or start a new upload"
            )

    async def hash_file(self, live: LiveSession) -> None:
        """One sequential pass for the whole-file digests the provider needs."""
        session = live.session
        wanted = live.provider.file_digests
        digests = await hash_range_async(session.path, 0, session.size, wanted)
        await self.check_unchanged(live)
        for name in wanted:
            value = getattr(digests, name)
            if value:
                session.digests[name] = value
        await self._events.commit(session=session)

    async def ensure_file_digests(self, live: LiveSession) -> None:
        """Wait for (or run) the whole-file pass before completing."""
        if live.file_hash is not None and not live.file_hash.done():
            await live.file_hash
        if not live.session.digests.keys() >= live.provider.file_digests:
            await self.hash_file(live)

    async def verify_parts(self, live: LiveSession, parts: Sequence[Part]) -> list[int]:
        """Numbers of the ``parts`` whose bytes no longer match their fingerprints."""
        bad: list[int] = []
        for part in parts:
            digests = await hash_range_async(live.session.path, part.start, part.end)
            if digests.xxh3 != part.xxh3:
                bad.append(part.number)
        return bad

    async def hash_all(self, live: LiveSession) -> None:
        """Hash every part that lacks a digest, in order."""
        for part in sorted(live.parts.values(), key=lambda p: p.number):
            if not self.needs_hash(live, part):
                continue
            await self.hash(live, part)

    @staticmethod
    def needs_hash(live: LiveSession, part: Part) -> bool:
        """True when ``part`` lacks its fingerprint or a digest its provider checks."""
        wanted = live.provider.part_digests(live.session)
        return part.xxh3 is None or any(part_digest(part, d) is None for d in wanted)

    async def hash(self, live: LiveSession, part: Part) -> None:
        """Fingerprint ``part`` and take the digests its provider checks, then commit."""
        await self.check_unchanged(live)
        state = part.state
        part.move(P.HASHING)
        wanted = live.provider.part_digests(live.session)
        digests = await hash_range_async(live.session.path, part.start, part.end, wanted)
        part.xxh3 = digests.xxh3
        part.md5 = digests.md5 or part.md5
        part.sha1 = digests.sha1 or part.sha1
        part.sha256 = digests.sha256 or part.sha256
        for value in digests.crcs.values():  # a session has one checksum algorithm
            part.checksum = value
        part.move(state if state != P.HASHING else P.PENDING)
        await self._events.commit(parts=[part])


async def match_fingerprints(path: str, parts: Sequence[Part]) -> list[tuple[int, bool | None]]:
    """(part number, whether the bytes at ``path`` still match its fingerprint) for each
    part; None for a part never fingerprinted. Raises LocalFileError when unreadable."""
    results: list[tuple[int, bool | None]] = []
    await asyncio.to_thread(check_readable, path)
    for part in parts:
        if part.xxh3 is None:
            results.append((part.number, None))
            continue
        digests = await hash_range_async(path, part.start, part.end)
        results.append((part.number, digests.xxh3 == part.xxh3))
    return results
