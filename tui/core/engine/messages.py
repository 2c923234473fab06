"""The engine's lines for people: why a session stopped, and the command that goes on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tui.core.errors import RemoteError, SignInNeeded, TransientError, UsageError
from tui.core.model import Part, PartState, Session
from tui.core.ports import Provider

P = PartState

SERVER_HAS_IT = "complete's answer was lost, but the server shows the file: completed"
"""The note of a session settled by looking at the server after an unclear complete."""
ABORTED_WHILE_COMPLETING = (
    "complete was in flight when the abort came and its outcome is unknown; aborting"
)


def format_numbers(numbers: Sequence[int]) -> str:
    """``1, 2, 5`` or ``1, 2, 3 … (+40 more)``."""
    shown = ", ".join(str(n) for n in numbers[:8])
    return shown if len(numbers) <= 8 else f"{shown} … (+{len(numbers) - 8} more)"


def gave_up(exc: RemoteError | UsageError, session: Session, command: str = "resume") -> str:
    """The error a session stops on, with the way on: a transient error that ran out of
    tries no longer says it "will retry", and one that names no fix (the provider's answer
    made no sense) gets the command that tries again."""
    text = str(exc)
    again = f"partdeck {command} {session.id[:8]}"
    if isinstance(exc, TransientError):
        return f"{exc.settled}; gave up for now, carry on with {again}"
    if isinstance(exc, SignInNeeded):
        return f"{text}, then carry on with {again}"
    if "; " not in text:
        return f"{text}; try again with {again}, and check the account's URL if it repeats"
    return text


def unsent_message(session: Session, parts: Iterable[Part], provider: Provider) -> str:
    """Why a session stopped with parts not uploaded (the first failed part's cause),
    and the command that goes on."""
    every = list(parts)
    short = session.id[:8]
    unsent = [p.number for p in every if not p.done]
    expired = [p.number for p in every if p.state == P.EXPIRED]
    if expired and not provider.renewable_targets:
        return (
            f"{len(expired)} part link(s) expired ({format_numbers(expired)}) and "
            f"{provider.title} cannot renew them; "
            f"abort with partdeck abort {short} and upload the file again"
        )
    failed = sorted(
        (p for p in every if p.state in (P.FAILED, P.EXPIRED) and p.error),
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


def kept_note(location: str) -> str:
    """What abort says when it finds the upload already completed."""
    return (
        f"nothing to abort: the earlier complete took effect and the file is at {location}; "
        "delete it there if it is not wanted"
    )
