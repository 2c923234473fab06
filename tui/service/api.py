"""What a front end (the TUI, the CLI) may ask of an engine, wherever it runs.

Two things satisfy ``EngineAPI``: the in-process ``tui.core.engine.Engine`` (``--no-service``,
``[service] mode = "inline"``) and ``tui.service.client.ServiceEngine``, which forwards every
call to the per-user service over its unix socket and keeps ``store`` as a mirror fed by the
service's event stream. Front ends type against this module only, never against either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tui.core.model import Event, Part, PlanPreview, Session

if TYPE_CHECKING:  # only typed here: the engine and the journal are for whoever runs them
    from tui.core.diagnose import Diagnosis
    from tui.core.engine import Progress
    from tui.core.journal import Tally
    from tui.core.ports import RemotePart, RemoteUpload

Subscriber = Callable[[Event], None]

SERVICE_EVENT = "service"
"""Event kind a ServiceEngine emits about its link (``session_id`` is ""): ``state`` is
``"connected"`` or ``"lost"`` (with ``message`` saying why). An inline engine never emits it."""


class SessionReads(Protocol):
    """Read-only view of every session on record (the journal, or the service's mirror of it).

    Callers may run these in a worker thread; implementations must be safe for that."""

    def data_version(self) -> int:
        """A number that changes whenever anything below may have changed."""
        ...

    def sessions(self) -> list[Session]: ...

    def session_count(self) -> int: ...

    def unfinished_sessions(self, also: Sequence[str] = ()) -> list[Session]:
        """Sessions not completed or aborted, plus those named in ``also``."""
        ...

    def newest_finished(self, limit: int) -> list[Session]:
        """The ``limit`` newest completed or aborted sessions (by creation), newest first."""
        ...

    def newest_session(self) -> str | None:
        """Id of the newest session (by creation; the lower id on a tie), or None."""
        ...

    def part_tallies(self, session_ids: Sequence[str] | None = None) -> dict[str, dict[str, Tally]]:
        """Per session: part state -> (count, bytes)."""
        ...


class EngineAPI(Protocol):
    """Every command and read a front end uses."""

    @property
    def store(self) -> SessionReads: ...

    @property
    def state_dir(self) -> Path: ...

    @property
    def connected(self) -> bool:
        """False while a ServiceEngine has lost its service (always True inline)."""
        ...

    @property
    def keeps_running(self) -> bool:
        """True when uploads go on after this front end closes (the service drives them)."""
        ...

    def subscribe(self, callback: Subscriber) -> Callable[[], None]: ...

    def is_running(self, session_id: str) -> bool: ...

    def running(self) -> list[str]: ...

    def shown_state(self, session: Session) -> str: ...

    def session(self, session_id: str) -> Session: ...

    def progress(self, session_id: str) -> Progress | None: ...

    def part_tally(self, session_id: str) -> dict[str, Tally] | None:
        """Per part state, how many parts and bytes, of a session held or driven now."""
        ...

    def parts(self, session_id: str) -> list[Part]:
        """A session's parts as last known (a ServiceEngine's: those it loaded)."""
        ...

    def complete_repeatable(self, account: str) -> bool:
        """True when the account's provider accepts complete more than once."""
        ...

    async def load_parts(self, session_id: str) -> list[Part]: ...

    def prefetch_parts(self, session_id: str) -> None:
        """A hint that ``load_parts(session_id)`` comes soon: an engine whose reads are
        slow may start it now (the service works while the app builds its screen)."""
        ...

    async def preview(
        self, path: str | Path, account: str, part_size: int | None = None
    ) -> PlanPreview: ...

    async def plan(
        self, path: str | Path, account: str, part_size: int | None = None
    ) -> Session: ...

    async def check_account(self, account: str) -> str: ...

    async def start(self, session_id: str, *, auto_complete: bool | None = None) -> None: ...

    async def run(self, session_id: str, *, auto_complete: bool | None = None) -> Session: ...

    async def wait(self, session_id: str) -> Session: ...

    async def pause(self, session_id: str) -> Session: ...

    async def retry(self, session_id: str, numbers: Sequence[int] | None = None) -> list[int]: ...

    async def complete(self, session_id: str, *, force: bool = False) -> Session: ...

    async def abort(self, session_id: str) -> Session: ...

    async def verify(self, session_id: str) -> list[tuple[int, bool | None]]: ...

    async def inspect(self, session_id: str) -> Diagnosis: ...

    async def remote_parts(self, session_id: str) -> list[RemotePart] | None: ...

    async def remote_uploads(self, account: str, prefix: str = "") -> list[RemoteUpload]: ...

    async def remote_abort(self, account: str, key: str, upload_id: str) -> None: ...

    async def close(self) -> None: ...


def _check() -> None:  # mypy proves the in-process engine satisfies the protocol
    from tui.core.engine import Engine

    def takes(_: EngineAPI) -> None: ...

    takes(Engine.__new__(Engine))
