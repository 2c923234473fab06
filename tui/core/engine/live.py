"""What the engine holds in memory for a session it drives: the session, its parts, and
the live byte counts (never journaled; derived again after a restart)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from tui.core.engine.messages import format_numbers
from tui.core.errors import UsageError
from tui.core.gone import GoneProbe
from tui.core.locks import SessionLock
from tui.core.model import Part, PartState, Session
from tui.core.ports import PartTarget, Provider

P = PartState


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
class LiveSession:
    """A session the engine drives: held under its lock until the engine lets it go."""

    session: Session
    parts: dict[int, Part]
    provider: Provider
    lock: SessionLock
    progress: Progress
    queue: deque[int] = field(default_factory=deque)
    """Part numbers waiting to be sent."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when parts join the queue of a session being sent."""
    runner: asyncio.Task[None] | None = None
    """The task driving the session, while there is one."""
    targets: dict[int, PartTarget] = field(default_factory=dict)
    auto_complete: bool = True
    last_event: float = 0.0
    """Clock time of the last progress event."""
    resend: set[int] = field(default_factory=set)
    """Parts the user asked to send again: reconciling must not count the server's copy."""
    check_remote: set[int] = field(default_factory=set)
    """Parts whose last attempt ended ambiguously on a provider that cannot overwrite parts:
    the server is asked whether it holds them before they are sent again."""
    file_hash: asyncio.Task[None] | None = None
    """The whole-file digest pass, running beside the parts where the provider needs one."""
    gone_probe: GoneProbe = field(default_factory=GoneProbe)

    def requeue(self, numbers: Sequence[int] | None) -> list[int]:
        """Set parts back to pending to be sent again: ``numbers``, or every failed (and,
        where links renew, expired) part. Returns the numbers reset; parts already on
        their way are left as they are. Raises UsageError, changing nothing, when a part
        named cannot be sent again."""
        sid = self.session.id
        if not self.provider.renewable_targets and any(
            self.parts[n].state == P.EXPIRED for n in (numbers or []) if n in self.parts
        ):
            raise UsageError(
                f"session {sid[:12]}: {self.provider.title} cannot renew expired part "
                f"links; abort with partdeck abort {sid[:8]} and upload the file again"
            )
        if numbers is None:
            chosen = [p for p in self.parts.values() if p.state in (P.FAILED, P.EXPIRED)]
            if not self.provider.renewable_targets:
                chosen = [p for p in chosen if p.state == P.FAILED]
        else:
            unknown = [n for n in numbers if n not in self.parts]
            if unknown:
                raise UsageError(
                    f"session {sid[:12]} has parts 1-{len(self.parts)}; "
                    f"no part {format_numbers(unknown)}"
                )
            chosen = [self.parts[n] for n in numbers]
        queued: list[int] = []
        for part in chosen:
            if part.state in (P.HASHING, P.UPLOADING, P.UPLOADED):
                continue  # already on its way
            if part.done:
                self.progress.done -= part.size
            part.move(P.PENDING)
            part.error = None
            self.targets.pop(part.number, None)
            self.resend.add(part.number)
            queued.append(part.number)
        return queued
