"""Planning: how a provider would split a file, and the record of a new session.

Nothing is sent here; the only I/O is reading the file's metadata and the journal.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from tui.core.deadline import check_links_last, pick_speed
from tui.core.digest import check_readable
from tui.core.engine.events import Events
from tui.core.errors import LocalFileError
from tui.core.journal import Journal
from tui.core.model import Part, PlanPreview, Session, SessionState
from tui.core.plan import plan_parts
from tui.core.ports import Provider, ProviderFactory
from tui.core.settings import EngineSettings

S = SessionState


class Planner:
    """Splits files into parts under each provider's limits and records new sessions."""

    def __init__(
        self,
        journal: Journal,
        providers: ProviderFactory,
        settings: EngineSettings,
        events: Events,
        clock: Callable[[], float],
    ) -> None:
        self.journal = journal
        self.settings = settings
        self._providers = providers
        self._events = events
        self._clock = clock

    async def preview(
        self, path: str | Path, account: str, part_size: int | None = None
    ) -> PlanPreview:
        """How ``account`` would split the file at ``path``; raises the refusal if it cannot."""
        provider = self._providers(account)
        full = await asyncio.to_thread(os.path.abspath, os.fspath(path))
        check_utf8(full)
        info = await asyncio.to_thread(check_readable, full)
        requested = None if provider.server_part_size else part_size or self.settings.part_size
        chosen = provider.part_size(info.st_size, requested)
        ranges = plan_parts(info.st_size, chosen)
        await self.check_link_lifetime(provider, account, [b - a for a, b in ranges])
        return PlanPreview(
            path=full,
            size=info.st_size,
            mtime_ns=info.st_mtime_ns,
            part_size=chosen,
            ranges=ranges,
            from_server=provider.server_part_size,
        )

    async def plan(self, path: str | Path, account: str, part_size: int | None = None) -> Session:
        """Record a new session for ``path`` on ``account``; nothing is sent yet."""
        provider = self._providers(account)
        preview = await self.preview(path, account, part_size)
        now = self._clock()
        session = Session(
            id=uuid.uuid4().hex,
            account=account,
            provider=provider.name,
            path=preview.path,
            size=preview.size,
            mtime_ns=preview.mtime_ns,
            part_size=preview.part_size,
            created_at=now,
            updated_at=now,
        )
        parts = [
            Part(session_id=session.id, number=n, start=a, end=b)
            for n, (a, b) in enumerate(preview.ranges, start=1)
        ]
        event = self._events.event(
            "session",
            session,
            state=str(S.PLANNED),
            data={
                "path": preview.path,
                "account": account,
                "size": preview.size,
                "parts": len(parts),
                "part_size": preview.part_size,
                "part_size_from_server": provider.server_part_size,
            },
        )
        await self._events.create(session, parts, event)
        return session

    async def check_link_lifetime(
        self, provider: Provider, account: str, sizes: Sequence[int]
    ) -> None:
        """Refuse a session whose non-renewable part links would expire before use."""
        if provider.renewable_targets or provider.target_lifetime is None:
            return
        measured = await asyncio.to_thread(self.journal.speed, account)
        speed = pick_speed(self.settings.link_speed, measured, self.settings.bandwidth_limit)
        check_links_last(
            provider.name,
            sizes,
            provider.target_lifetime,
            speed,
            min(self.settings.parts_per_session, self.settings.parts_in_flight),
        )


def check_utf8(path: str) -> None:
    """Refuse a path that is not UTF-8 text: it can be neither journaled nor given to a
    provider as an object name."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "replace")
        raise LocalFileError(
            f"{shown}: the name is not UTF-8 text, which providers need for file names; "
            "rename it (e.g. convmv -f latin1 -t utf-8) and upload again"
        ) from None
