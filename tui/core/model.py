"""Sessions and parts: plain dataclasses with explicit state machines.

The journal stores these; the engine moves them from state to state only through
``Part.move`` and ``Session.move``, which refuse transitions the machines do not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PartState(StrEnum):
    """Where one part stands."""

    PENDING = "pending"
    HASHING = "hashing"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    VERIFIED = "verified"
    UNVERIFIABLE = "unverifiable"
    """Uploaded and accepted, but the server's receipt cannot be checked (ETag not an MD5)."""
    FAILED = "failed"
    EXPIRED = "expired"
    """Its URL expired before it could start and the provider cannot renew it."""


class SessionState(StrEnum):
    """Where one upload session stands."""

    PLANNED = "planned"
    UPLOADING = "uploading"
    PAUSED = "paused"
    STALLED = "stalled"
    UPLOADED = "uploaded"
    COMPLETING = "completing"
    COMPLETE_UNKNOWN = "complete-unknown"
    COMPLETED = "completed"
    ABORTING = "aborting"
    ABORTED = "aborted"
    FAILED = "failed"
    LOCAL_CHANGED = "local-changed"


P = PartState
S = SessionState

PART_TRANSITIONS: dict[PartState, frozenset[PartState]] = {
    P.PENDING: frozenset({P.HASHING, P.UPLOADING, P.FAILED, P.EXPIRED, P.VERIFIED}),
    P.HASHING: frozenset({P.PENDING, P.UPLOADING, P.FAILED}),
    P.UPLOADING: frozenset({P.PENDING, P.UPLOADED, P.FAILED, P.EXPIRED}),
    P.UPLOADED: frozenset({P.VERIFIED, P.UNVERIFIABLE, P.FAILED, P.PENDING, P.EXPIRED}),
    # A retry on a verified part re-sends it (S3 overwrites); reconciling may find it gone.
    P.VERIFIED: frozenset({P.PENDING}),
    P.UNVERIFIABLE: frozenset({P.PENDING, P.VERIFIED}),
    P.FAILED: frozenset({P.PENDING}),
    P.EXPIRED: frozenset({P.PENDING}),
}
"""Allowed part transitions. ``pending -> verified`` is reconciliation with the server."""

_LIVE = frozenset({S.UPLOADING, S.PAUSED, S.STALLED, S.FAILED, S.UPLOADED})
SESSION_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    S.PLANNED: frozenset({S.UPLOADING, S.ABORTING, S.ABORTED, S.FAILED, S.LOCAL_CHANGED}),
    S.UPLOADING: _LIVE | {S.ABORTING, S.LOCAL_CHANGED, S.COMPLETING},
    S.PAUSED: _LIVE | {S.ABORTING, S.LOCAL_CHANGED, S.COMPLETING},
    S.STALLED: _LIVE | {S.ABORTING, S.LOCAL_CHANGED, S.COMPLETING},
    S.UPLOADED: _LIVE | {S.COMPLETING, S.ABORTING, S.LOCAL_CHANGED},
    S.COMPLETING: frozenset({S.COMPLETED, S.COMPLETE_UNKNOWN, S.FAILED, S.UPLOADED}),
    S.COMPLETE_UNKNOWN: frozenset({S.COMPLETING, S.COMPLETED, S.ABORTING}),
    S.COMPLETED: frozenset(),
    # An abort may find that a complete whose answer was lost had taken effect.
    S.ABORTING: frozenset({S.ABORTED, S.FAILED, S.ABORTING, S.COMPLETED}),
    S.ABORTED: frozenset(),
    S.FAILED: _LIVE | {S.ABORTING, S.LOCAL_CHANGED, S.COMPLETING},
    # Restored, then the server fails the resume before it is uploading again.
    S.LOCAL_CHANGED: frozenset({S.ABORTING, S.UPLOADING, S.PAUSED, S.FAILED}),
}
"""Allowed session transitions; completed and aborted are final."""

FINAL_SESSION_STATES = frozenset({S.COMPLETED, S.ABORTED})
DONE_PART_STATES = frozenset({P.VERIFIED, P.UNVERIFIABLE})
"""Parts that need no more sending."""


class InvalidTransition(RuntimeError):
    """A state change the machine does not allow: a bug in the caller, not a user error."""


@dataclass
class Part:
    """One byte range ``[start, end)`` of a session's file."""

    session_id: str
    number: int
    start: int
    end: int
    state: PartState = PartState.PENDING
    attempts: int = 0
    xxh3: str | None = None
    """xxh3_128 hex of the planned bytes: the fingerprint every later read must match."""
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    etag: str | None = None
    error: str | None = None
    target_expires_at: float | None = None
    checksum: str | None = None
    """The part's S3 flexible checksum, base64 as S3 writes it, under the algorithm its
    session was opened with (``Session.remote["checksum"]``); None where that is MD5."""

    @property
    def size(self) -> int:
        """Bytes in this part."""
        return self.end - self.start

    @property
    def done(self) -> bool:
        """True when the part needs no more sending."""
        return self.state in DONE_PART_STATES

    def move(self, new: PartState) -> None:
        """Change state, or raise InvalidTransition."""
        if new != self.state and new not in PART_TRANSITIONS[self.state]:
            raise InvalidTransition(f"part {self.number}: {self.state} -> {new} is not allowed")
        self.state = new


@dataclass
class Session:
    """One multipart upload of one local file to one account."""

    id: str
    account: str
    provider: str
    path: str
    size: int
    mtime_ns: int
    part_size: int
    state: SessionState = SessionState.PLANNED
    remote: dict[str, Any] = field(default_factory=dict)
    """Provider-specific state a resume needs (upload id, key, endpoints, URLs)."""
    location: str | None = None
    """Where the object is (or will be) once complete, for people: a URL or bucket/key."""
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    complete_sent: int = 0
    """How many times complete was sent for the current remote upload."""
    digests: dict[str, str] = field(default_factory=dict)
    """Whole-file digests a provider needs (``sha1`` for Box, ``sha256`` for Polar), hex."""

    @property
    def final(self) -> bool:
        """True once completed or aborted."""
        return self.state in FINAL_SESSION_STATES

    @property
    def opened(self) -> bool:
        """True once the provider has a remote session for it."""
        return bool(self.remote)

    def move(self, new: SessionState) -> None:
        """Change state, or raise InvalidTransition."""
        if new != self.state and new not in SESSION_TRANSITIONS[self.state]:
            raise InvalidTransition(f"session {self.id}: {self.state} -> {new} is not allowed")
        self.state = new


@dataclass(frozen=True)
class PlanPreview:
    """How a provider would split a file, before anything is recorded or sent."""

    path: str
    size: int
    mtime_ns: int
    part_size: int
    ranges: list[tuple[int, int]]
    from_server: bool
    """True when the server picks the part size: the count is then the server's own rule."""

    @property
    def parts(self) -> int:
        """How many parts."""
        return len(self.ranges)


@dataclass(frozen=True)
class Event:
    """A change the engine reports: to the journal's event log, the UI and ``--json``."""

    kind: str
    """``session``, ``part``, ``progress``, ``error`` or ``notice``."""
    session_id: str
    time: float
    state: str | None = None
    part: int | None = None
    message: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping with no empty fields."""
        out: dict[str, Any] = {"event": self.kind, "session": self.session_id, "time": self.time}
        if self.state is not None:
            out["state"] = self.state
        if self.part is not None:
            out["part"] = self.part
        if self.message is not None:
            out["message"] = self.message
        out.update(self.data)
        return out
