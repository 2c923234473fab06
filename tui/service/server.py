"""The per-user service: one process per state dir owns the engine and the journal.

It listens on a unix socket (0600, in a 0700 directory, peer uid checked), resumes on
start whatever was uploading when it last stopped or died, ignores SIGHUP (it outlives
the terminal that started it) and on SIGTERM pauses every session, as the engine does,
noting which to carry on with at its next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from tui import __version__
from tui.config import Config, load_config
from tui.core.engine import Engine
from tui.core.errors import PartdeckError
from tui.core.liveness import DRIVEN_STATES
from tui.core.locks import is_held
from tui.core.model import Session
from tui.core.token_store import TokenStore
from tui.runtime import ProviderCache, open_engine
from tui.service.feed import EventFeed
from tui.service.options import SessionOptions
from tui.service.paths import (
    advert_path,
    log_path,
    prepare_runtime_dir,
    service_lock_path,
    socket_path,
)
from tui.service.peer import PeerCheckedProtocol
from tui.service.protocol import PROTOCOL, ServiceError, part_to_wire
from tui.service.routes import build_app
from tui.service.state import Published

log = logging.getLogger("partdeck.service")

Secrets = Mapping[str, Mapping[str, str]]
"""Account name -> environment variable -> value, as a client read them."""


KEEP_ALIVE = 30
"""Seconds the service keeps an idle client connection open."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the service decides what a signal means)
    and without its 10 Hz housekeeping tick: an idle service wakes for nothing."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield

    async def main_loop(self) -> None:
        await self.stopped.wait()


