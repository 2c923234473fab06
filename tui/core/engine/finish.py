"""The end of a remote upload: complete it, or abort it.

Both guard requests a provider may refuse to see twice: the record that one is sent is
on stable storage before it leaves, and an unclear outcome is settled by looking at the
server before anything is sent again.
"""

from __future__ import annotations

from tui.core.answers import complete_once_message
from tui.core.engine.events import Events
from tui.core.engine.files import LocalFile
from tui.core.engine.live import LiveSession
from tui.core.engine.messages import (
    ABORTED_WHILE_COMPLETING,
    SERVER_HAS_IT,
    format_numbers,
    gave_up,
    kept_note,
)
from tui.core.engine.remote import RemoteSession
from tui.core.errors import (
    AlreadyCompleted,
    CompleteUnknown,
    RemoteError,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.model import SESSION_TRANSITIONS, SessionState

S = SessionState


class Finish:
    """Sends complete or abort for a session, once where once is all a provider takes."""

    def __init__(self, events: Events, files: LocalFile, remote: RemoteSession) -> None:
        self._events = events
        self._files = files
        self._remote = remote

    async def settle_completed(self, live: LiveSession, location: str, note: str) -> None:
        """The server shows the object: a complete whose answer was lost took effect."""
        session = live.session
        session.location = location
        session.move(S.COMPLETED)
        session.error = None
        event = self._events.event(
            "session", session, state=str(S.COMPLETED), message=note, data={"location": location}
        )
        await self._events.commit(session=session, events=[event], durable=True)  # as complete's

    async def complete(self, live: LiveSession, *, force: bool = False) -> None:
        """Finish the remote upload; every part must be done and the session opened."""
        events = self._events
        session = live.session
        if session.state == S.COMPLETED:
            return
        if session.state == S.COMPLETE_UNKNOWN:
            # Look before sending it again: the earlier complete may have taken effect.
            found = await live.provider.find_completed(session)
            if found is not None:
                await self.settle_completed(live, found, SERVER_HAS_IT)
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
        await self._files.ensure_file_digests(live)
        session.move(S.COMPLETING)
        session.complete_sent += 1
        await events.commit(  # on stable storage before complete leaves: never sent twice
            session=session,
            events=[events.event("session", session, state=str(S.COMPLETING))],
            durable=True,
        )
        parts = sorted(live.parts.values(), key=lambda p: p.number)
        try:
            location = await live.provider.complete(session, parts)
        except UploadGone:
            await self._remote.forget_upload(live, stop=True)
            return
        except (CompleteUnknown, TransientError) as exc:
            found = await live.provider.find_completed(session)
            if found is not None:
                await self.settle_completed(live, found, SERVER_HAS_IT)
                return
            error = str(exc)
            if isinstance(exc, TransientError):
                error += "; the outcome of complete is unknown, check before completing again"
            await events.set_session(session, S.COMPLETE_UNKNOWN, error=error, kind="error")
            return
        except RemoteError as exc:
            if exc.code == "digest_mismatch":
                # A whole-file digest the server disputes is hashed again next time.
                session.digests.clear()
            error = gave_up(exc, session, "complete")
            await events.set_session(session, S.FAILED, error=error, kind="error")
            return
        session.location = location or session.location
        session.move(S.COMPLETED)
        session.error = None
        await events.commit(
            session=session,
            events=[
                events.event(
                    "session", session, state=str(S.COMPLETED), data={"location": session.location}
                )
            ],
            durable=True,
        )

    async def abort(self, live: LiveSession) -> None:
        """Discard the remote upload of a session nothing drives; the local file stays.

        The session ends aborted, or completed where an earlier complete is found to have
        taken effect, or aborting with the error and the command that tries again.
        """
        events = self._events
        session = live.session
        if session.state == S.COMPLETING:  # stopped while complete was in flight
            await events.set_session(
                session, S.COMPLETE_UNKNOWN, kind="error", error=ABORTED_WHILE_COMPLETING
            )
        if not session.opened:  # nothing on the server: aborted at once
            if S.ABORTED not in SESSION_TRANSITIONS[session.state]:
                await events.set_session(session, S.ABORTING)
            await events.set_session(session, S.ABORTED)
            return
        if session.complete_sent and session.state in (S.COMPLETE_UNKNOWN, S.ABORTING):
            # A complete whose answer was lost may have taken effect: then there is
            # nothing to abort, and the session is completed.
            found = await live.provider.find_completed(session)
            if found is not None:
                await self.settle_completed(live, found, kept_note(found))
                return
        # On stable storage before abort leaves: a power loss must not bring back a
        # session whose upload the provider has discarded, nor lose the provider's mark
        # that an abort may have been sent.
        live.provider.before_abort(session)
        if session.state != S.ABORTING:
            await events.set_session(session, S.ABORTING, durable=True)
        else:
            await events.commit(session=session, durable=True)
        try:
            note = await live.provider.abort(session)
        except AlreadyCompleted as exc:
            found = exc.location or session.location or "the provider"
            await self.settle_completed(live, found, f"{exc}; {kept_note(found)}")
            return
        except RemoteError as exc:
            short = session.id[:8]
            error, again = exc.settled, f"partdeck abort {short} again"
            if "partdeck abort again" in error:  # the provider said it: name the session
                error = error.replace("partdeck abort again", again)
            elif f"partdeck abort {short}" not in error:
                error += f"; the upload may still hold parts, run {again}"
            await events.set_session(session, S.ABORTING, kind="error", error=error)
            return
        session.move(S.ABORTED)
        session.error = None
        await events.commit(
            session=session,
            events=[events.event("session", session, state=str(S.ABORTED), message=note)],
            durable=True,
        )
