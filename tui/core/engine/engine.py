"""The engine: plans sessions, drives their parts concurrently, and obeys commands.

One asyncio loop schedules everything; file reads, hashing and SQLite run in threads.
This is the public surface the CLI, the service and the UI use. It holds the sessions it
drives and hands each to the pipeline (pipeline.py), which uses the scheduler's slots
(scheduler.py) and tells every change through the journal first (events.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from tui.core.answers import (
    abort_refusal,
    complete_once_message,
    complete_refusal,
    pause_refusal,
    retry_refusal,
    start_refusal,
)
from tui.core.diagnose import Diagnosis
from tui.core.digest import check_readable
from tui.core.engine.events import Events, Subscriber
from tui.core.engine.files import LocalFile, match_fingerprints
from tui.core.engine.finish import Finish
from tui.core.engine.held import HeldSessions
from tui.core.engine.inspection import inspect_session
from tui.core.engine.live import Progress
from tui.core.engine.pipeline import Pipeline
from tui.core.engine.planning import Planner
from tui.core.engine.remote import RemoteSession
from tui.core.engine.scheduler import Scheduler
from tui.core.errors import UsageError
from tui.core.journal import Journal, Tally, tally_parts
from tui.core.liveness import shown_state
from tui.core.model import Part, PartState, PlanPreview, Session, SessionState
from tui.core.ports import PartClientFactory, Provider, ProviderFactory, RemotePart, RemoteUpload
from tui.core.settings import EngineSettings

P = PartState
S = SessionState


class Engine:
    """Drives upload sessions recorded in a Journal through their providers."""

    def __init__(
        self,
        journal: Journal,
        providers: ProviderFactory,
        client: httpx.AsyncClient,
        settings: EngineSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        part_client: PartClientFactory | None = None,
    ) -> None:
        self.journal = journal
        self.settings = settings or EngineSettings()
        self._providers = providers
        self._clock = clock
        self._held = HeldSessions(journal, providers, self.settings.auto_complete)
        self._live = self._held.live  # the views below read it
        self._events = Events(journal, clock)
        self._scheduler = Scheduler(self.settings, self._live, self._events, rng)
        files = LocalFile(self._events)
        remote = RemoteSession(self._events, files, self._scheduler)
        self._finish = Finish(self._events, files, remote)
        self._planner = Planner(journal, providers, self.settings, self._events, clock)
        self._pipeline = Pipeline(
            journal,
            self.settings,
            self._events,
            self._scheduler,
            files,
            remote,
            self._finish,
            self._planner,
            part_client or (lambda _account, _url: client),
            clock,
        )

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every event; returns a function that unsubscribes."""
        return self._events.subscribe(callback)

    async def preview(
        self, path: str | Path, account: str, part_size: int | None = None
    ) -> PlanPreview:
        """How ``account`` would split the file at ``path``; raises the refusal if it cannot.

        Nothing is recorded or sent: the file browser shows this before a batch starts.
        """
        return await self._planner.preview(path, account, part_size)

    async def plan(self, path: str | Path, account: str, part_size: int | None = None) -> Session:
        """Record a new session for ``path`` on ``account``; nothing is sent yet."""
        return await self._planner.plan(path, account, part_size)

    async def check_account(self, account: str) -> str:
        """Make the account's cheapest authenticated call; returns what it said."""
        return await self._providers(account).check()

    def is_running(self, session_id: str) -> bool:
        """True while this engine is sending a session's parts."""
        return self._held.is_running(session_id)

    def shown_state(self, session: Session) -> str:
        """The state to show for ``session``: ``interrupted`` when it is in a state that
        needs a driver and no process (this one included) drives it."""
        if self.is_running(session.id):
            return str(session.state)
        return shown_state(session, self.journal.path.parent)

    def running(self) -> list[str]:
        """Ids of the sessions this engine is sending."""
        return [sid for sid in self._live if self.is_running(sid)]

    async def remote_parts(self, session_id: str) -> list[RemotePart] | None:
        """What the server holds of a session's upload; None where the provider cannot say."""
        session = self.session(session_id)
        if not session.opened or session.final:
            return None
        return await self._providers(session.account).remote_parts(session)

    async def inspect(self, session_id: str) -> Diagnosis:
        """Join the journal, the local file and the server into a diagnosis with a fix."""
        return await inspect_session(
            self.journal,
            self._providers,
            self.session(session_id),
            self.parts(session_id),
            running=lambda: self.is_running(session_id),
            clock=self._clock,
        )

    def provider(self, account: str) -> Provider:
        """The Provider of a configured account."""
        return self._providers(account)

    @property
    def store(self) -> Journal:
        """Every session on record: the journal (front ends read it through ``EngineAPI``)."""
        return self.journal

    @property
    def state_dir(self) -> Path:
        """The state dir whose journal this engine drives."""
        return self.journal.path.parent

    @property
    def connected(self) -> bool:
        """Always True: an in-process engine cannot lose its link."""
        return True

    @property
    def keeps_running(self) -> bool:
        """False: closing this engine pauses what it drives."""
        return False

    def complete_repeatable(self, account: str) -> bool:
        """True when the account's provider accepts complete more than once."""
        return self._providers(account).complete_repeatable

    async def load_parts(self, session_id: str) -> list[Part]:
        """The current view of a session's parts, read off the event loop when on disk."""
        if session_id in self._live:
            return self.parts(session_id)
        return await asyncio.to_thread(self.journal.parts, session_id)

    def prefetch_parts(self, session_id: str) -> None:
        """Nothing to start early: ``load_parts`` reads the journal in a few milliseconds."""

    async def remote_uploads(self, account: str, prefix: str = "") -> list[RemoteUpload]:
        """The account's incomplete uploads as the server lists them."""
        return await self._providers(account).list_uploads(prefix)

    async def remote_abort(self, account: str, key: str, upload_id: str) -> None:
        """Abort one incomplete upload the journal may not know (``partdeck remote --abort``)."""
        await self._providers(account).abort_upload(key, upload_id)

    def session(self, session_id: str) -> Session:
        """The engine's current view of a session (live when driven, else from the journal)."""
        live = self._live.get(session_id)
        return live.session if live else self.journal.session(session_id)

    def parts(self, session_id: str) -> list[Part]:
        """The engine's current view of a session's parts."""
        live = self._live.get(session_id)
        if live:
            return [live.parts[n] for n in sorted(live.parts)]
        return self.journal.parts(session_id)

    def is_live(self, session_id: str) -> bool:
        """True while this engine holds a session in memory (driving it, or acting on it)."""
        return session_id in self._live

    def live_part(self, session_id: str, number: int) -> Part | None:
        """One part of a session this engine holds, without copying the others; else None."""
        live = self._live.get(session_id)
        return live.parts.get(number) if live else None

    def live_parts(self, session_id: str) -> list[Part] | None:
        """Every part of a session this engine holds, in order; None when it holds none."""
        live = self._live.get(session_id)
        return [live.parts[n] for n in sorted(live.parts)] if live else None

    def part_tally(self, session_id: str) -> dict[str, Tally] | None:
        """Per part state, how many parts and bytes, of a session this engine holds."""
        live = self._live.get(session_id)
        return tally_parts(live.parts.values()) if live else None

    def runner(self, session_id: str) -> asyncio.Task[None] | None:
        """The task sending a session's parts, while there is one."""
        live = self._live.get(session_id)
        return live.runner if live else None

    def progress(self, session_id: str) -> Progress | None:
        """Live byte counts of a session this engine drives, else None."""
        live = self._live.get(session_id)
        return live.progress if live else None

    async def start(self, session_id: str, *, auto_complete: bool | None = None) -> None:
        """Drive a session: open it remotely if needed, then send every part not done."""
        live = await self._held.load(session_id)
        repeatable = live.provider.complete_repeatable
        if live.session.state == S.COMPLETING and not repeatable:
            # A crash while complete was in flight, where it may be sent only once: the
            # outcome is unknown, and the journal says so from now on.
            message = complete_once_message(live.session, live.provider.title)
            try:
                await self._events.set_session(
                    live.session, S.COMPLETE_UNKNOWN, error=message, kind="error"
                )
            finally:
                self._held.release(live)
            raise UsageError(message)
        refusal = start_refusal(live.session, live.provider)
        if refusal:
            self._held.release(live)
            raise UsageError(refusal)
        if auto_complete is not None:
            live.auto_complete = auto_complete
        if live.runner is None or live.runner.done():
            # A crash while complete was in flight: where sending it again is safe, carrying
            # on means sending it again, and the provider says if the first had landed.
            crashed = live.session.state == S.COMPLETING
            work = self._finish.complete(live) if crashed else self._pipeline.drive(live)
            live.runner = asyncio.create_task(work, name=f"session-{session_id}")
        self._scheduler.ensure_watchdog()

    async def run(self, session_id: str, *, auto_complete: bool | None = None) -> Session:
        """Start a session and wait until it has nothing more to do."""
        await self.start(session_id, auto_complete=auto_complete)
        return await self.wait(session_id)

    async def wait(self, session_id: str) -> Session:
        """Wait for a session's runner to finish; return the session."""
        live = self._live.get(session_id)
        if live is None:
            return await asyncio.to_thread(self.journal.session, session_id)
        if live.runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(live.runner)
        session = live.session
        self._held.release(live)
        return session

    async def pause(self, session_id: str) -> Session:
        """Stop sending; parts in flight go back to pending. Resume with ``start``."""
        live = self._live.get(session_id)
        if live is None or live.runner is None or live.runner.done():
            session = live.session if live else self.journal.session(session_id)
            raise UsageError(
                pause_refusal(session, self._providers(session.account), self.shown_state(session))
            )
        live.runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await live.runner
        return live.session

    async def retry(self, session_id: str, numbers: Sequence[int] | None = None) -> list[int]:
        """Send parts again: the numbers given, or every failed or expired part.

        Returns the part numbers queued. The session is started if it is not running.
        """
        live = await self._held.load(session_id)
        session = live.session
        try:
            refusal = retry_refusal(session, live.provider)
            if refusal:
                raise UsageError(refusal)
            queued = live.requeue(numbers)
        except UsageError:
            self._held.release(live)
            raise
        events = [
            self._events.event(
                "part", session, part=n, state=str(P.PENDING), message="retry requested"
            )
            for n in queued
        ]
        await self._events.commit(parts=[live.parts[n] for n in queued], events=events)
        running = live.runner is not None and not live.runner.done()
        if running:
            live.queue.extend(queued)
            live.wake.set()
        else:
            await self.start(session_id)
        return queued

    async def complete(self, session_id: str, *, force: bool = False) -> Session:
        """Finish the remote upload now; every part must be verified or unverifiable.

        ``force`` sends complete again where the provider allows it only once and its
        first outcome is unknown (the operator has checked).
        """
        live = await self._held.load(session_id)
        try:
            running = live.runner is not None and not live.runner.done()
            refusal = complete_refusal(live.session, live.provider, running=running)
            if refusal:
                raise UsageError(refusal)
            await self._finish.complete(live, force=force)
            return live.session
        finally:
            self._held.release(live)

    async def abort(self, session_id: str) -> Session:
        """Stop sending and discard the remote upload; the local file is untouched."""
        live = await self._held.load(session_id)
        try:
            if live.runner is not None and not live.runner.done():
                if live.session.state == S.COMPLETING:  # cancelling would not unsend it
                    raise UsageError(
                        f"session {session_id[:12]} is completing; wait for it to end, then "
                        "delete the object if you do not want it"
                    )
                live.runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await live.runner
            session = live.session
            refusal = abort_refusal(session, live.provider)
            if refusal:
                raise UsageError(refusal)
            if session.state == S.ABORTED:
                return session
            await self._finish.abort(live)
            return session
        finally:
            self._held.release(live)

    async def verify(self, session_id: str) -> list[tuple[int, bool | None]]:
        """Re-hash the local file against each part's recorded fingerprint.

        Returns (part number, matches) with None for parts never fingerprinted. A
        local-changed session whose parts all match again is set back to paused.
        """
        session = await asyncio.to_thread(self.journal.session, session_id)
        parts = await asyncio.to_thread(self.journal.parts, session_id)
        results = await match_fingerprints(session.path, parts)
        info = await asyncio.to_thread(check_readable, session.path)
        if (
            session.state == S.LOCAL_CHANGED
            and info.st_size == session.size
            and all(ok is not False for _, ok in results)
        ):
            live = await self._held.load(session_id)
            try:
                live.session.mtime_ns = info.st_mtime_ns
                await self._events.set_session(live.session, S.PAUSED)
            finally:
                self._held.release(live)
        return results

    async def close(self) -> None:
        """Pause everything this engine drives, leaving every session resumable."""
        await self._held.stop_all()
        await self._scheduler.close()