class Service:
    """One state dir's engine, journal, socket and event feed."""

    def __init__(
        self,
        state_dir: Path,
        config_path: Path,
        *,
        secrets: Secrets | None = None,
        allowed_uid: int | None = None,
        handle_signals: bool = True,
    ) -> None:
        self.state_dir = state_dir
        self.config_path = config_path
        self.socket = socket_path(state_dir)
        self.log_file = log_path(state_dir)
        self.started = time.time()
        self._secrets = dict(secrets or {})
        self._allowed_uid = os.getuid() if allowed_uid is None else allowed_uid
        self._handle_signals = handle_signals
        self._stopping = asyncio.Event()
        self._resume_later = True
        self._config_stamp: tuple[int, int] | None = None
        self.options = SessionOptions(state_dir)
        self.feed = EventFeed()
        self._providers: ProviderCache | None = None
        self._published: Published | None = None

    # -- what routes use -------------------------------------------------------------------

    @property
    def published(self) -> Published:
        """The sessions and records clients read."""
        assert self._published is not None, "the service is not running"
        return self._published

    @property
    def engine(self) -> Engine:
        """The engine whose commands the routes call."""
        return self.published.engine

    def status(self) -> dict[str, Any]:
        """What ``partdeck service status --json`` prints."""
        return {
            "running": True,
            "pid": os.getpid(),
            "socket": str(self.socket),
            "version": __version__,
            "protocol": PROTOCOL,
            "state_dir": str(self.state_dir),
            "config": str(self.config_path),
            "started": self.started,
            "uploading": len(self.engine.running()),
            "sessions": len(self.published.sessions),
            "seq": self.feed.seq,
        }

    def supply(self, secrets: Any) -> None:
        """Take the secrets a client sent for its accounts (held in memory only), and read
        the config again when its file changed."""
        self._reload_config()
        if not secrets or self._providers is None:
            return
        if not isinstance(secrets, dict):
            raise ValueError("secrets")
        for account, env in secrets.items():
            if isinstance(env, dict):
                given = {str(k): None if v is None else str(v) for k, v in env.items()}
                self._providers.supply(str(account), given)

    def accounts(self) -> list[dict[str, Any]]:
        """Each account's name, provider and whether complete may be sent twice (None when
        its provider cannot be built yet, e.g. its secret has not been supplied)."""
        assert self._providers is not None
        found = []
        for account in self._providers.config.accounts.values():
            try:
                repeatable: bool | None = self.engine.complete_repeatable(account.name)
            except PartdeckError:
                repeatable = None
            found.append(
                {"name": account.name, "provider": account.provider, "repeatable": repeatable}
            )
        return found

    async def parts(self, session_id: str) -> dict[str, Any]:
        """A session's parts as the engine sees them now, and the record they stand at.

        The record is taken first: one that lands during the read is applied again on top,
        which changes nothing (a part record carries the whole part)."""
        seq = self.feed.seq
        live = self.engine.live_parts(session_id)
        if live is not None:
            rows: list[Any] = [part_to_wire(p) for p in live]
        else:  # rows as stored are already the wire's (see Journal.part_rows)
            rows = await asyncio.to_thread(self.engine.store.part_rows, session_id)
        return {"parts": rows, "seq": seq}

    async def batch(
        self,
        paths: Sequence[str],
        account: str,
        *,
        part_size: int | None,
        auto_complete: bool | None,
        start: bool,
    ) -> list[Session]:
        """Plan a session per file (in order; the first refusal stops the batch), then
        start them."""
        sessions = [await self.engine.plan(path, account, part_size) for path in paths]
        if start:
            for session in sessions:
                await self.start(session.id, auto_complete=auto_complete)
        return sessions

    async def start(self, session_id: str, *, auto_complete: bool | None) -> None:
        """Drive a session; an explicit ``auto_complete`` is kept for later resumes."""
        if auto_complete is not None:
            self.options.set(session_id, auto_complete=auto_complete)
        await self.engine.start(session_id, auto_complete=self.options.auto_complete(session_id))
        self.published.started(session_id)

    async def retry(self, session_id: str, numbers: list[int] | None) -> list[int]:
        """Queue parts again (the session keeps its ``auto_complete`` choice)."""
        queued: list[int] = await self.engine.retry(session_id, numbers)
        self.published.started(session_id)
        return queued

    def stop(self, *, resume_later: bool = True) -> None:
        """Pause everything and exit; ``resume_later`` carries on with it at next start."""
        self._resume_later = resume_later
        self._stopping.set()

    # -- lifecycle -------------------------------------------------------------------------

    def _reload_config(self) -> None:
        if self._providers is None:
            return
        try:
            info = os.stat(self.config_path)
        except OSError:
            return
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == self._config_stamp:
            return
        self._config_stamp = stamp
        self._providers.use_config(load_config(self.config_path, must_exist=False))

    def _config(self) -> Config:
        config = load_config(self.config_path, must_exist=False)
        with contextlib.suppress(OSError):
            info = os.stat(self.config_path)
            self._config_stamp = (info.st_mtime_ns, info.st_size)
        return config

    async def run(self) -> None:
        """Serve until stopped; raises ServiceError when another service holds the dir."""
        lock_fd = _take_lock(service_lock_path(self.state_dir))
        try:
            await self._serve()
        finally:
            os.close(lock_fd)

    async def _serve(self) -> None:
        config = self._config()
        self.feed = EventFeed(config.service.events_kept)
        self._providers = ProviderCache(config, config.engine, TokenStore(self.state_dir))
        for account, env in self._secrets.items():
            self._providers.supply(account, dict(env))
        async with open_engine(config, self.state_dir, providers=self._providers) as engine:
            self._published = Published(engine, self.feed)
            await self._published.load()
            if self._handle_signals:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, self.stop)
                loop.add_signal_handler(signal.SIGHUP, lambda: None)
            await self._recover()  # before anyone attaches: they see it running
            server = _Server(self._uvicorn_config())
            serving = asyncio.create_task(server.serve(), name="service-http")
            try:
                await self._listening(server, serving)
                log.info("service %s serving %s on %s", __version__, self.state_dir, self.socket)
                await self._stopping.wait()
            finally:
                running = engine.running()
                _write_resume(self.state_dir, running if self._resume_later else [])
                self.feed.close()
                server.should_exit = True
                server.stopped.set()
                await serving
                with contextlib.suppress(OSError):
                    self.socket.unlink()
                with contextlib.suppress(OSError):
                    advert_path(self.state_dir).unlink()
                self._published.close()
                log.info("service stopping; pausing %d session(s)", len(running))
        self.options.prune(s.id for s in self._published.sessions.values() if not s.final)

    def _uvicorn_config(self) -> uvicorn.Config:
        prepare_runtime_dir(self.state_dir)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()  # a dead service's: this one holds the service lock
        PeerCheckedProtocol.allowed_uid = self._allowed_uid
        return uvicorn.Config(
            build_app(self),
            uds=str(self.socket),
            http=PeerCheckedProtocol,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
            # Longer than a client keeps an idle connection (httpx: 5 s), so the client
            # always lets it go first: with both at 5 s, a call sent on a connection the
            # service was closing that instant failed as RemoteProtocolError.
            timeout_keep_alive=KEEP_ALIVE,
        )

    async def _listening(self, server: _Server, serving: asyncio.Task[None]) -> None:
        """Wait until the socket listens, then make it 0600 and say where it is."""
        while not server.started:
            if serving.done():
                serving.result()  # its error, if it failed
                raise ServiceError(f"the service could not listen on {self.socket}")
            await asyncio.sleep(0.01)
        os.chmod(self.socket, 0o600)
        advert = {"pid": os.getpid(), "socket": str(self.socket), "version": __version__}
        tmp = advert_path(self.state_dir).with_suffix(".tmp")
        tmp.write_text(json.dumps(advert))
        os.replace(tmp, advert_path(self.state_dir))

    async def _recover(self) -> None:
        """Carry on with what was uploading when the service last stopped or died."""
        wanted = set(_read_resume(self.state_dir))
        with contextlib.suppress(OSError):  # from now on the journal's states say it
            _resume_file(self.state_dir).unlink()
        wanted |= {s.id for s in self.published.sessions.values() if s.state in DRIVEN_STATES}
        for session_id in sorted(wanted):
            session = self.published.sessions.get(session_id)
            if session is None or session.final or is_held(self.state_dir, session_id):
                continue
            try:
                await self.start(session_id, auto_complete=None)
                log.info("resumed %s", session_id[:12])
            except PartdeckError as exc:
                log.warning("could not resume %s: %s", session_id[:12], exc)


def _take_lock(path: Path) -> int:
    """Hold the service lock of a state dir, or say which process holds it."""
    path.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.mkdir(exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise ServiceError(
            f"a partdeck service (process {holder}) already serves this state dir; "
            "partdeck service status shows it"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _resume_file(state_dir: Path) -> Path:
    return state_dir / "service-resume.json"


def _write_resume(state_dir: Path, session_ids: Sequence[str]) -> None:
    """Note, atomically, which sessions a clean stop paused (to carry on at next start)."""
    path = _resume_file(state_dir)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(sorted(session_ids)))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not note the sessions to resume: %s", exc.strerror)


def _read_resume(state_dir: Path) -> list[str]:
    path = _resume_file(state_dir)
    try:
        ids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []
