"""The service's wire forms: JSON for sessions, parts, events, progress and errors.

Server and client both use these functions, so a shape is written once. Nothing on the
wire holds a secret: a session's ``remote`` record (presigned URLs, provider tokens) is
cut to the ids people use, and every message was redacted by the engine that made it.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from tui.core import errors
from tui.core.diagnose import Diagnosis, Fix, LocalState, PartFinding, ServerView
from tui.core.engine import Progress
from tui.core.model import Event, Part, PartState, PlanPreview, Session, SessionState
from tui.core.ports import RemotePart, RemoteUpload

PROTOCOL = 2
"""Bumped when a wire form changes incompatibly; client and service must agree."""

REMOTE_KEYS = ("upload_id", "key", "bucket", "checksum")
"""The parts of a session's remote record that travel: ids, never URLs or tokens."""

Json = dict[str, Any]


class ServiceError(errors.PartdeckError):
    """The service cannot be reached, started or understood."""


class ServiceVersionMismatch(ServiceError):
    """Client and service are different releases of partdeck."""


_SESSION_FIELDS = tuple(f.name for f in fields(Session) if f.name not in ("state", "remote"))
_PART_FIELDS = tuple(f.name for f in fields(Part))
"""A part travels as a row of these, in this order: 10,000 of them stay small and quick."""
_STATE_AT = _PART_FIELDS.index("state")


def session_to_wire(session: Session) -> Json:
    """A session without its secret-bearing remote record."""
    out: Json = {name: getattr(session, name) for name in _SESSION_FIELDS}
    out["state"] = str(session.state)
    out["remote"] = {k: v for k, v in session.remote.items() if k in REMOTE_KEYS}
    out["opened"] = session.opened
    return out


def session_from_wire(data: Json) -> Session:
    """The Session a ``session_to_wire`` mapping stands for."""
    given = dict(data)
    opened = given.pop("opened", False)
    remote = dict(given.pop("remote", {}) or {})
    if opened and not remote:
        remote = {"opened": True}  # keeps Session.opened true on this side
    given["state"] = SessionState(given["state"])
    return Session(**given, remote=remote)


def part_to_wire(part: Part) -> list[Any]:
    """A part as a JSON row (see ``_PART_FIELDS``)."""
    row = [getattr(part, name) for name in _PART_FIELDS]
    row[_STATE_AT] = str(part.state)
    return row


def part_from_wire(row: list[Any]) -> Part:
    """The Part a ``part_to_wire`` row stands for."""
    part = Part(*row)
    part.state = PartState(row[_STATE_AT])
    return part


def event_to_wire(event: Event) -> Json:
    """An engine event as JSON."""
    return asdict(event)


def event_from_wire(data: Json) -> Event:
    """The Event an ``event_to_wire`` mapping stands for."""
    return Event(**data)


def progress_to_wire(progress: Progress) -> Json:
    """Live byte counts of one session."""
    return {
        "total": progress.total,
        "done": progress.done,
        "in_flight": sum(progress.in_flight.values()),
        "sent": progress.sent,
    }


def progress_from_wire(data: Json) -> Progress:
    """A Progress with the same ``current`` as the service's."""
    in_flight = int(data.get("in_flight", 0))
    return Progress(
        total=int(data["total"]),
        done=int(data["done"]),
        in_flight={0: in_flight} if in_flight else {},
        sent=int(data.get("sent", 0)),
    )


def preview_to_wire(preview: PlanPreview) -> Json:
    """A plan preview as JSON."""
    return asdict(preview)


def preview_from_wire(data: Json) -> PlanPreview:
    """The PlanPreview a ``preview_to_wire`` mapping stands for."""
    given = dict(data)
    given["ranges"] = [(int(a), int(b)) for a, b in given["ranges"]]
    return PlanPreview(**given)


def remote_part_from_wire(data: Json) -> RemotePart:
    """A server-listed part."""
    return RemotePart(**data)


def remote_upload_from_wire(data: Json) -> RemoteUpload:
    """A server-listed incomplete upload."""
    return RemoteUpload(**data)


def diagnosis_to_wire(diagnosis: Diagnosis) -> Json:
    """An inspect result as JSON."""
    out = asdict(diagnosis)
    out["session"] = session_to_wire(diagnosis.session)
    out["local"] = str(diagnosis.local)
    for finding in out["findings"]:
        finding["state"] = str(finding["state"])
        finding["server"] = str(finding["server"])
    return out


def diagnosis_from_wire(data: Json) -> Diagnosis:
    """The Diagnosis a ``diagnosis_to_wire`` mapping stands for."""
    findings = tuple(
        PartFinding(
            number=f["number"],
            state=PartState(f["state"]),
            attempts=f["attempts"],
            server=ServerView(f["server"]),
            url_expires_at=f["url_expires_at"],
            errors=tuple(f["errors"]),
        )
        for f in data["findings"]
    )
    fix = data["fix"]
    return Diagnosis(
        session=session_from_wire(data["session"]),
        total=data["total"],
        done=data["done"],
        local=LocalState(data["local"]),
        server_note=data["server_note"],
        server_parts=data["server_parts"],
        findings=findings,
        fix=Fix(text=fix["text"], action=fix["action"], parts=tuple(fix["parts"])),
    )


_ERRORS: dict[str, type[errors.PartdeckError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.PartdeckError)
}
_ERRORS.update({ServiceError.__name__: ServiceError})


def error_to_wire(exc: errors.PartdeckError) -> Json:
    """A refusal or failure as JSON: its class (so the client raises the same) and line."""
    out: Json = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, errors.RemoteError):
        out["status"], out["code"] = exc.status, exc.code
    return {"error": out}


def error_from_wire(data: Json) -> errors.PartdeckError:
    """The exception a client raises for an ``error_to_wire`` answer."""
    error = data.get("error") or {}
    cls = _ERRORS.get(str(error.get("type")), errors.PartdeckError)
    message = str(error.get("message") or "the service failed without saying why")
    if issubclass(cls, errors.AlreadyCompleted):
        return cls(message)
    if issubclass(cls, errors.RemoteError):
        return cls(message, status=error.get("status"), code=error.get("code"))
    return cls(message)
