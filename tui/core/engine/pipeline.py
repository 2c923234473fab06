"""Driving one session from plan to complete: open or reconcile it, send its parts with
retries, then complete it (or stop it, resumable, on the line that says why)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from tui.core.engine.events import Events
from tui.core.engine.files import LocalFile
from tui.core.engine.finish import Finish
from tui.core.engine.live import LiveSession
from tui.core.engine.messages import gave_up, unsent_message
from tui.core.engine.planning import Planner
from tui.core.engine.remote import RemoteSession
from tui.core.engine.scheduler import Scheduler
from tui.core.errors import (
    LocalFileError,
    RejectedError,
    RemoteError,
    TargetExpired,
    TargetStale,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.journal import Journal, JournalError
from tui.core.model import Part, PartState, SessionState
from tui.core.ports import PartClientFactory
from tui.core.settings import EngineSettings
from tui.core.transfer import send_part

P = PartState
S = SessionState

TARGET_MARGIN = 60.0
"""A part URL that expires within this many seconds is renewed before sending."""
PROGRESS_INTERVAL = 0.25
"""Seconds between progress events for one session."""
SPEED_SAMPLE_MIN = 4 * 1024 * 1024
"""Bytes a run must send before its speed is remembered for the account."""


class Pipeline:
    """Takes one live session through every step to its end, committing each first."""

    def __init__(
        self,
        journal: Journal,
        settings: EngineSettings,
        events: Events,
        scheduler: Scheduler,
        files: LocalFile,
        remote: RemoteSession,
        finish: Finish,
        planner: Planner,
        part_client: PartClientFactory,
        clock: Callable[[], float],
    ) -> None:
        self.journal = journal
        self.settings = settings
        self._events = events
        self._scheduler = scheduler
        self._files = files
        self._remote = remote
        self._finish = finish
        self._planner = planner
        self._part_client = part_client
        self._clock = clock

    async def drive(self, live: LiveSession) -> None:
        """Prepare, send every part, then complete (when asked to); stop on what fails."""
        session = live.session
        try:
            await self._prepare(live)
            await self._scheduler.send_all(live, self._send_part)
            await self._remote.remember(live)
            await self._record_speed(live)
            if all(p.done for p in live.parts.values()):
                await self._events.set_session(session, S.UPLOADED)
                if live.auto_complete:
                    await self._finish.complete(live)
            else:
                error = unsent_message(session, live.parts.values(), live.provider)
                await self._events.set_session(session, S.FAILED, error=error)
        except asyncio.CancelledError:
            paused = session.opened and session.state in (S.UPLOADING, S.STALLED, S.PLANNED)
            await asyncio.shield(self._stop(live, S.PAUSED if paused else session.state))
            raise
        except LocalFileError as exc:
            await self._stop(live, S.LOCAL_CHANGED, error=str(exc))
        except UploadGone:
            await self._remote.forget_upload(live, stop=True)
        except JournalError:
            # Nothing more can be recorded (a full disk, say). The journal still holds the
            # last state it took, since every write is one transaction; the state in memory
            # may be ahead of it, so it must not be written now. Resume carries on.
            raise
        except (RemoteError, UsageError) as exc:
            await self._stop(live, S.FAILED, error=gave_up(exc, session))
        except Exception as exc:
            # A bug: leave the session resumable and let the caller log the traceback.
            await self._stop(
                live,
                S.FAILED,
                error=f"internal error ({type(exc).__name__}); "
                f"resume with partdeck resume {session.id[:8]}",
            )
            raise

    async def _record_speed(self, live: LiveSession) -> None:
        """Remember how fast this account took bytes, for link-expiry planning."""
        progress = live.progress
        elapsed = time.monotonic() - progress.started if progress.started else 0.0
        if progress.sent >= SPEED_SAMPLE_MIN and elapsed > 0.5:
            await asyncio.to_thread(
                self.journal.record_speed, live.session.account, progress.sent / elapsed
            )

    async def _stop(
        self, live: LiveSession, state: SessionState, *, error: str | None = None
    ) -> None:
        """Parts caught in flight go back to pending and the session takes ``state``, in
        one commit (pause, interruption, a local change, a provider failure)."""
        task = live.file_hash
        if task is not None:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: its error, if any, is reported elsewhere
            task.cancel()
        stopped = [
            p for p in live.parts.values() if p.state in (P.HASHING, P.UPLOADING, P.UPLOADED)
        ]
        for part in stopped:
            part.move(P.PENDING)
            live.progress.in_flight.pop(part.number, None)
        session = live.session
        session.move(state)
        if error is not None:
            session.error = error
        kind = "error" if error is not None else "session"
        await self._events.commit(
            session=session,
            parts=stopped,
            events=[self._events.event(kind, session, state=str(state), message=error)],
        )

    async def _prepare(self, live: LiveSession) -> None:
        """Open or reconcile the remote session; queue the parts to send."""
        session, provider, files = live.session, live.provider, self._files
        await files.check_local(live)
        # Parts caught mid-flight by a crash are simply pending again.
        stale = [p for p in live.parts.values() if p.state in (P.HASHING, P.UPLOADING, P.UPLOADED)]
        for part in stale:
            part.move(P.PENDING)
        if stale:
            await self._events.commit(parts=stale)
        missing = provider.file_digests - session.digests.keys()
        if provider.digests_before_open:
            if missing and not session.opened:
                await asyncio.gather(files.hash_all(live), files.hash_file(live))
                missing = frozenset()
            else:
                await files.hash_all(live)
        if missing:
            live.file_hash = asyncio.create_task(files.hash_file(live), name="file-digests")
        if session.opened and provider.can_list_parts:
            await self._remote.reconcile(live)  # a gone upload is forgotten: opened anew below
        if not session.opened:
            await self._planner.check_link_lifetime(
                provider, session.account, [p.size for p in live.parts.values()]
            )
            await self._remote.open(live)
        if session.state != S.UPLOADING:
            await self._events.set_session(session, S.UPLOADING)
        live.queue = deque(sorted(n for n, p in live.parts.items() if p.state == P.PENDING))

    async def _send_part(self, live: LiveSession, part: Part) -> None:
        """One part to verified (or failed), with retries and backoff outside the slots."""
        session, events = live.session, self._events
        tries = 0
        while True:
            tries += 1
            try:
                async with self._scheduler.slots:
                    await self._attempt(live, part)
                return
            except TargetExpired as exc:
                live.targets.pop(part.number, None)
                if tries > self.settings.retries or not live.provider.renewable_targets:
                    await self._fail(live, part, str(exc), P.EXPIRED)
                    return
                await events.set_part(session, part, P.PENDING, message=f"{exc}; renewing it")
            except UploadGone:
                raise  # the session stops: no part of a gone upload is worth sending
            except TransientError as exc:
                if isinstance(exc, TargetStale):
                    live.targets.pop(part.number, None)
                    await self._remote.remember(live)  # what the provider learnt, at once
                server = exc.status is not None and exc.status >= 500
                if server and await live.gone_probe.gone(live.provider, session):
                    raise UploadGone(f"part {part.number}: {exc.settled}") from None
                if not live.provider.overwrites_parts and part.attempts:
                    live.check_remote.add(part.number)
                if tries > self.settings.retries:
                    await self._fail(live, part, f"{exc.settled} (gave up after {tries} attempts)")
                    return
                delay = self._scheduler.backoff(tries, exc.retry_after)
                part.error = str(exc)  # shown as the last error while it waits
                await events.set_part(
                    session, part, P.PENDING, message=str(exc), data={"retry_in": round(delay, 2)}
                )
                await asyncio.sleep(delay)
            except RejectedError as exc:
                await self._fail(live, part, str(exc))
                return
            except LocalFileError:
                # The session stops as local-changed; the part itself did nothing wrong.
                if part.state in (P.HASHING, P.UPLOADING, P.UPLOADED):
                    await events.set_part(session, part, P.PENDING)
                raise

    async def _attempt(self, live: LiveSession, part: Part) -> None:
        """One try at ``part``: hash it if needed, find its target, send it, judge it."""
        session, provider, events = live.session, live.provider, self._events
        if self._files.needs_hash(live, part):
            await self._files.hash(live, part)
            live.targets.pop(part.number, None)  # it carries the digests it was made with
        else:
            await self._files.check_unchanged(live)
        if part.number in live.check_remote and await self._remote.found_on_server(live, part):
            return
        target = live.targets.get(part.number)
        if target is None or (
            target.expires_at is not None and target.expires_at - self._clock() < TARGET_MARGIN
        ):
            target = await provider.target(session, part)
            live.targets[part.number] = target
            part.target_expires_at = target.expires_at
        part.attempts += 1
        part.error = None
        await events.set_part(session, part, P.UPLOADING, data={"attempt": part.attempts})
        live.progress.in_flight[part.number] = 0
        try:
            response = await send_part(
                self._part_client(session.account, target.url),
                target,
                session.path,
                part.start,
                part.end,
                expected_xxh3=part.xxh3,
                limiter=self._scheduler.limiter,
                on_progress=lambda n: self._on_progress(live, part.number, n),
            )
            part.move(P.UPLOADED)
            receipt = provider.receipt(session, part, response)
        finally:
            live.progress.in_flight.pop(part.number, None)
        part.etag = receipt.etag
        live.resend.discard(part.number)
        live.progress.done += part.size
        await events.set_part(
            session,
            part,
            P.VERIFIED if receipt.verified else P.UNVERIFIABLE,
            data={"etag": receipt.etag},
        )
        if session.state == S.STALLED:
            await events.set_session(session, S.UPLOADING)

    async def _fail(
        self, live: LiveSession, part: Part, message: str, state: PartState = P.FAILED
    ) -> None:
        part.error = message
        await self._events.set_part(live.session, part, state, message=message)

    def _on_progress(self, live: LiveSession, number: int, n: int) -> None:
        progress = live.progress
        progress.in_flight[number] = progress.in_flight.get(number, 0) + n
        progress.sent += n
        progress.last_progress = time.monotonic()
        if not progress.started:
            progress.started = progress.last_progress
        now = self._clock()
        if now - live.last_event >= PROGRESS_INTERVAL:
            live.last_event = now
            data = {"bytes": progress.current, "total": progress.total}
            self._events.tell([self._events.event("progress", live.session, data=data)])
