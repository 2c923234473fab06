"""What the main screen's keys do to a session: what is asked first, the engine call,
and what is said after.

``SessionCommands`` is composed into ``MainScreen``, whose ``action_*`` methods (what
the bindings name) call it. Every engine call runs in a worker of the screen; a refusal
becomes a notification, never a traceback, and a bug is reported and the app goes on.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel

from tui.core.diagnose import Fix, server_view
from tui.core.errors import PartdeckError
from tui.core.model import PartState, Session, SessionState
from tui.core.redact import redact
from tui.core.units import format_size
from tui.service.api import EngineAPI
from tui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from tui.ui.screens.main import MainScreen

P = PartState
S = SessionState


class SessionCommands:
    """The session commands of one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._waiters: set[str] = set()
        """Sessions a worker waits on (``follow``)."""

    @property
    def engine(self) -> EngineAPI:
        """The app's engine (in-process or the service's)."""
        return self.screen.papp.engine

    def _notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
    ) -> None:
        self.screen.notify(message, title=title, severity=severity, timeout=timeout)

    async def _confirm(self, title: str, body: str, *, yes: str, danger: bool = False) -> bool:
        """Ask in a dialog; True when the person said yes."""
        answer: bool = await self.screen.app.push_screen_wait(
            ConfirmScreen(title, body, yes=yes, danger=danger)
        )
        return answer

    def run(self, what: str, call: Callable[[], Awaitable[object]]) -> None:
        """Run one engine command in a worker; its refusal becomes a notification."""
        screen = self.screen
        session_id = screen.selected

        async def run() -> None:
            try:
                await call()
            except PartdeckError as exc:
                self._notify(redact(str(exc)), title=what, severity="error", timeout=10)
            except Exception as exc:  # a bug: say so, keep the app and the sessions alive
                screen.papp.report_bug(what, exc)
            if session_id is not None:
                self.follow(session_id)
            await screen.resync()

        screen.background(run, group="commands", name=what)

    def follow(self, session_id: str) -> None:
        """Wait in the background for a running session to stop, then let the engine
        release it (its lock too), so other partdeck processes may take it up."""
        engine = self.engine
        if session_id in self._waiters or not engine.is_running(session_id):
            return
        self._waiters.add(session_id)
        screen = self.screen

        async def wait() -> None:
            try:
                while engine.is_running(session_id):
                    await engine.wait(session_id)
            except Exception as exc:  # the runner hit a bug; the session is left resumable
                screen.papp.report_bug("upload", exc)
            finally:
                self._waiters.discard(session_id)
            await screen.resync()

        screen.background(wait, group="waiters", name=f"wait {session_id[:8]}")

    # -- one per key ------------------------------------------------------------------------

    def pause_resume(self, session: Session) -> None:
        """Pause a running session, or resume a stopped one."""
        engine = self.engine
        if engine.is_running(session.id):
            self.run("Pause", lambda: engine.pause(session.id))
        else:
            self.run("Resume", lambda: engine.start(session.id))

    def retry_part(self, session: Session, number: int) -> None:
        """Send one part again."""
        engine = self.engine

        async def retry() -> None:
            await engine.retry(session.id, [number])
            self._notify(f"part {number} of {os.path.basename(session.path)} queued again")

        self.run("Retry part", retry)

    def retry_failed(self, session: Session) -> None:
        """Send every failed part of the session again."""
        engine = self.engine

        async def retry() -> None:
            queued = await engine.retry(session.id)
            self._notify(f"{len(queued)} part(s) of {os.path.basename(session.path)} queued again")

        self.run("Retry failed", retry)

    async def complete(self, session: Session) -> None:
        """Finish the upload; ask first when not every part could be verified, or when
        complete was sent before and its outcome is unknown. Run in a worker."""
        engine = self.engine
        name = os.path.basename(session.path)
        force = False
        if session.state in (S.COMPLETE_UNKNOWN, S.COMPLETING):
            try:
                force = not engine.complete_repeatable(session.account)
            except PartdeckError as exc:
                self._notify(redact(str(exc)), title="Complete", severity="error", timeout=10)
                return
            body = f"Complete was already sent for {name} and its outcome is unknown. " + (
                f"{session.provider} takes complete only once: check whether the file "
                "is already there, because sending it again may make a duplicate."
                if force
                else "Sending it again is safe for this provider."
            )
            if not await self._confirm(
                "Send complete again?", body, yes="Send again", danger=force
            ):
                return
        else:
            parts = await engine.load_parts(session.id)
            unverified = [p.number for p in parts if p.state == P.UNVERIFIABLE]
            if unverified:
                body = (
                    f"{len(unverified)} of {len(parts)} parts of {name} were accepted but the "
                    "server's receipt could not be checked against the local digest. "
                    "Complete anyway?"
                )
                if not await self._confirm("Not every part is verified", body, yes="Complete"):
                    return
        self.run("Complete", lambda: engine.complete(session.id, force=force))

    async def abort(self, session: Session) -> None:
        """Discard the remote upload, after showing what will be lost. Run in a worker."""
        engine = self.engine
        parts = await engine.load_parts(session.id)
        done = [p for p in parts if p.done]
        size = sum(p.size for p in done)
        name = os.path.basename(session.path)
        body = (
            f"Abort the upload of {name} to {session.account}?\n\n"
            f"Discards {len(done)} of {len(parts)} parts already on the server "
            f"({format_size(size)} of {format_size(session.size)}). The local file is not "
            "touched; to upload it again, start a new batch."
        )
        if engine.is_running(session.id):
            body += "\nThe parts in flight stop now."
        if not await self._confirm("Abort upload?", body, yes="Abort", danger=True):
            return

        async def abort() -> None:
            result = await engine.abort(session.id)
            if result.state == S.ABORTED:
                self._notify(f"{name}: aborted")

        self.run("Abort", abort)

    def verify(self, session: Session) -> None:
        """Re-hash the local file and compare with each part's fingerprint."""
        engine = self.engine
        name = os.path.basename(session.path)

        async def verify() -> None:
            self._notify(f"{name}: hashing the local file…", timeout=3)
            results = await engine.verify(session.id)
            bad = [n for n, ok in results if ok is False]
            checked = sum(1 for _, ok in results if ok is not None)
            if bad:
                self._notify(
                    f"{name}: {len(bad)} of {checked} parts no longer match the file "
                    f"({', '.join(map(str, bad[:8]))}); restore the file or abort",
                    severity="error",
                    timeout=10,
                )
            else:
                self._notify(f"{name}: all {checked} fingerprinted parts match the file")

        self.run("Verify", verify)

    def refresh_remote(self, session: Session) -> None:
        """Ask the server which parts it holds and mark them in the parts view."""
        engine = self.engine
        screen = self.screen
        name = os.path.basename(session.path)

        async def refresh() -> None:
            remote = await engine.remote_parts(session.id)
            if remote is None:
                self._notify(f"{name}: {session.provider} cannot list the parts it holds")
                return
            parts = await engine.load_parts(session.id)
            held = {r.number: r for r in remote}
            view = {part.number: str(server_view(part, held)) for part in parts}
            screen.remote[session.id] = view
            missing = sum(1 for v in view.values() if v != "held")
            self._notify(
                f"{name}: the server holds {len(remote)} of {len(parts)} parts"
                + (f"; {missing} missing or different" if missing else "")
            )
            if screen.selected == session.id:
                await screen.parts.load(session.id)

        self.run("Server parts", refresh)

    def copy_url(self, session: Session) -> None:
        """Copy the object's location to the clipboard (OSC 52 reaches the local terminal)."""
        if not session.location:
            return
        location = redact(session.location)
        self.screen.app.copy_to_clipboard(location)
        self._notify(f"copied {location}")

    async def inspect(self, session: Session) -> None:
        """Open the stuck-session view; run the fix it suggests if asked. Run in a worker."""
        from tui.ui.screens.inspect import InspectScreen

        fix = await self.screen.app.push_screen_wait(InspectScreen(session.id))
        if fix is not None:
            self.apply_fix(session.id, fix)

    def apply_fix(self, session_id: str, fix: Fix) -> None:
        """Carry out the fix the inspect view suggested."""
        engine = self.engine
        screen = self.screen
        if fix.action == "resume":
            self.run("Resume", lambda: engine.start(session_id))
        elif fix.action == "retry_failed":
            self.run("Retry failed", lambda: engine.retry(session_id))
        elif fix.action == "retry_parts":
            numbers = list(fix.parts)
            self.run("Retry parts", lambda: engine.retry(session_id, numbers))
        elif fix.action in ("complete", "complete_force"):
            screen.action_complete()
        elif fix.action == "abort":
            screen.action_abort()
        elif fix.action == "verify":
            screen.action_verify()

    def start_batch(self, paths: list[Path], account: str) -> None:
        """Plan and start one session per file on ``account``."""
        engine = self.engine
        screen = self.screen

        async def start() -> None:
            started = 0
            for path in paths:
                try:
                    session = await engine.plan(path, account)
                    await engine.start(session.id)
                    self.follow(session.id)
                    started += 1
                except PartdeckError as exc:
                    self._notify(f"{path.name}: {redact(str(exc))}", severity="error", timeout=10)
            if started:
                self._notify(f"{started} upload(s) started on {account}")
            await screen.resync()

        screen.background(start, group="commands", name="start batch")
