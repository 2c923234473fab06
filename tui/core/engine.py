"""The engine: plans sessions, drives their parts concurrently, and obeys commands.

One asyncio loop schedules everything; file reads, hashing and SQLite run in threads.
The machinery that drives a session lives in driver.py; this is the public surface the
CLI and the UI use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from tui.core.answers import (
    abort_refusal,
    complete_refusal,
    pause_refusal,
    retry_refusal,
    start_refusal,
)
from tui.core.diagnose import Diagnosis, diagnose, local_state
from tui.core.digest import check_readable, hash_range_async
from tui.core.driver import (
    P,
    Progress,
    ProviderFactory,
    S,
    SessionDriver,
    Subscriber,
    complete_once_message,
    format_numbers,
)
from tui.core.errors import (
    AlreadyCompleted,
    ConfigError,
    LocalFileError,
    PartdeckError,
    RemoteError,
    UploadGone,
    UsageError,
)
from tui.core.gone import gone_diagnosis, recorded_gone
from tui.core.journal import Journal
from tui.core.liveness import shown_state
from tui.core.model import SESSION_TRANSITIONS, Part, PlanPreview, Session
from tui.core.plan import plan_parts
from tui.core.ports import Provider, RemotePart, RemoteUpload

__all__ = ["Engine", "PlanPreview", "Progress", "ProviderFactory", "Subscriber"]

_ABORTED_WHILE_COMPLETING = (
    "complete was in flight when the abort came and its outcome is unknown; aborting"
)


class Engine(SessionDriver):
    """Drives upload sessions recorded in a Journal through their providers."""

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def preview(
        self, path: str | Path, account: str, part_size: int | None = None
    ) -> PlanPreview:
        """How ``account`` would split the file at ``path``; raises the refusal if it cannot.

        Nothing is recorded or sent: the file browser shows this before a batch starts.
        """
        provider = self._providers(account)
        full = await asyncio.to_thread(os.path.abspath, os.fspath(path))
        _check_utf8(full)
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
        event = self._event(
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
        await asyncio.to_thread(self.journal.create, session, parts, event)
        self._tell([event])
        return session

    async def check_account(self, account: str) -> str:
        """Make the account's cheapest authenticated call; returns what it said."""
        return await self._providers(account).check()

    def is_running(self, session_id: str) -> bool:
        """True while this engine is sending a session's parts."""
        live = self._live.get(session_id)
        return live is not None and live.runner is not None and not live.runner.done()

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
        session = self.session(session_id)
        parts = self.parts(session_id)
        events = await asyncio.to_thread(self.journal.events, session_id)
        local = await asyncio.to_thread(local_state, session)
        remote: list[RemotePart] | None = None
        server_error: str | None = None
        gone = not session.opened and recorded_gone(events)
        try:
            provider: Provider | None = self._providers(session.account)
        except ConfigError as exc:  # no secret, no account: still show journal and file
            provider, server_error = None, str(exc)
        if (
            provider is not None
            and provider.can_list_parts
            and session.opened
            and not session.final
        ):
            try:
                remote = await provider.remote_parts(session)
            except UploadGone:
                gone = True
            except RemoteError as exc:
                server_error = exc.settled
        diagnosis = diagnose(
            session,
            parts,
            events,
            local=local,
            remote=remote,
            server_error=server_error,
            can_list=provider is not None and provider.can_list_parts,
            renewable=provider is None or provider.renewable_targets,
            complete_once=provider is None or not provider.complete_repeatable,
            running=self.is_running(session_id),
            now=self._clock(),
        )
        return gone_diagnosis(diagnosis) if gone else diagnosis

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

    def progress(self, session_id: str) -> Progress | None:
        """Live byte counts of a session this engine drives, else None."""
        live = self._live.get(session_id)
        return live.progress if live else None

    async def start(self, session_id: str, *, auto_complete: bool | None = None) -> None:
        """Drive a session: open it remotely if needed, then send every part not done."""
        live = await self._load(session_id)
        repeatable = live.provider.complete_repeatable
        if live.session.state == S.COMPLETING and not repeatable:
            # A crash while complete was in flight, where it may be sent only once: the
            # outcome is unknown, and the journal says so from now on.
            message = complete_once_message(live.session, live.provider.title)
            try:
                await self._set_session(live, S.COMPLETE_UNKNOWN, error=message, kind="error")
            finally:
                self._release(live)
            raise UsageError(message)
        refusal = start_refusal(live.session, live.provider)
        if refusal:
            self._release(live)
            raise UsageError(refusal)
        if auto_complete is not None:
            live.auto_complete = auto_complete
        if live.runner is None or live.runner.done():
            # A crash while complete was in flight: where sending it again is safe, carrying
            # on means sending it again, and the provider says if the first had landed.
            crashed = live.session.state == S.COMPLETING
            work = self._complete(live) if crashed else self._drive(live)
            live.runner = asyncio.create_task(work, name=f"session-{session_id}")
        self._ensure_watchdog()

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
        self._release(live)
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
        live = await self._load(session_id)
        session = live.session
        refusal = retry_refusal(session, live.provider)
        if refusal:
            self._release(live)
            raise UsageError(refusal)
        if not live.provider.renewable_targets and any(
            live.parts[n].state == P.EXPIRED for n in (numbers or []) if n in live.parts
        ):
            self._release(live)
            raise UsageError(
                f"session {session_id[:12]}: {live.provider.title} cannot renew expired part "
                f"links; abort with partdeck abort {session_id[:8]} and upload the file again"
            )
        if numbers is None:
            chosen = [p for p in live.parts.values() if p.state in (P.FAILED, P.EXPIRED)]
            if not live.provider.renewable_targets:
                chosen = [p for p in chosen if p.state == P.FAILED]
        else:
            unknown = [n for n in numbers if n not in live.parts]
            if unknown:
                self._release(live)
                raise UsageError(
                    f"session {session_id[:12]} has parts 1-{len(live.parts)}; "
                    f"no part {format_numbers(unknown)}"
                )
            chosen = [live.parts[n] for n in numbers]
        queued: list[int] = []
        for part in chosen:
            if part.state in (P.HASHING, P.UPLOADING, P.UPLOADED):
                continue  # already on its way
            if part.done:
                live.progress.done -= part.size
            part.move(P.PENDING)
            part.error = None
            live.targets.pop(part.number, None)
            live.resend.add(part.number)
            queued.append(part.number)
        events = [
            self._event("part", session, part=n, state=str(P.PENDING), message="retry requested")
            for n in queued
        ]
        await self._commit(parts=[live.parts[n] for n in queued], events=events)
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
        live = await self._load(session_id)
        try:
            running = live.runner is not None and not live.runner.done()
            refusal = complete_refusal(live.session, live.provider, running=running)
            if refusal:
                raise UsageError(refusal)
            await self._complete(live, force=force)
            return live.session
        finally:
            self._release(live)

    async def abort(self, session_id: str) -> Session:
        """Stop sending and discard the remote upload; the local file is untouched."""
        live = await self._load(session_id)
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
            if session.state == S.COMPLETING:  # stopped while complete was in flight
                await self._set_session(
                    live, S.COMPLETE_UNKNOWN, kind="error", error=_ABORTED_WHILE_COMPLETING
                )
            if not session.opened:  # nothing on the server: aborted at once
                if S.ABORTED not in SESSION_TRANSITIONS[session.state]:
                    await self._set_session(live, S.ABORTING)
                await self._set_session(live, S.ABORTED)
                return session
            if session.complete_sent and session.state in (S.COMPLETE_UNKNOWN, S.ABORTING):
                # A complete whose answer was lost may have taken effect: then there is
                # nothing to abort, and the session is completed.
                found = await live.provider.find_completed(session)
                if found is not None:
                    await self._settle_completed(live, found, _kept_note(found))
                    return session
            # On stable storage before abort leaves: a power loss must not bring back a
            # session whose upload the provider has discarded, nor lose the provider's mark
            # that an abort may have been sent.
            live.provider.before_abort(session)
            if session.state != S.ABORTING:
                await self._set_session(live, S.ABORTING, durable=True)
            else:
                await self._commit(session=session, durable=True)
            try:
                note = await live.provider.abort(session)
            except AlreadyCompleted as exc:
                found = exc.location or session.location or "the provider"
                await self._settle_completed(live, found, f"{exc}; {_kept_note(found)}")
                return session
            except RemoteError as exc:
                error, again = exc.settled, f"partdeck abort {session_id[:8]} again"
                if "partdeck abort again" in error:  # the provider said it: name the session
                    error = error.replace("partdeck abort again", again)
                elif f"partdeck abort {session_id[:8]}" not in error:
                    error += f"; the upload may still hold parts, run {again}"
                await self._set_session(live, S.ABORTING, kind="error", error=error)
                return session
            session.move(S.ABORTED)
            session.error = None
            await self._commit(
                session=session,
                events=[self._event("session", session, state=str(S.ABORTED), message=note)],
                durable=True,
            )
            return session
        finally:
            self._release(live)

    async def verify(self, session_id: str) -> list[tuple[int, bool | None]]:
        """Re-hash the local file against each part's recorded fingerprint.

        Returns (part number, matches) with None for parts never fingerprinted. A
        local-changed session whose parts all match again is set back to paused.
        """
        session = await asyncio.to_thread(self.journal.session, session_id)
        parts = await asyncio.to_thread(self.journal.parts, session_id)
        results: list[tuple[int, bool | None]] = []
        await asyncio.to_thread(check_readable, session.path)
        for part in parts:
            if part.xxh3 is None:
                results.append((part.number, None))
                continue
            digests = await hash_range_async(session.path, part.start, part.end)
            results.append((part.number, digests.xxh3 == part.xxh3))
        info = await asyncio.to_thread(check_readable, session.path)
        if (
            session.state == S.LOCAL_CHANGED
            and info.st_size == session.size
            and all(ok is not False for _, ok in results)
        ):
            live = await self._load(session_id)
            try:
                live.session.mtime_ns = info.st_mtime_ns
                await self._set_session(live, S.PAUSED)
            finally:
                self._release(live)
        return results

    async def close(self) -> None:
        """Pause everything this engine drives, leaving every session resumable."""
        for live in list(self._live.values()):
            if live.runner is not None and not live.runner.done():
                live.runner.cancel()
        for live in list(self._live.values()):
            if live.runner is not None:
                with contextlib.suppress(asyncio.CancelledError, PartdeckError):
                    await live.runner
            live.lock.release()
        self._live.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog


def _check_utf8(path: str) -> None:
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


def _kept_note(location: str) -> str:
    """What abort says when it finds the upload already completed."""
    return (
        f"nothing to abort: the earlier complete took effect and the file is at {location}; "
        "delete it there if it is not wanted"
    )
