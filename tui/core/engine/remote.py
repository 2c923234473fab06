"""The remote side of a session: open it, keep the journal honest against what the
server holds, and forget an upload found gone."""

from __future__ import annotations

import asyncio

from tui.core.engine.events import Events
from tui.core.engine.files import LocalFile
from tui.core.engine.live import LiveSession
from tui.core.engine.scheduler import Scheduler
from tui.core.errors import CallUnsupported, RemoteError, TransientError, UploadGone
from tui.core.gone import GONE_MARK, forget_upload, gone_line
from tui.core.model import DONE_PART_STATES, Event, Part, PartState, SessionState
from tui.core.transfer import NOT_SENT

P = PartState
S = SessionState

OPEN_TRIES = 4


class RemoteSession:
    """Opens, reconciles and forgets the provider's side of a session."""

    def __init__(self, events: Events, files: LocalFile, scheduler: Scheduler) -> None:
        self._events = events
        self._files = files
        self._scheduler = scheduler

    async def open(self, live: LiveSession) -> None:
        """Create the remote session, repeating where that is safe; durable once it exists."""
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
                await asyncio.sleep(self._scheduler.backoff(attempt + 1, exc.retry_after))
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
        event = self._events.event(
            "session",
            session,
            state=str(S.UPLOADING),
            message=opened.note,
            data={"location": session.location, "parts": len(live.parts)},
        )
        await self._events.commit(
            session=session,
            parts=list(live.parts.values()) if replace else (),
            events=[event],
            replace_parts_of=replace,
            durable=True,  # a power loss must not forget a remote upload that exists
        )
        await self.remember(live)

    async def remember(self, live: LiveSession) -> None:
        """Keep what the provider learnt of its store (``Provider.learned``) for the
        account's later sessions, in any process; and the session's remote record, which
        may have changed with it."""
        learned, journal = live.provider.learned, self._events.journal
        if learned and learned != journal.account_facts(live.session.account):
            await asyncio.to_thread(journal.record_account_facts, live.session.account, learned)
            await self._events.commit(session=live.session)

    async def reconcile(self, live: LiveSession) -> None:
        """Ask the server which parts it holds; keep the journal honest both ways. Where
        the upload is gone, forget it; where the store cannot list, the journal decides."""
        events = self._events
        try:
            remote = await live.provider.remote_parts(live.session)
        except UploadGone:
            await self.forget_upload(live, stop=False)
            return
        except CallUnsupported as exc:
            note = f"{exc}; resuming from the journal (parts not verified are sent again)"
            events.tell([events.event("notice", live.session, message=note)])
            return
        if remote is None:
            return
        held = {r.number: r for r in remote}
        changed: list[Part] = []
        told: list[Event] = []
        for part in sorted(live.parts.values(), key=lambda p: p.number):
            found = held.get(part.number)
            if part.state in DONE_PART_STATES and found is None:
                part.move(P.PENDING)
                part.error = "the server no longer holds this part; sending it again"
                changed.append(part)
                told.append(events.part_event(live.session, part, message=part.error))
            elif (
                part.state == P.PENDING
                and part.number not in live.resend
                and found is not None
                and found.size == part.size
            ):
                if self._files.needs_hash(live, part):
                    await self._files.hash(live, part)
                receipt = live.provider.remote_receipt(part, found)
                if receipt is not None and receipt.verified:
                    part.etag = receipt.etag
                    part.move(P.VERIFIED)
                    changed.append(part)
                    told.append(events.part_event(live.session, part, data={"reconciled": True}))
        live.progress.done = sum(p.size for p in live.parts.values() if p.done)
        if changed:
            await events.commit(parts=changed, events=told)

    async def found_on_server(self, live: LiveSession, part: Part) -> bool:
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
        await self._events.set_part(
            live.session, part, P.VERIFIED, data={"etag": receipt.etag, "found_on_server": True}
        )
        return True

    async def forget_upload(self, live: LiveSession, *, stop: bool) -> None:
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
            event = self._events.event(
                "error", session, state=str(S.FAILED), message=line, data=mark
            )
        else:
            event = self._events.event("notice", session, message=line, data=mark)
        await self._events.commit(session=session, parts=parts, events=[event])
