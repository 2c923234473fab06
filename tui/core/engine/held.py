"""The sessions an engine holds in memory: each loaded from the journal and locked (so no
other process drives it) while the engine drives or acts on it, and let go after."""

from __future__ import annotations

import asyncio
import contextlib

from tui.core.engine.live import LiveSession, Progress
from tui.core.errors import PartdeckError
from tui.core.journal import Journal
from tui.core.locks import SessionLock
from tui.core.ports import ProviderFactory


class HeldSessions:
    """Live sessions by id, with the locks that keep them this engine's."""

    def __init__(self, journal: Journal, providers: ProviderFactory, auto_complete: bool) -> None:
        self.journal = journal
        self.live: dict[str, LiveSession] = {}
        """Every session held, by id (the scheduler reads it too)."""
        self._providers = providers
        self._auto_complete = auto_complete

    def is_running(self, session_id: str) -> bool:
        """True while a held session's parts are being sent."""
        live = self.live.get(session_id)
        return live is not None and live.runner is not None and not live.runner.done()

    async def load(self, session_id: str) -> LiveSession:
        """The live session, loaded from the journal and locked when not held already."""
        live = self.live.get(session_id)
        if live is not None:
            return live
        session = await asyncio.to_thread(self.journal.session, session_id)
        parts = await asyncio.to_thread(self.journal.parts, session_id)
        provider = self._providers(session.account)
        lock = SessionLock(self.journal.path.parent, session_id)
        await asyncio.to_thread(lock.acquire)
        progress = Progress(total=session.size)
        progress.done = sum(p.size for p in parts if p.done)
        live = LiveSession(
            session=session,
            parts={p.number: p for p in parts},
            provider=provider,
            lock=lock,
            progress=progress,
            auto_complete=self._auto_complete,
        )
        self.live[session_id] = live
        return live

    def release(self, live: LiveSession) -> None:
        """Let a session go (its lock too) unless a task still drives it."""
        if live.runner is None or live.runner.done():
            live.lock.release()
            self.live.pop(live.session.id, None)

    async def stop_all(self) -> None:
        """Stop every runner (each leaves its session resumable) and let every session go."""
        for live in list(self.live.values()):
            if live.runner is not None and not live.runner.done():
                live.runner.cancel()
        for live in list(self.live.values()):
            if live.runner is not None:
                with contextlib.suppress(asyncio.CancelledError, PartdeckError):
                    await live.runner
            live.lock.release()
        self.live.clear()
