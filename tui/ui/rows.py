"""What the tables show: sessions and parts turned into cells, with markers and tones.

Plain functions and dataclasses, no widgets: the tables style each cell by its tone
(a theme variable) and every state also carries a marker that reads without colour.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from tui.core.display import visible
from tui.core.liveness import INTERRUPTED, resume_hint
from tui.core.meter import RateHistory, RateMeter
from tui.core.model import Part, PartState, Session, SessionState
from tui.core.redact import redact
from tui.core.units import format_duration, format_rate, format_size

P = PartState
S = SessionState


class Tone(StrEnum):
    """How a cell stands out; each tone is a theme variable (``$part-failed`` and so on)."""

    NORMAL = "normal"
    MUTED = "muted"
    ACTIVE = "active"
    DONE = "done"
    WARNING = "warning"
    ERROR = "error"
    UNKNOWN = "unknown"


SESSION_MARKS: dict[SessionState, tuple[str, Tone]] = {
    S.PLANNED: ("·", Tone.MUTED),
    S.UPLOADING: ("↑", Tone.ACTIVE),
    S.PAUSED: ("‖", Tone.NORMAL),
    S.STALLED: ("!", Tone.WARNING),
    S.UPLOADED: ("◆", Tone.ACTIVE),
    S.COMPLETING: ("…", Tone.ACTIVE),
    S.COMPLETE_UNKNOWN: ("?", Tone.UNKNOWN),
    S.COMPLETED: ("✓", Tone.DONE),
    S.ABORTING: ("…", Tone.WARNING),
    S.ABORTED: ("⊘", Tone.MUTED),
    S.FAILED: ("✗", Tone.ERROR),
    S.LOCAL_CHANGED: ("≠", Tone.WARNING),
}
"""Marker and tone of every session state: stalled, failed, complete-unknown and
local-changed stand out by both."""

PART_MARKS: dict[PartState, tuple[str, Tone]] = {
    P.PENDING: ("·", Tone.MUTED),
    P.HASHING: ("#", Tone.ACTIVE),
    P.UPLOADING: ("↑", Tone.ACTIVE),
    P.UPLOADED: ("◇", Tone.ACTIVE),
    P.VERIFIED: ("✓", Tone.DONE),
    P.UNVERIFIABLE: ("~", Tone.UNKNOWN),
    P.FAILED: ("✗", Tone.ERROR),
    P.EXPIRED: ("⊘", Tone.WARNING),
}

REMOTE_MARKS: dict[str, tuple[str, Tone]] = {
    "held": ("●", Tone.DONE),
    "missing": ("○", Tone.ERROR),
    "differs": ("≠", Tone.ERROR),
}
"""What the server said of a part after a refresh (``f``)."""


INTERRUPTED_MARK: tuple[str, Tone] = ("↯", Tone.WARNING)
"""Marker and tone of a session whose driver is gone (shown as ``interrupted``)."""


def session_label(state: SessionState) -> str:
    """``✗ failed``: the marker and the state's name."""
    return f"{SESSION_MARKS[state][0]} {state}"


def part_label(state: PartState) -> str:
    """``✓ verified``: the marker and the state's name."""
    return f"{PART_MARKS[state][0]} {state}"


@dataclass
class SessionStats:
    """What the sessions table knows of one session beyond the journal row."""

    total_parts: int = 0
    done_parts: int = 0
    done_bytes: int = 0
    current_bytes: int | None = None
    """Bytes done plus bytes in flight, while this process sends the session."""
    meter: RateMeter = field(default_factory=RateMeter)
    rates: RateHistory = field(default_factory=RateHistory)
    """The meter's rate once a second while this process sends the session (the graph)."""
    running: bool = False
    interrupted: bool = False
    """In a state that needs a driver, and no process drives it (``core.liveness``)."""


@dataclass(frozen=True)
class Cell:
    """One table cell: text and how it stands out."""

    text: str
    tone: Tone = Tone.NORMAL


SESSION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file", "File"),
    ("state", "State"),
    ("parts", "Parts"),
    ("sent", "Sent"),
    ("rate", "Rate"),
    ("eta", "ETA"),
    ("size", "Size"),
    ("account", "Account"),
    ("age", "Age"),
)
"""Column keys and headings, most needed first so 80 columns show what matters."""

FILE_WIDTH = 12
DURATION_WIDTH = 6
"""The ETA and Age columns: ``23h59m``, ``99d23h``; longer ones drop the hours."""


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def short_duration(seconds: float) -> str:
    """``format_duration`` within DURATION_WIDTH: ``123d`` past 99 days, ``>270y`` past that."""
    text = format_duration(seconds)
    if len(text) <= DURATION_WIDTH:
        return text
    days = f"{int(seconds) // 86400}d"
    return days if len(days) <= DURATION_WIDTH else ">270y"


def session_cells(session: Session, stats: SessionStats, now: float) -> dict[str, Cell]:
    """The sessions table's cells for one session, by column key."""
    mark, tone = SESSION_MARKS[session.state]
    shown = str(session.state)
    if stats.interrupted and not stats.running:
        (mark, tone), shown = INTERRUPTED_MARK, INTERRUPTED
    sent = stats.current_bytes if stats.current_bytes is not None else stats.done_bytes
    rate = stats.meter.rate if stats.running else 0.0
    eta = stats.meter.eta(session.size - sent) if stats.running else None
    attention = tone in (Tone.ERROR, Tone.WARNING, Tone.UNKNOWN)
    return {
        "file": Cell(
            _shorten(visible(os.path.basename(session.path)), FILE_WIDTH),
            tone if attention else Tone.NORMAL,
        ),
        "state": Cell(f"{mark} {shown}", tone),
        "parts": Cell(
            f"{stats.done_parts}/{stats.total_parts}",
            Tone.DONE
            if stats.total_parts and stats.done_parts == stats.total_parts
            else Tone.NORMAL,
        ),
        "sent": Cell(format_size(sent)),
        "rate": Cell(format_rate(rate) if rate >= 1 else "–", Tone.ACTIVE if rate else Tone.MUTED),
        "eta": Cell(short_duration(eta) if eta is not None and rate >= 1 else "–"),
        "size": Cell(format_size(session.size)),
        "account": Cell(_shorten(visible(session.account), 18)),
        "age": Cell(short_duration(now - session.created_at)),
    }


PART_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("number", "#", 5),
    ("range", "Range", 17),
    ("state", "State", 14),
    ("server", "Srv", 3),
    ("attempts", "Try", 3),
    ("digest", "Digest", 10),
    ("expiry", "Expires", 9),
    ("error", "Last error", 0),
)
"""Column key, heading and width (0: the rest of the line) of the parts view."""


def part_cells(part: Part, remote: str | None, now: float) -> list[Cell]:
    """The parts view's cells for one part, in PART_COLUMNS order."""
    mark, tone = PART_MARKS[part.state]
    server_mark, server_tone = REMOTE_MARKS.get(remote or "", ("", Tone.MUTED))
    digest = visible(
        (part.etag or part.md5 or part.sha1 or part.sha256 or part.xxh3 or "").strip('"')
    )
    if part.target_expires_at is None or part.done:
        expiry = Cell("–", Tone.MUTED)
    elif part.target_expires_at <= now:
        expiry = Cell("expired", Tone.WARNING if not part.done else Tone.MUTED)
    else:
        expiry = Cell(f"in {short_duration(part.target_expires_at - now)}")
    return [
        Cell(str(part.number)),
        Cell(f"{format_size(part.start)}–{format_size(part.end)}"),
        Cell(f"{mark} {part.state}", tone),
        Cell(server_mark, server_tone),
        Cell(
            str(part.attempts) if part.attempts < 1000 else "1k+",
            Tone.WARNING if part.attempts > 1 else Tone.NORMAL,
        ),
        Cell(_shorten(digest, 10) if digest else "–", Tone.NORMAL if digest else Tone.MUTED),
        expiry,
        Cell(visible(part.error or ""), Tone.ERROR if part.state == P.FAILED else Tone.MUTED),
    ]


def detail_text(
    session: Session, stats: SessionStats | None, show_path: Callable[[Path], str]
) -> str:
    """The detail lines under the sessions table: where the session goes, and why it
    stopped when it did (interrupted, or its error). Secrets are redacted."""
    bits = [
        session.id[:12],
        f"{session.account} ({session.provider})",
        f"{format_size(session.part_size)} parts",
        show_path(Path(session.path)),
    ]
    if session.location:
        bits.append(f"→ {session.location}")
    text = "  ·  ".join(visible(redact(bit)) for bit in bits)
    if stats is not None and stats.interrupted and not stats.running:
        text += f"\n↯ interrupted: its process stopped; resume it (p) or run {resume_hint(session)}"
    if session.error:
        text += f"\n✗ {visible(redact(session.error))}"
    return redact(text)
