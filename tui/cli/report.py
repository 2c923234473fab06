"""What a headless run prints: JSON lines, plain progress lines, or one live line on a TTY."""

from __future__ import annotations

import json
import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from tui.core.display import visible
from tui.core.meter import RateMeter
from tui.core.model import Event, Session
from tui.core.units import format_duration, format_rate, format_size

if TYPE_CHECKING:
    from tui.service.api import EngineAPI

PLAIN_INTERVAL = 1.0
"""Seconds between plain progress lines (no TTY)."""
LIVE_INTERVAL = 0.2
"""Seconds between redraws of the live line (TTY)."""

_NOTABLE_PART_STATES = frozenset({"failed", "expired", "unverifiable"})
_STOPPED_FOR_OPERATOR = frozenset({"failed", "complete-unknown", "local-changed"})
"""Session states whose message (the problem and the fix) the command prints once, on
stderr, when it ends; the progress output only names the state."""


def session_summary(session: Session) -> dict[str, Any]:
    """The closing JSON object for one session."""
    return {
        "event": "summary",
        "session": session.id,
        "state": str(session.state),
        "location": session.location,
        "path": session.path,
        "account": session.account,
        "size": session.size,
        "error": session.error,
    }


class Reporter(ABC):
    """Turns engine events into output; pick one with ``make_reporter``."""

    def __init__(self, engine: EngineAPI, out: TextIO, clock: Callable[[], float]) -> None:
        self.engine = engine
        self.out = out
        self.clock = clock
        self.sessions: dict[str, Session] = {}

    def track(self, sessions: Sequence[Session]) -> None:
        """Report on these sessions."""
        for s in sessions:
            self.sessions[s.id] = s

    @abstractmethod
    def __call__(self, event: Event) -> None:
        """Handle one engine event."""

    @abstractmethod
    def finish(self, sessions: Sequence[Session]) -> None:
        """Print the closing lines."""


class JsonReporter(Reporter):
    """One JSON object per event per line; a summary line per session at the end."""

    def __call__(self, event: Event) -> None:
        self.out.write(json.dumps(event.as_dict(), sort_keys=True) + "\n")
        self.out.flush()

    def finish(self, sessions: Sequence[Session]) -> None:
        for s in sessions:
            self.out.write(json.dumps(session_summary(s), sort_keys=True) + "\n")
        self.out.flush()


class TextReporter(Reporter):
    """Plain lines (no TTY, at most one progress line a second) or one live line (TTY)."""

    def __init__(
        self, engine: EngineAPI, out: TextIO, clock: Callable[[], float], *, live: bool
    ) -> None:
        super().__init__(engine, out, clock)
        self.live = live
        self.interval = LIVE_INTERVAL if live else PLAIN_INTERVAL
        self.meter = RateMeter()
        self._last_line = 0.0
        self._live_width = 0

    def _name(self, session: Session | None, session_id: str) -> str:
        """The file's name, with the account when several sessions share that name."""
        if session is None:
            return session_id[:8]
        name = os.path.basename(session.path)
        twins = sum(1 for s in self.sessions.values() if os.path.basename(s.path) == name)
        return f"{name} ({session.account})" if twins > 1 else name

    def __call__(self, event: Event) -> None:
        session = self.sessions.get(event.session_id)
        name = self._name(session, event.session_id)
        if event.kind == "progress":
            self._progress()
            return
        line: str | None = None
        if event.kind in ("session", "error"):
            line = f"{name}: {event.state}"
            if event.state == "completed" and event.data.get("location"):
                line += f" -> {event.data['location']}"
            if event.message and event.state not in _STOPPED_FOR_OPERATOR:
                line += f": {event.message}"
        elif event.kind == "notice" and event.message:
            line = f"{name}: {event.message}"
        elif event.kind == "part" and (event.state in _NOTABLE_PART_STATES or event.message):
            line = f"{name}: part {event.part} {event.state}"
            if event.message:  # providers' part messages name the part already
                line += f": {event.message.removeprefix(f'part {event.part}: ')}"
        if line is not None:
            self._print(line)

    def _progress(self) -> None:
        now = self.clock()
        if now - self._last_line < self.interval:
            return
        self._last_line = now
        done = total = 0
        parts_done = parts_total = 0
        for sid, session in self.sessions.items():
            progress = self.engine.progress(sid)
            total += session.size
            if progress is not None:
                done += progress.current
            parts = self.engine.parts(sid) if progress is not None else []
            parts_total += len(parts)
            parts_done += sum(1 for p in parts if p.done)
        rate = self.meter.update(now, done)
        eta = self.meter.eta(total - done)
        pct = 100.0 * done / total if total else 100.0
        text = (
            f"{pct:5.1f}%  {format_size(done)} / {format_size(total)}  "
            f"parts {parts_done}/{parts_total}  {format_rate(rate)}  "
            f"ETA {format_duration(eta) if eta is not None else '?'}"
        )
        if len(self.sessions) > 1:
            text = f"{len(self.sessions)} files  {text}"
        text = visible(text)
        if self.live:
            pad = max(0, self._live_width - len(text))
            self.out.write("\r" + text + " " * pad)
            self._live_width = len(text)
            self.out.flush()
        else:
            self._print(text)

    def _print(self, line: str) -> None:
        if self.live and self._live_width:
            self.out.write("\r" + " " * self._live_width + "\r")
            self._live_width = 0
        self.out.write(visible(line) + "\n")
        self.out.flush()

    def finish(self, sessions: Sequence[Session]) -> None:
        if self.live and self._live_width:
            self._print("")
        for s in sessions:
            # A session that ended with a problem gets its one line, with the fix, on
            # stderr from the command; here only where it stands.
            where = f" -> {s.location}" if s.location and str(s.state) == "completed" else ""
            self.out.write(visible(f"{s.id[:12]}  {s.state}  {s.path}{where}") + "\n")
        self.out.flush()


def make_reporter(engine: EngineAPI, *, as_json: bool, out: TextIO | None = None) -> Reporter:
    """JSON lines with ``--json``; else a live line on a TTY or plain lines without one."""
    stream = out or sys.stdout
    if as_json:
        return JsonReporter(engine, stream, time.monotonic)
    return TextReporter(engine, stream, time.monotonic, live=stream.isatty())
