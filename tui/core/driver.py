"""Driving one session: open or reconcile it, send its parts, retry, complete.

The Engine's machinery, kept apart from its public commands (engine.py). Every state
change is committed to the journal first and only then told to subscribers, so nothing
anyone sees is ahead of what a resume would find.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from tui.core.deadline import check_links_last, pick_speed
from tui.core.digest import check_readable, hash_range_async
from tui.core.errors import (
    CallUnsupported,
    CompleteUnknown,
    LocalChanged,
    LocalFileError,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.gone import GONE_MARK, GoneProbe, forget_upload, gone_line
from tui.core.journal import Journal, JournalError
from tui.core.locks import SessionLock
from tui.core.model import DONE_PART_STATES, Event, Part, PartState, Session, SessionState
from tui.core.ports import PartTarget, Provider
from tui.core.redact import redact
from tui.core.settings import EngineSettings
from tui.core.transfer import NOT_SENT, RateLimiter, send_part

ProviderFactory = Callable[[str], Provider]
"""Account name -> the Provider for it (raises ConfigError when the account is unusable)."""
Subscriber = Callable[[Event], None]
PartClientFactory = Callable[[str, str], httpx.AsyncClient]
"""(Account name, part URL) -> the client that sends the part (it decides TLS checks)."""

P = PartState
S = SessionState

TARGET_MARGIN = 60.0
"""A part URL that expires within this many seconds is renewed before sending."""
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 300.0
OPEN_TRIES = 4
PROGRESS_INTERVAL = 0.25
"""Seconds between progress events for one session."""
SERVER_HAS_IT = "complete's answer was lost, but the server shows the file: completed"
"""The note of a session settled by looking at the server after an unclear complete."""
SPEED_SAMPLE_MIN = 4 * 1024 * 1024
"""Bytes a run must send before its speed is remembered for the account."""


@dataclass
class Progress:
    """Live byte counts for one session (not journaled; derived again after a restart)."""

    total: int
    done: int = 0
    """Bytes in parts that are verified or unverifiable."""
    in_flight: dict[int, int] = field(default_factory=dict)
    """Bytes sent so far of each part being sent."""
    sent: int = 0
    """Every byte written to the network for this session in this process, retries included."""
    last_progress: float = 0.0
    """Monotonic time of the last byte sent."""
    started: float = 0.0
    """Monotonic time the first byte of this process's run was sent."""

    @property
    def current(self) -> int:
        """Bytes done plus bytes of parts in flight."""
        return self.done + sum(self.in_flight.values())


@dataclass
class _Live:
    """What the engine holds in memory for a session it drives."""

    session: Session
    parts: dict[int, Part]
    provider: Provider
    lock: SessionLock
    progress: Progress
    queue: deque[int] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task[None] | None = None
    targets: dict[int, PartTarget] = field(default_factory=dict)
    auto_complete: bool = True
    last_event: float = 0.0
    resend: set[int] = field(default_factory=set)
    """Parts the user asked to send again: reconciling must not count the server's copy."""
    check_remote: set[int] = field(default_factory=set)
    """Parts whose last attempt ended ambiguously on a provider that cannot overwrite parts:
    the server is asked whether it holds them before they are sent again."""
    file_hash: asyncio.Task[None] | None = None
    """The whole-file digest pass, running beside the parts where the provider needs one."""
    gone_probe: GoneProbe = field(default_factory=GoneProbe)


