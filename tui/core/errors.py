"""One exception tree for the engine.

Every error carries a one-line message meant for people: it names the thing that went
wrong and, where there is one, the fix. The class says what the engine may do next:
retry (transient), stop the part (rejected), stop the session (local), or refuse to
start (configuration, usage).
"""

from __future__ import annotations

_CONTROLS = dict.fromkeys((*range(0x20), *range(0x7F, 0xA0)), " ")
"""C0, DEL and C1 control characters: a server's text could carry terminal escapes."""


class PartdeckError(Exception):
    """Base of every error partdeck raises on purpose; ``str()`` is one line for people.

    Runs of whitespace and control characters (ESC, NUL, BEL...) become one space, so
    text quoted from a server can neither break the line nor drive a terminal.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.translate(_CONTROLS).split()))

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self)


class ConfigError(PartdeckError):
    """The configuration is unreadable or invalid, or a secret cannot be found."""


class UsageError(PartdeckError):
    """The command line asks for something that cannot be done as asked."""


class LocalFileError(PartdeckError):
    """The local file is missing, unreadable or not a regular file."""


class LocalChanged(LocalFileError):
    """The local file no longer holds the bytes that were planned and fingerprinted."""


WILL_RETRY = "; will retry"
"""How a TransientError's message ends while the engine may still try again."""


class RemoteError(PartdeckError):
    """Something the provider or the network did; see the subclasses."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def settled(self) -> str:
        """The message for a line where nothing more is tried: without "; will retry"."""
        return self.message.removesuffix(WILL_RETRY)


class TransientError(RemoteError):
    """Worth trying again: connect errors, timeouts, 5xx and 429."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class TargetStale(TransientError):
    """The part's target no longer fits it (it sends digests the session has stopped
    using): worth sending again, on a target made anew."""


class RejectedError(RemoteError):
    """The provider said no; sending the same request again will not help."""


class TargetExpired(RejectedError):
    """A part URL (or the session behind it) has expired."""


class UploadGone(RejectedError):
    """The remote upload no longer exists (aborted elsewhere, completed or expired): its
    parts are gone with it, and only a new remote upload can carry the file."""


class CallUnsupported(RejectedError):
    """The server does not implement this call (501 NotImplemented, 405 MethodNotAllowed):
    asking again will not help; do without it where the journal can stand in."""


class SignInNeeded(RemoteError):
    """The account's sign-in is gone (a refresh token revoked, expired or never got): the
    session stops, resumable once someone signs in again (``partdeck auth ACCOUNT``)."""


class CompleteUnknown(RemoteError):
    """Complete was sent but its outcome is unknown; an operator must check before repeating."""


class AlreadyCompleted(RemoteError):
    """An abort found the upload already completed: the object is on the server."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class SessionNotFound(UsageError):
    """No session in the journal matches the id or prefix given."""


class SessionBusy(PartdeckError):
    """Another partdeck process is driving this session."""
