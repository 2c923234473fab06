"""``ServiceEngine``: the ``EngineAPI`` of a front end attached to the per-user service.

Every command is a call over the socket; every read comes from a Mirror fed by the
service's snapshot and event stream. A dropped stream is picked up again from the last
sequence number seen, so nothing is missed; when the service is gone the engine says so
(a ``service`` event) and keeps trying until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from tui.core.diagnose import Diagnosis
from tui.core.engine import Progress
from tui.core.errors import SessionNotFound
from tui.core.journal import Tally
from tui.core.model import Event, Part, PlanPreview, Session
from tui.core.ports import RemotePart, RemoteUpload
from tui.core.waits import wait_set
from tui.service.api import SERVICE_EVENT, Subscriber
from tui.service.client import ServiceClient, check_version
from tui.service.mirror import Mirror, MirrorReads
from tui.service.protocol import (
    Json,
    ServiceError,
    diagnosis_from_wire,
    event_from_wire,
    part_from_wire,
    preview_from_wire,
    remote_part_from_wire,
    remote_upload_from_wire,
    session_from_wire,
)

SecretsFor = Callable[[str], Mapping[str, str | None]]
"""Account name -> the environment variables its secret is read from, name -> value (None
where this client has no such variable)."""
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
"""Seconds between tries to reach a service that went away (the last one repeats)."""
LOST_LIMIT = 60.0
"""Seconds without the service after which a command waiting on a session gives up (the
TUI keeps trying: it shows the link's state instead)."""


class ServiceEngine:
    """Commands to the service, state from its events."""

    def __init__(
        self,
        client: ServiceClient,
        state_dir: Path,
        secrets_for: SecretsFor,
        *,
        revive: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self._revive = revive
        """Called when the service cannot be reached: starts it again (it then resumes
        what it was uploading)."""
        self.mirror = Mirror()
        self._reads = MirrorReads(self.mirror)
        self._state_dir = state_dir
        self._secrets_for = secrets_for
        self._subscribers: list[Subscriber] = []
        self._connected = False
        self._lost: tuple[float, str] | None = None
        """Since when (monotonic) and why the service cannot be reached."""
        self._follower: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._stopped: dict[str, asyncio.Event] = {}
        """Set when the session is no longer driven: ``wait`` wakes for that, not for
        every record."""
        self._accounts: dict[str, Json] = {}
        self._prefetched: dict[str, asyncio.Task[list[Part]]] = {}
        self.status: Json = {}

    # -- the link --------------------------------------------------------------------------

    async def attach(self) -> ServiceEngine:
        """Check the service's release, take a snapshot and follow its events."""
        self.status = await self.client.status()
        await self._resync()
        self._connected = True
        self._follower = asyncio.create_task(self._follow(), name="service-events")
        return self

    async def _resync(self) -> None:
        self.mirror.load(await self.client.get("/snapshot"))
        found = await self.client.get("/accounts")
        self._accounts = {a["name"]: a for a in found["accounts"]}
        self._wake()

    async def _follow(self) -> None:
        tries = 0
        while True:
            try:
                async for record in self.client.events(self.mirror.seq):
                    tries = 0
                    if record.get("reset"):
                        await self._resync()
                        break
                    if "heartbeat" not in record:
                        self._apply(record)
                else:
                    raise ServiceError("the service closed its event stream")
            except ServiceError as exc:
                if self._connected:
                    self._connected = False
                    self._lost = (time.monotonic(), str(exc))
                    self._tell_link("lost", str(exc))
                    self._wake()
                await asyncio.sleep(RECONNECT_DELAYS[min(tries, len(RECONNECT_DELAYS) - 1)])
                tries += 1
                with contextlib.suppress(ServiceError):
                    if self._revive is not None:
                        await self._revive()
                    check_version(await self.client.status())
                    await self._resync()
                    self._connected, self._lost = True, None
                    self._tell_link("connected", None)

    def _apply(self, record: Json) -> None:
        self.mirror.apply(record)
        event = record.get("event") or {}
        if event.get("kind") not in (None, "runner"):
            self._tell(event_from_wire(event))
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        for sid in [sid for sid in self._stopped if sid not in self.mirror.running]:
            self._stopped.pop(sid).set()

    def _tell(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def _tell_link(self, state: str, message: str | None) -> None:
        self._tell(
            Event(kind=SERVICE_EVENT, session_id="", time=time.time(), state=state, message=message)
        )

    async def _seen(self, seq: int) -> None:
        """Wait until the records up to ``seq`` have been applied (and told)."""
        while self.mirror.seq < seq:
            if self._follower is None or self._follower.done():
                return
            await self._changed.wait()

    async def _command(self, path: str, body: Json | None = None, *, account: str = "") -> Json:
        body = dict(body or {})
        if account:
            env = dict(self._secrets_for(account))
            if env:
                body["secrets"] = {account: env}
        answer = await self.client.call(path, body)
        await self._seen(int(answer.get("seq", 0)))
        return answer

    def _account_of(self, session_id: str) -> str:
        session = self.mirror.session(session_id)
        return session.account if session is not None else ""

    # -- reads -----------------------------------------------------------------------------

    @property
    def store(self) -> MirrorReads:
        """Every session, as the service last said."""
        return self._reads

    @property
    def state_dir(self) -> Path:
        """The state dir the service drives."""
        return self._state_dir

    @property
    def connected(self) -> bool:
        """False while the service cannot be reached."""
        return self._connected

    @property
    def keeps_running(self) -> bool:
        """True: uploads go on when this front end closes."""
        return True

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every engine event the service tells."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def is_running(self, session_id: str) -> bool:
        """True while the service drives the session."""
        return session_id in self.mirror.running

    def running(self) -> list[str]:
        """Ids of the sessions the service drives."""
        return sorted(self.mirror.running)

    def shown_state(self, session: Session) -> str:
        """The state the service shows (``interrupted`` where nothing drives it)."""
        return self.mirror.shown.get(session.id, str(session.state))

    def session(self, session_id: str) -> Session:
        """The session as the service last said."""
        found = self.mirror.session(session_id)
        if found is None:
            raise SessionNotFound(f"no session {session_id[:12]} in the service's journal")
        return found

    def progress(self, session_id: str) -> Progress | None:
        """Live byte counts of a session the service drives."""
        return self.mirror.progress.get(session_id)

    def parts(self, session_id: str) -> list[Part]:
        """The parts of a session loaded with ``load_parts``, as they now stand."""
        return self.mirror.loaded_parts(session_id) or []

    def part_tally(self, session_id: str) -> dict[str, Tally] | None:
        """Per part state, how many parts and bytes, as the service last said."""
        found = self.mirror.tallies.get(session_id)
        return dict(found) if found is not None else None

    def complete_repeatable(self, account: str) -> bool:
        """True when the account's provider accepts complete more than once."""
        found = self._accounts.get(account, {}).get("repeatable")
        return True if found is None else bool(found)

    async def load_parts(self, session_id: str) -> list[Part]:
        """Fetch a session's parts and keep them current from the event stream (a fetch
        ``prefetch_parts`` started is taken over: its parts, as they now stand)."""
        pending = self._prefetched.pop(session_id, None)
        if pending is None:
            return await self._fetch_parts(session_id)
        fetched = await pending
        return self.mirror.loaded_parts(session_id) or fetched

    def prefetch_parts(self, session_id: str) -> None:
        """Start fetching a session's parts now (one prefetch at a time: a new one drops
        the last); 10,000 parts take the service some 50 ms."""
        if session_id in self._prefetched:
            return
        self._drop_prefetched()
        self._prefetched[session_id] = asyncio.create_task(
            self._fetch_parts(session_id), name="service-prefetch-parts"
        )

    async def _fetch_parts(self, session_id: str) -> list[Part]:
        answer = await self.client.get(f"/sessions/{session_id}/parts")
        parts = [part_from_wire(p) for p in answer["parts"]]
        self.mirror.set_parts(session_id, parts, int(answer["seq"]))
        return parts

    def _drop_prefetched(self) -> None:
        for task in self._prefetched.values():
            task.cancel()
            task.add_done_callback(_retrieved)  # a failed fetch nobody took is no error
        self._prefetched.clear()

    # -- commands --------------------------------------------------------------------------

    async def preview(
        self, path: str | Path, account: str, part_size: int | None = None
    ) -> PlanPreview:
        """How ``account`` would split the file (nothing recorded)."""
        body = {"path": _absolute(path), "account": account, "part_size": part_size}
        return preview_from_wire(await self._command("/preview", body, account=account))

    async def batch(
        self,
        paths: Sequence[str | Path],
        account: str,
        *,
        part_size: int | None = None,
        auto_complete: bool | None = None,
        start: bool = True,
    ) -> list[Session]:
        """Plan a session per file and (by default) start them, in one call."""
        body = {
            "paths": [_absolute(p) for p in paths],
            "account": account,
            "part_size": part_size,
            "auto_complete": auto_complete,
            "start": start,
        }
        answer = await self._command("/batch", body, account=account)
        return [session_from_wire(s) for s in answer["sessions"]]

    async def plan(self, path: str | Path, account: str, part_size: int | None = None) -> Session:
        """Record a session for ``path`` on ``account``; nothing is sent yet."""
        found = await self.batch([path], account, part_size=part_size, start=False)
        return found[0]

    async def check_account(self, account: str) -> str:
        """The account's cheapest authenticated call, made by the service."""
        answer = await self._command(f"/accounts/{account}/check", account=account)
        return str(answer["said"])

    async def start(self, session_id: str, *, auto_complete: bool | None = None) -> None:
        """Have the service drive a session."""
        await self._command(
            f"/sessions/{session_id}/start",
            {"auto_complete": auto_complete},
            account=self._account_of(session_id),
        )

    async def run(self, session_id: str, *, auto_complete: bool | None = None) -> Session:
        """Start a session and wait until the service has nothing more to do for it."""
        await self.start(session_id, auto_complete=auto_complete)
        return await self.wait(session_id)

    async def wait(self, session_id: str) -> Session:
        """Wait while the service drives the session; return it as it then stands.

        Raises ServiceError when the service has been out of reach for LOST_LIMIT."""
        while self.is_running(session_id):
            await wait_set(self._stopped.setdefault(session_id, asyncio.Event()), 1.0)
            if self._lost is not None and time.monotonic() - self._lost[0] > LOST_LIMIT:
                raise ServiceError(
                    f"{self._lost[1]}, for over {LOST_LIMIT:.0f}s; the session stays "
                    f"resumable: partdeck resume {session_id[:8]} once the service runs"
                )
        return self.session(session_id)

    async def _session_command(self, verb: str, session_id: str, body: Json | None = None) -> Json:
        path = f"/sessions/{session_id}/{verb}"
        return await self._command(path, body, account=self._account_of(session_id))

    async def pause(self, session_id: str) -> Session:
        """Stop sending; the session stays resumable."""
        return session_from_wire((await self._session_command("pause", session_id))["session"])

    async def retry(self, session_id: str, numbers: Sequence[int] | None = None) -> list[int]:
        """Send parts again (the failed ones by default); returns the numbers queued."""
        body = {"parts": list(numbers) if numbers else None}
        answer = await self._session_command("retry", session_id, body)
        return [int(n) for n in answer["queued"]]

    async def complete(self, session_id: str, *, force: bool = False) -> Session:
        """Finish the remote upload."""
        answer = await self._session_command("complete", session_id, {"force": force})
        return session_from_wire(answer["session"])

    async def abort(self, session_id: str) -> Session:
        """Discard the remote upload."""
        return session_from_wire((await self._session_command("abort", session_id))["session"])

    async def verify(self, session_id: str) -> list[tuple[int, bool | None]]:
        """Re-hash the local file against the recorded fingerprints."""
        answer = await self._session_command("verify", session_id)
        return [(int(n), ok) for n, ok in answer["results"]]

    async def inspect(self, session_id: str) -> Diagnosis:
        """Why a session is stuck, and the fix."""
        return diagnosis_from_wire(await self._session_command("inspect", session_id))

    async def remote_parts(self, session_id: str) -> list[RemotePart] | None:
        """What the server holds of a session's upload."""
        found = (await self._session_command("remote-parts", session_id))["parts"]
        return None if found is None else [remote_part_from_wire(p) for p in found]

    async def remote_uploads(self, account: str, prefix: str = "") -> list[RemoteUpload]:
        """The account's incomplete uploads as the server lists them."""
        answer = await self._command(
            f"/accounts/{account}/uploads", {"prefix": prefix}, account=account
        )
        return [remote_upload_from_wire(u) for u in answer["uploads"]]

    async def remote_abort(self, account: str, key: str, upload_id: str) -> None:
        """Abort one incomplete upload the journal may not know."""
        body = {"key": key, "upload_id": upload_id}
        await self._command(f"/accounts/{account}/uploads/abort", body, account=account)

    async def close(self) -> None:
        """Stop following and close the connection; the service carries on."""
        self._drop_prefetched()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await self.client.aclose()


def _retrieved(task: asyncio.Task[list[Part]]) -> None:
    """Take a dropped fetch's outcome, so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


def _absolute(path: str | Path) -> str:
    """A path as this client means it: the service's working directory is not ours."""
    return os.path.abspath(path)