class SessionDriver:
    """The machinery under Engine: journaling, the part pipeline, retries, the watchdog."""

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
        self._client = client
        self._part_client = part_client or (lambda _account, _url: client)
        self._clock = clock
        self._rng = rng
        self._subscribers: list[Subscriber] = []
        self._live: dict[str, _Live] = {}
        self._slots = asyncio.Semaphore(self.settings.parts_in_flight)
        self._limiter = (
            RateLimiter(self.settings.bandwidth_limit) if self.settings.bandwidth_limit else None
        )
        self._watchdog: asyncio.Task[None] | None = None

    def _event(self, kind: str, session: Session, **fields: Any) -> Event:
        if fields.get("message"):
            fields["message"] = redact(fields["message"])
        return Event(kind=kind, session_id=session.id, time=self._clock(), **fields)

    def _tell(self, events: Iterable[Event]) -> None:
        for event in events:
            for callback in list(self._subscribers):
                callback(event)

    async def _commit(
        self,
        *,
        session: Session | None = None,
        parts: Sequence[Part] = (),
        events: Sequence[Event] = (),
        replace_parts_of: str | None = None,
        durable: bool = False,
    ) -> None:
        """Journal first, in a thread; then tell subscribers. ``durable`` when the record
        guards a request that must not be repeated: it is on stable storage first."""
        if session is not None:
            session.updated_at = self._clock()
        await asyncio.to_thread(
            self.journal.commit,
            session=session,
            parts=parts,
            events=events,
            replace_parts_of=replace_parts_of,
            durable=durable,
        )
        self._tell(events)

    async def _set_session(
        self,
        live: _Live,
        state: SessionState,
        *,
        error: str | None = None,
        kind: str = "session",
        durable: bool = False,
    ) -> None:
        session = live.session
        session.move(state)
        session.error = error
        await self._commit(
            session=session,
            events=[self._event(kind, session, state=str(state), message=error)],
            durable=durable,
        )

    def _part_event(
        self,
        live: _Live,
        part: Part,
        *,
        message: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        """The event for ``part`` in its current state."""
        return self._event(
            "part",
            live.session,
            state=str(part.state),
            part=part.number,
            message=message,
            data=data or {},
        )

    async def _set_part(
        self,
        live: _Live,
        part: Part,
        state: PartState,
        *,
        message: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        part.move(state)
        event = self._part_event(live, part, message=message, data=data)
        await self._commit(parts=[part], events=[event])

    async def _load(self, session_id: str) -> _Live:
        live = self._live.get(session_id)
        if live is not None:
            return live
        session = await asyncio.to_thread(self.journal.session, session_id)
        parts = await asyncio.to_thread(self.journal.parts, session_id)
        provider = self._providers(session.account)
        lock = SessionLock(self.journal.path.parent, session_id)
        await asyncio.to_thread(lock.acquire)
        progress = Progress(total=session.size)
        progress.done = sum(p.size for p in parts if p.done)
        live = _Live(
            session=session,
            parts={p.number: p for p in parts},
            provider=provider,
            lock=lock,
            progress=progress,
            auto_complete=self.settings.auto_complete,
        )
        self._live[session_id] = live
        return live

    def _release(self, live: _Live) -> None:
        if live.runner is None or live.runner.done():
            live.lock.release()
            self._live.pop(live.session.id, None)

    async def _drive(self, live: _Live) -> None:
        session = live.session
        try:
            await self._prepare(live)
            await self._send_all(live)
            await self._record_speed(live)
            if all(p.done for p in live.parts.values()):
                await self._set_session(live, S.UPLOADED)
                if live.auto_complete:
                    await self._complete(live)
            else:
                await self._set_session(live, S.FAILED, error=self._unsent_message(live))
        except asyncio.CancelledError:
            paused = session.opened and session.state in (S.UPLOADING, S.STALLED, S.PLANNED)
            await asyncio.shield(self._stop(live, S.PAUSED if paused else session.state))
            raise
        except LocalFileError as exc:
            await self._stop(live, S.LOCAL_CHANGED, error=str(exc))
        except UploadGone:
            await self._forget_upload(live, stop=True)
        except JournalError:
            # Nothing more can be recorded (a full disk, say). The journal still holds the
            # last state it took, since every write is one transaction; the state in memory
            # may be ahead of it, so it must not be written now. Resume carries on.
            raise
        except (RemoteError, UsageError) as exc:
            await self._stop(live, S.FAILED, error=_gave_up(exc, session))
        except Exception as exc:
            # A bug: leave the session resumable and let the caller log the traceback.
            await self._stop(
                live,
                S.FAILED,
                error=f"internal error ({type(exc).__name__}); "
                f"resume with partdeck resume {session.id[:8]}",
            )
            raise

    def _unsent_message(self, live: _Live) -> str:
        """Why a session stopped with parts not uploaded (the first failed part's cause),
        and the command that goes on."""
        short = live.session.id[:8]
        unsent = [p.number for p in live.parts.values() if not p.done]
        expired = [p.number for p in live.parts.values() if p.state == P.EXPIRED]
        if expired and not live.provider.renewable_targets:
            return (
                f"{len(expired)} part link(s) expired ({format_numbers(expired)}) and "
                f"{live.provider.title} cannot renew them; "
                f"abort with partdeck abort {short} and upload the file again"
            )
        failed = sorted(
            (p for p in live.parts.values() if p.state in (P.FAILED, P.EXPIRED) and p.error),
            key=lambda p: p.number,
        )
        why = ""
        if failed:  # the first one's problem (its own advice left out), its part named once
            number = failed[0].number
            problem = (failed[0].error or "").split("; ", 1)[0]
            named = problem.startswith((f"part {number}:", f"part {number} "))
            why = f"; {problem}" if named else f"; part {number}: {problem}"
        return (
            f"{len(unsent)} part(s) not uploaded ({format_numbers(unsent)}){why}; retry them "
            f"with partdeck retry {short} or abort"
        )

    async def _record_speed(self, live: _Live) -> None:
        """Remember how fast this account took bytes, for link-expiry planning."""
        progress = live.progress
        elapsed = time.monotonic() - progress.started if progress.started else 0.0
        if progress.sent >= SPEED_SAMPLE_MIN and elapsed > 0.5:
            await asyncio.to_thread(
                self.journal.record_speed, live.session.account, progress.sent / elapsed
            )

    async def _stop(self, live: _Live, state: SessionState, *, error: str | None = None) -> None:
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
        await self._commit(
            session=session,
            parts=stopped,
            events=[self._event(kind, session, state=str(state), message=error)],
        )

    async def _prepare(self, live: _Live) -> None:
        """Open or reconcile the remote session; queue the parts to send."""
        session, provider = live.session, live.provider
        await self._check_local(live)
        # Parts caught mid-flight by a crash are simply pending again.
        stale = [p for p in live.parts.values() if p.state in (P.HASHING, P.UPLOADING, P.UPLOADED)]
        for part in stale:
            part.move(P.PENDING)
        if stale:
            await self._commit(parts=stale)
        missing = provider.file_digests - session.digests.keys()
        if provider.digests_before_open:
            if missing and not session.opened:
                await asyncio.gather(self._hash_all(live), self._hash_file(live))
                missing = frozenset()
            else:
                await self._hash_all(live)
        if missing:
            live.file_hash = asyncio.create_task(self._hash_file(live), name="file-digests")
        if session.opened and provider.can_list_parts:
            await self._reconcile(live)  # a gone upload is forgotten here: opened anew below
        if not session.opened:
            await self.check_link_lifetime(
                provider, session.account, [p.size for p in live.parts.values()]
            )
            await self._open(live)
        if session.state != S.UPLOADING:
            await self._set_session(live, S.UPLOADING)
        live.queue = deque(sorted(n for n, p in live.parts.items() if p.state == P.PENDING))

    async def _check_local(self, live: _Live) -> None:
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
        mismatched = await self._verify_parts(live, [p for p in live.parts.values() if p.xxh3])
        if mismatched:
            raise LocalChanged(
                f"{session.path}: part(s) {format_numbers(mismatched)} no longer match their "
                "fingerprints; start a new upload of the file as it is now"
            )
        session.mtime_ns = info.st_mtime_ns
        await self._commit(session=session)

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

    async def _hash_file(self, live: _Live) -> None:
        """One sequential pass for the whole-file digests the provider needs."""
        session = live.session
        wanted = live.provider.file_digests
        digests = await hash_range_async(session.path, 0, session.size, wanted)
        await self._check_unchanged(live)
        for name in wanted:
            value = getattr(digests, name)
            if value:
                session.digests[name] = value
        await self._commit(session=session)

    async def _ensure_file_digests(self, live: _Live) -> None:
        """Wait for (or run) the whole-file pass before completing."""
        if live.file_hash is not None and not live.file_hash.done():
            await live.file_hash
        if not live.session.digests.keys() >= live.provider.file_digests:
            await self._hash_file(live)

    async def _verify_parts(self, live: _Live, parts: Sequence[Part]) -> list[int]:
        bad: list[int] = []
        for part in parts:
            digests = await hash_range_async(live.session.path, part.start, part.end)
            if digests.xxh3 != part.xxh3:
                bad.append(part.number)
        return bad

    async def _hash_all(self, live: _Live) -> None:
        for part in sorted(live.parts.values(), key=lambda p: p.number):
            if not self._needs_hash(live, part):
                continue
            await self._hash(live, part)

    def _needs_hash(self, live: _Live, part: Part) -> bool:
        return part.xxh3 is None or any(getattr(part, d) is None for d in live.provider.digests)

    async def _hash(self, live: _Live, part: Part) -> None:
        await self._check_unchanged(live)
        state = part.state
        part.move(P.HASHING)
        digests = await hash_range_async(
            live.session.path, part.start, part.end, live.provider.digests
        )
        part.xxh3 = digests.xxh3
        part.md5 = digests.md5 or part.md5
        part.sha1 = digests.sha1 or part.sha1
        part.sha256 = digests.sha256 or part.sha256
        part.move(state if state != P.HASHING else P.PENDING)
        await self._commit(parts=[part])

    async def _check_unchanged(self, live: _Live) -> None:
        session = live.session
        info = await asyncio.to_thread(check_readable, session.path)
        if info.st_size != session.size or info.st_mtime_ns != session.mtime_ns:
            raise LocalChanged(
                f"{session.path} changed while it was being uploaded (size or modification "
                "time); nothing more is sent. Run partdeck verify, or start a new upload"
            )

    async def _open(self, live: _Live) -> None:
        session, provider = live.session, live.provider
        parts = sorted(live.parts.values(), key=lambda p: p.number)
        for attempt in range(OPEN_TRIES):
            try:
                opened = await provider.open(session, parts)
                break
            except TransientError as exc:
                safe = provider.open_repeatable or exc.code == NOT_SENT or exc.status == 429
                if attempt == OPEN_TRIES - 1 or not safe:
                    raise
                await asyncio.sleep(self._backoff(attempt + 1, exc.retry_after))
        session.remote = opened.remote
        session.location = opened.location
        replace = None
        if opened.ranges is not None:
            new_parts = [
                Part(session_id=session.id, number=n, start=a, end=b)
                for n, (a, b) in enumerate(opened.ranges, start=1)
            ]
            live.parts = {p.number: p for p in new_parts}
            replace = session.id
            if new_parts:
                session.part_size = new_parts[0].size
        session.move(S.UPLOADING)
        event = self._event(
            "session",
            session,
            state=str(S.UPLOADING),
            data={"location": session.location, "parts": len(live.parts)},
        )
        await self._commit(
            session=session,
            parts=list(live.parts.values()) if replace else (),
            events=[event],
            replace_parts_of=replace,
            durable=True,  # a power loss must not forget a remote upload that exists
        )

    async def _reconcile(self, live: _Live) -> None:
        """Ask the server which parts it holds; keep the journal honest both ways. Where
        the upload is gone, forget it; where the store cannot list, the journal decides."""
        try:
            remote = await live.provider.remote_parts(live.session)
        except UploadGone:
            await self._forget_upload(live, stop=False)
            return
        except CallUnsupported as exc:
            note = f"{exc}; resuming from the journal (parts not verified are sent again)"
            self._tell([self._event("notice", live.session, message=note)])
            return
        if remote is None:
            return
        held = {r.number: r for r in remote}
        changed: list[Part] = []
        events: list[Event] = []
        for part in sorted(live.parts.values(), key=lambda p: p.number):
            found = held.get(part.number)
            if part.state in DONE_PART_STATES and found is None:
                part.move(P.PENDING)
                part.error = "the server no longer holds this part; sending it again"
                changed.append(part)
                events.append(self._part_event(live, part, message=part.error))
            elif (
                part.state == P.PENDING
                and part.number not in live.resend
                and found is not None
                and found.size == part.size
            ):
                if self._needs_hash(live, part):
                    await self._hash(live, part)
                receipt = live.provider.remote_receipt(part, found)
                if receipt is not None and receipt.verified:
                    part.etag = receipt.etag
                    part.move(P.VERIFIED)
                    changed.append(part)
                    events.append(self._part_event(live, part, data={"reconciled": True}))
        live.progress.done = sum(p.size for p in live.parts.values() if p.done)
        if changed:
            await self._commit(parts=changed, events=events)

    async def _forget_upload(self, live: _Live, *, stop: bool) -> None:
        """The remote upload is gone: keep nothing of it, in one commit. With ``stop`` the
        session fails on the line that names the way on; else (a resume) it goes on."""
        if stop and live.file_hash is not None:
            live.file_hash.cancel()
        session = live.session
        try:  # what the gone upload leaves on the provider, tidied while the journal names it
            left = await live.provider.forget(session)
        except RemoteError:  # best effort: it must not hide that the upload is gone
            left = None
        parts = forget_upload(session, live.parts.values())
        live.targets.clear()
        live.resend.clear()
        live.check_remote.clear()
        live.progress.in_flight.clear()
        live.progress.done = 0
        line, mark = gone_line(session), {GONE_MARK: True}
        if not stop:
            line = f"{line.split('; ', 1)[0]}; starting a new upload and sending every part again"
        if left:
            line = f"{line}; {left}"
        if stop:
            session.move(S.FAILED)
            session.error = line
            event = self._event("error", session, state=str(S.FAILED), message=line, data=mark)
        else:
            event = self._event("notice", session, message=line, data=mark)
        await self._commit(session=session, parts=parts, events=[event])

    async def _send_all(self, live: _Live) -> None:
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
                    task = asyncio.create_task(self._send_part(live, part))
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

    async def _send_part(self, live: _Live, part: Part) -> None:
        """One part to verified (or failed), with retries and backoff outside the slots."""
        tries = 0
        while True:
            tries += 1
            try:
                async with self._slots:
                    await self._attempt(live, part)
                return
            except TargetExpired as exc:
                live.targets.pop(part.number, None)
                if tries > self.settings.retries or not live.provider.renewable_targets:
                    await self._fail(live, part, str(exc), P.EXPIRED)
                    return
                await self._set_part(live, part, P.PENDING, message=f"{exc}; renewing it")
            except UploadGone:
                raise  # the session stops: no part of a gone upload is worth sending
            except TransientError as exc:
                server = exc.status is not None and exc.status >= 500
                if server and await live.gone_probe.gone(live.provider, live.session):
                    raise UploadGone(f"part {part.number}: {exc.settled}") from None
                if not live.provider.overwrites_parts and part.attempts:
                    live.check_remote.add(part.number)
                if tries > self.settings.retries:
                    await self._fail(live, part, f"{exc.settled} (gave up after {tries} attempts)")
                    return
                delay = self._backoff(tries, exc.retry_after)
                part.error = str(exc)  # shown as the last error while it waits
                await self._set_part(
                    live, part, P.PENDING, message=str(exc), data={"retry_in": round(delay, 2)}
                )
                await asyncio.sleep(delay)
            except RejectedError as exc:
                await self._fail(live, part, str(exc))
                return
            except LocalFileError:
                # The session stops as local-changed; the part itself did nothing wrong.
                if part.state in (P.HASHING, P.UPLOADING, P.UPLOADED):
                    await self._set_part(live, part, P.PENDING)
                raise

    async def _attempt(self, live: _Live, part: Part) -> None:
        session, provider = live.session, live.provider
        if self._needs_hash(live, part):
            await self._hash(live, part)
        else:
            await self._check_unchanged(live)
        if part.number in live.check_remote and await self._found_on_server(live, part):
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
        await self._set_part(live, part, P.UPLOADING, data={"attempt": part.attempts})
        live.progress.in_flight[part.number] = 0
        try:
            response = await send_part(
                self._part_client(session.account, target.url),
                target,
                session.path,
                part.start,
                part.end,
                expected_xxh3=part.xxh3,
                limiter=self._limiter,
                on_progress=lambda n: self._on_progress(live, part.number, n),
            )
            part.move(P.UPLOADED)
            receipt = provider.receipt(session, part, response)
        finally:
            live.progress.in_flight.pop(part.number, None)
        part.etag = receipt.etag
        live.resend.discard(part.number)
        live.progress.done += part.size
        await self._set_part(
            live,
            part,
            P.VERIFIED if receipt.verified else P.UNVERIFIABLE,
            data={"etag": receipt.etag},
        )
        if session.state == S.STALLED:
            await self._set_session(live, S.UPLOADING)

    async def _found_on_server(self, live: _Live, part: Part) -> bool:
        """After an ambiguous failure: if the server holds the part already, it is verified."""
        remote = await live.provider.remote_parts(live.session)
        live.check_remote.discard(part.number)
        found = next((r for r in remote or () if r.number == part.number), None)
        receipt = live.provider.remote_receipt(part, found) if found is not None else None
        if receipt is None or not receipt.verified:
            return False
        part.etag = receipt.etag
        part.error = None
        live.progress.done += part.size
        await self._set_part(
            live, part, P.VERIFIED, data={"etag": receipt.etag, "found_on_server": True}
        )
        return True

    async def _fail(
        self, live: _Live, part: Part, message: str, state: PartState = P.FAILED
    ) -> None:
        part.error = message
        await self._set_part(live, part, state, message=message)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After wins when longer."""
        # The exponent stops growing long after the cap is reached: ``retries`` has no upper
        # bound, and 2.0 ** 1024 overflows.
        delay: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(attempt - 1, 64))
        delay *= 0.5 + self._rng() / 2
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
        return delay

    def _on_progress(self, live: _Live, number: int, n: int) -> None:
        progress = live.progress
        progress.in_flight[number] = progress.in_flight.get(number, 0) + n
        progress.sent += n
        progress.last_progress = time.monotonic()
        if not progress.started:
            progress.started = progress.last_progress
        now = self._clock()
        if now - live.last_event >= PROGRESS_INTERVAL:
            live.last_event = now
            self._tell(
                [
                    self._event(
                        "progress",
                        live.session,
                        data={"bytes": progress.current, "total": progress.total},
                    )
                ]
            )

    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch(), name="stall-watchdog")

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
                    await self._set_session(
                        live,
                        S.STALLED,
                        error=f"no bytes sent for {self.settings.stall_after:.0f}s; retry the "
                        "parts in flight or check the network",
                    )

    async def _settle_completed(self, live: _Live, location: str, note: str) -> None:
        """The server shows the object: a complete whose answer was lost took effect."""
        session = live.session
        session.location = location
        session.move(S.COMPLETED)
        session.error = None
        event = self._event(
            "session", session, state=str(S.COMPLETED), message=note, data={"location": location}
        )
        await self._commit(session=session, events=[event], durable=True)  # as complete's own

    async def _complete(self, live: _Live, *, force: bool = False) -> None:
        session = live.session
        if session.state == S.COMPLETED:
            return
        if session.state == S.COMPLETE_UNKNOWN:
            # Look before sending it again: the earlier complete may have taken effect.
            found = await live.provider.find_completed(session)
            if found is not None:
                await self._settle_completed(live, found, SERVER_HAS_IT)
                return
        if (
            not live.provider.complete_repeatable
            and session.complete_sent > 0
            and session.state in (S.COMPLETING, S.COMPLETE_UNKNOWN)
            and not force
        ):
            raise UsageError(complete_once_message(session, live.provider.title))
        missing = [p.number for p in live.parts.values() if not p.done]
        if missing:
            raise UsageError(
                f"cannot complete session {session.id[:12]}: part(s) {format_numbers(missing)} "
                f"are not uploaded; run partdeck resume {session.id[:8]} or retry them first"
            )
        if not session.opened:
            raise UsageError(f"session {session.id[:12]} was never opened; resume it first")
        await self._ensure_file_digests(live)
        session.move(S.COMPLETING)
        session.complete_sent += 1
        await self._commit(  # on stable storage before complete leaves: never sent twice
            session=session,
            events=[self._event("session", session, state=str(S.COMPLETING))],
            durable=True,
        )
        parts = sorted(live.parts.values(), key=lambda p: p.number)
        try:
            location = await live.provider.complete(session, parts)
        except UploadGone:
            await self._forget_upload(live, stop=True)
            return
        except (CompleteUnknown, TransientError) as exc:
            found = await live.provider.find_completed(session)
            if found is not None:
                await self._settle_completed(live, found, SERVER_HAS_IT)
                return
            error = str(exc)
            if isinstance(exc, TransientError):
                error += "; the outcome of complete is unknown, check before completing again"
            await self._set_session(live, S.COMPLETE_UNKNOWN, error=error, kind="error")
            return
        except RemoteError as exc:
            if exc.code == "digest_mismatch":
                # A whole-file digest the server disputes is hashed again next time.
                session.digests.clear()
            error = _gave_up(exc, session, "complete")
            await self._set_session(live, S.FAILED, error=error, kind="error")
            return
        session.location = location or session.location
        session.move(S.COMPLETED)
        session.error = None
        await self._commit(
            session=session,
            events=[
                self._event(
                    "session", session, state=str(S.COMPLETED), data={"location": session.location}
                )
            ],
            durable=True,
        )


def complete_once_message(session: Session, provider: str) -> str:
    """Complete went out once, where it may go only once, and its outcome is unknown."""
    return (
        f"session {session.id[:12]}: complete was already sent once and its outcome is "
        f"unknown; {provider} may already have the file: run partdeck abort {session.id[:8]} "
        "to settle it (a file already there is kept and recorded completed), or check there "
        f"and only if it is missing run partdeck complete {session.id[:8]} --force"
    )


def _gave_up(exc: RemoteError | UsageError, session: Session, command: str = "resume") -> str:
    """The error a session stops on, with the way on: a transient error that ran out of
    tries no longer says it "will retry", and one that names no fix (the provider's answer
    made no sense) gets the command that tries again."""
    text = str(exc)
    again = f"partdeck {command} {session.id[:8]}"
    if isinstance(exc, TransientError):
        return f"{exc.settled}; gave up for now, carry on with {again}"
    if "; " not in text:
        return f"{text}; try again with {again}, and check the account's URL if it repeats"
    return text


def format_numbers(numbers: Sequence[int]) -> str:
    """``1, 2, 5`` or ``1, 2, 3 … (+40 more)``."""
    shown = ", ".join(str(n) for n in numbers[:8])
    return shown if len(numbers) <= 8 else f"{shown} … (+{len(numbers) - 8} more)"
