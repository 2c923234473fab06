"""When the remote upload is gone on the server: noticing it, and starting over.

A multipart upload can vanish while partdeck holds it: aborted by someone else (a
lifecycle rule, a console, another tool), completed, or expired. Its parts vanish with
it, so the journal must stop calling them verified, and the only way on is a new remote
upload that carries every part again. The driver calls these pieces; they hold no I/O
of their own beyond one probe call to the provider.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence

from tui.core.diagnose import Diagnosis, Fix
from tui.core.errors import RemoteError, UploadGone
from tui.core.model import Event, Part, PartState, Session
from tui.core.ports import Provider

GONE_TEXT = "the upload is gone on the server (aborted elsewhere, completed or expired)"
"""How every message about a gone upload names the problem."""
GONE_MARK = "upload_gone"
"""The key, in the data of the event that records a gone upload, that marks it."""
PROBE_SPACING = 5.0
"""Seconds between two probes of one session (a burst of part errors makes one probe)."""


def gone_line(session: Session) -> str:
    """The one line a session stops on when its upload is gone: the problem and the way on."""
    return (
        f"{GONE_TEXT}; partdeck resume {session.id[:8]} starts a new upload and sends every "
        "part again"
    )


def forget_upload(session: Session, parts: Iterable[Part]) -> list[Part]:
    """Keep nothing of a gone upload: every part pending again with no receipt, the
    session no longer opened (a resume opens a new one). Returns the parts changed."""
    changed: list[Part] = []
    for part in parts:
        if part.state == PartState.PENDING and part.etag is None and part.error is None:
            continue
        part.move(PartState.PENDING)
        part.etag = None
        part.error = None
        part.target_expires_at = None
        changed.append(part)
    session.remote = {}
    session.complete_sent = 0
    return changed


def recorded_gone(events: Sequence[Event]) -> bool:
    """True when the journal's last session-level event says the upload was found gone."""
    for event in reversed(events):
        if event.kind in ("session", "error"):
            return bool(event.data.get(GONE_MARK))
    return False


def gone_diagnosis(diagnosis: Diagnosis) -> Diagnosis:
    """``diagnosis`` of a session whose upload is gone: what the server says, and the fix."""
    return dataclasses.replace(
        diagnosis,
        server_note="gone on the server: the upload was aborted elsewhere, completed or expired",
        server_parts=None,
        fix=Fix(f"{GONE_TEXT}: resume starts a new upload and sends every part again", "resume"),
    )


class GoneProbe:
    """Asks the server whether a session's upload still exists, at most once per
    PROBE_SPACING: some stores answer a part sent to a gone upload with a 500, not 404."""

    def __init__(self) -> None:
        self._last = float("-inf")

    async def gone(self, provider: Provider, session: Session) -> bool:
        """True when the provider lists the upload's parts and says it no longer exists."""
        now = time.monotonic()
        if not provider.can_list_parts or now - self._last < PROBE_SPACING:
            return False
        self._last = now
        try:
            await provider.remote_parts(session)
        except UploadGone:
            return True
        except RemoteError:
            return False
        return False
