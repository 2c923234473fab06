"""When parts go: the slots shared by every session, the parts in flight within one
session, the bandwidth limit, the wait between tries, and the stall watchdog."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from tui.core.engine.events import Events
from tui.core.engine.live import LiveSession
from tui.core.model import Part, PartState, SessionState
from tui.core.settings import EngineSettings
from tui.core.transfer import RateLimiter

P = PartState
S = SessionState

BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 300.0

SendPart = Callable[[LiveSession, Part], Coroutine[Any, Any, None]]
"""Sends one part to verified (or failed); raises what stops the session."""


class Scheduler:
    """Bounds what is sent at once and when a part tries again; notices sessions stalled."""

    def __init__(
        self,
        settings: EngineSettings,
        live: Mapping[str, LiveSession],
        events: Events,
        rng: Callable[[], float],
    ) -> None:
        self.settings = settings
        self._live = live
        self._events = events
        self._rng = rng
        self.slots = asyncio.Semaphore(settings.parts_in_flight)
        """One per part being sent, across every session."""
        self.limiter = RateLimiter(settings.bandwidth_limit) if settings.bandwidth_limit else None
        """The bandwidth limit across every transfer, when there is one."""
        self._watchdog: asyncio.Task[None] | None = None

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After wins when longer."""
        # The exponent stops growing long after the cap is reached: ``retries`` has no upper
        # bound, and 2.0 ** 1024 overflows.
        delay: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(attempt - 1, 64))
        delay *= 0.5 + self._rng() / 2
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
        return delay

    async def send_all(self, live: LiveSession, send_part: SendPart) -> None:
        """Send queued parts, at most ``parts_per_session`` at a time, until none are left."""
        running: dict[asyncio.Task[None], int] = {}
        waker: asyncio.Task[bool] | None = None
        try:
            while True:
                while live.queue and len(running) < self.settings.parts_per_session:
                    number = live.queue.popleft()
                    part = live.parts[number]
                    if part.state != P.PENDING:
                        continue
                    task = asyncio.create_task(send_part(live, part))
                    running[task] = number
                if not running:
                    return
                live.wake.clear()
                waker = asyncio.create_task(live.wake.wait())
                await asyncio.wait([*running, waker], return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
                for task in [t for t in running if t.done()]:
                    running.pop(task)
                    task.result()  # LocalFileError stops the session
        finally:
            if waker is not None:  # a pause or abort cancels us mid-wait: it would wait forever
                waker.cancel()
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    def ensure_watchdog(self) -> None:
        """Start the stall watchdog unless it runs; it ends once no session is live."""
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch(), name="stall-watchdog")

    async def close(self) -> None:
        """Stop the stall watchdog."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog

    async def _watch(self) -> None:
        interval = min(5.0, self.settings.stall_after / 4)
        while self._live:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for live in list(self._live.values()):
                progress = live.progress
                if (
                    live.session.state == S.UPLOADING
                    and progress.in_flight
                    and progress.last_progress
                    and now - progress.last_progress > self.settings.stall_after
                ):
                    await self._events.set_session(
                        live.session,
                        S.STALLED,
                        error=f"no bytes sent for {self.settings.stall_after:.0f}s; retry the "
                        "parts in flight or check the network",
                    )
