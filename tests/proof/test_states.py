"""Every command in every state has an answer: the action, or one line naming the state
and the way on. Never ``InvalidTransition``, never a traceback.

For each provider kind (Gumroad: complete may go once; S3: complete may be repeated),
each session state and each command, a fresh session is uploaded for real to the
sandbox and brought to the state the way a driver leaves it (completed and aborted by
the engine itself; the rest written to the journal as a driver that stopped or died
there leaves it), then the command runs on the real engine and journal. The table below
says which commands refuse in which states; every other cell must act. A sample runs
through the real CLI, exit codes included.

The same table holds through the per-user service (a real service process on the state
dir, commands from a ``ServiceEngine`` as every client sends them), for every state a
session can be in when the service starts without driving it; the driven states
(uploading, stalled, completing) are carried on by the service itself as it starts,
which the crash suite proves.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import make_file
from tests.support.services import kill_services
from tui.config import load_config
from tui.core.engine import Engine
from tui.core.errors import PartdeckError, UsageError
from tui.core.journal import Journal
from tui.core.liveness import DRIVEN_STATES
from tui.core.model import PartState, Session, SessionState
from tui.core.units import MiB
from tui.runtime import ProviderCache, open_engine
from tui.sandbox.runner import Sandbox
from tui.service.api import EngineAPI
from tui.service.attached import ServiceEngine
from tui.service.spawn import ensure_service, stop_service

S = SessionState
P = PartState

COMMANDS = (
    "resume", "retry", "retry PART", "pause", "complete", "complete --force", "abort",
    "verify", "inspect", "inspect fix",
)  # fmt: skip

CASES_AT_ONCE = 6
"""Cases run side by side: each mostly waits on the sandbox."""

_NEVER_STARTS = {S.COMPLETED, S.ABORTED, S.ABORTING}
_ONCE_UNKNOWN = {S.COMPLETING, S.COMPLETE_UNKNOWN}
REFUSED: dict[str, dict[str, set[SessionState]]] = {
    kind: {
        "resume": _NEVER_STARTS | (_ONCE_UNKNOWN if kind == "gumroad" else {S.COMPLETE_UNKNOWN}),
        "retry": _NEVER_STARTS | _ONCE_UNKNOWN,  # the parts are sent: complete is open
        "retry PART": _NEVER_STARTS | _ONCE_UNKNOWN,
        "pause": set(SessionState),  # nothing is uploading in this process
        # planned/paused/uploading/stalled/failed: a part is not uploaded yet.
        "complete": {S.ABORTED, S.ABORTING, S.LOCAL_CHANGED, S.PLANNED, S.PAUSED, S.UPLOADING,
                     S.STALLED, S.FAILED} | (_ONCE_UNKNOWN if kind == "gumroad" else set()),
        "complete --force": {S.ABORTED, S.ABORTING, S.LOCAL_CHANGED, S.PLANNED, S.PAUSED,
                             S.UPLOADING, S.STALLED, S.FAILED},
        "abort": {S.COMPLETED},
        "verify": set(),
        "inspect": set(),
        "inspect fix": set(),
    }
    for kind in ("gumroad", "s3")
}  # fmt: skip
"""(provider, command) -> the states where the command refuses; elsewhere it acts."""


@dataclass(frozen=True)
class Answer:
    """How one command ended: ``refused`` (a usage refusal), ``failed`` or ``acted``."""

    outcome: str
    message: str = ""
    state: str = ""


async def _bring(engine: Engine, path: Path, account: str, state: SessionState) -> Session:
    """A real session on ``account`` in ``state``."""
    session = await engine.plan(path, account)
    if state == S.PLANNED:
        return session
    session = await engine.run(session.id, auto_complete=False)
    assert session.state == S.UPLOADED, session.error
    if state == S.COMPLETED:
        return await engine.complete(session.id)
    if state == S.ABORTED:
        return await engine.abort(session.id)
    journal = engine.journal
    session = journal.session(session.id)
    parts = journal.parts(session.id)
    if state in (S.UPLOADING, S.STALLED, S.PAUSED):  # stopped (or killed) mid-part
        parts[0].state, parts[0].etag = P.PENDING, None
    if state == S.FAILED:
        parts[0].state, parts[0].etag = P.FAILED, None
        parts[0].error = session.error = "part 1: the server said no (HTTP 403)"
    if state in (S.COMPLETING, S.COMPLETE_UNKNOWN):
        session.complete_sent = 1
    if state == S.LOCAL_CHANGED:
        with path.open("ab") as f:
            f.write(b"more")
        session.error = f"{path}: size changed"
    session.state = state  # as the driver that stopped there wrote it
    journal.commit(session=session, parts=parts)
    return session


async def _answer(engine: EngineAPI, session_id: str, command: str) -> Answer:
    actions: dict[str, Callable[[], Awaitable[object]]] = {
        "resume": lambda: engine.run(session_id),
        "retry": lambda: _retry(engine, session_id, None),
        "retry PART": lambda: _retry(engine, session_id, [1]),
        "pause": lambda: engine.pause(session_id),
        "complete": lambda: engine.complete(session_id),
        "complete --force": lambda: engine.complete(session_id, force=True),
        "abort": lambda: engine.abort(session_id),
        "verify": lambda: engine.verify(session_id),
        "inspect": lambda: engine.inspect(session_id),
        "inspect fix": lambda: _fix(engine, session_id),
    }
    try:
        await actions[command]()
    except UsageError as exc:
        return Answer("refused", str(exc))
    except PartdeckError as exc:
        return Answer("failed", str(exc))
    return Answer("acted", state=str(engine.session(session_id).state))


async def _retry(engine: EngineAPI, session_id: str, parts: list[int] | None) -> None:
    await engine.retry(session_id, parts)
    await engine.wait(session_id)


async def _fix(engine: EngineAPI, session_id: str) -> None:
    """Run what inspect suggests, as the inspect screen's fix key does."""
    fix = (await engine.inspect(session_id)).fix
    runs: dict[str, Callable[[], Awaitable[object]]] = {
        "resume": lambda: engine.run(session_id),
        "complete": lambda: engine.complete(session_id),
        "complete_force": lambda: engine.complete(session_id, force=True),
        "abort": lambda: engine.abort(session_id),
        "verify": lambda: engine.verify(session_id),
        "retry_failed": lambda: _retry(engine, session_id, None),
        "retry_parts": lambda: _retry(engine, session_id, list(fix.parts) or None),
    }
    if fix.action is not None:
        await runs[fix.action]()


def _check_one_line(answer: Answer, state: SessionState, session_id: str) -> None:
    message = answer.message
    assert "\n" not in message and "Traceback" not in message
    assert "InvalidTransition" not in message and "internal error" not in message
    if answer.outcome == "refused":  # what the state is, and the way on
        assert session_id[:8] in message, message
        named = {str(state), "interrupted", "outcome is unknown", "not uploaded"}
        assert any(word in message for word in named), message
        ways = ("partdeck ", "upload the file again", "the file is", "delete the file")
        assert any(way in message for way in ways), message


@pytest.mark.parametrize("kind", ["gumroad", "s3"])
def test_every_command_in_every_state_answers(world: Sandbox, tmp_path: Path, kind: str) -> None:
    config = load_config(
        world.write_config(tmp_path / "config.toml", {"parts_in_flight": 2, "retries": 1}),
        must_exist=True,
    )
    account = f"sandbox-{kind}"
    wrong: list[str] = []

    providers = ProviderCache(config, config.engine)  # TLS contexts and keys, built once

    @asynccontextmanager
    async def engine_on(state_dir: Path) -> AsyncIterator[Engine]:
        journal = Journal.open(state_dir)
        engine = Engine(
            journal, providers, providers.client(), config.engine,
            part_client=providers.part_client,
        )  # fmt: skip
        try:
            yield engine
        finally:
            await engine.close()
            journal.close()

    async def case(state: SessionState, command: str, n: int) -> None:
        state_dir = tmp_path / f"state-{n}"
        path = make_file(tmp_path / f"f{n}.bin", MiB + n, seed=n)
        async with engine_on(state_dir) as engine:
            session = await _bring(engine, path, account, state)
        async with engine_on(state_dir) as engine:  # as a new command would
            answer = await _answer(engine, session.id, command)
        _check_one_line(answer, state, session.id)
        refused = state in REFUSED[kind][command]
        if refused != (answer.outcome == "refused"):
            wrong.append(f"{command} on {state}: {answer}")
        journal = Journal.open(state_dir)
        try:
            assert journal.integrity_check() == "ok"
        finally:
            journal.close()

    async def every() -> None:
        gate = asyncio.Semaphore(CASES_AT_ONCE)  # each case has its own journal and upload

        async def one(state: SessionState, command: str, n: int) -> None:
            async with gate:
                await case(state, command, n)

        cells = [(state, command) for state in SessionState for command in COMMANDS]
        try:
            await asyncio.gather(*(one(s, c, n) for n, (s, c) in enumerate(cells)))
        finally:
            await providers.aclose()

    asyncio.run(every())
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("kind", ["gumroad", "s3"])
def test_every_command_through_the_service_answers(
    world: Sandbox, tmp_path: Path, kind: str
) -> None:
    config_path = world.write_config(tmp_path / "config.toml", {"parts_in_flight": 2, "retries": 1})
    config = load_config(config_path, must_exist=True)
    account = f"sandbox-{kind}"
    state_dir = tmp_path / "state"
    states = [state for state in SessionState if state not in DRIVEN_STATES]
    cells = [(state, command) for state in states for command in COMMANDS]
    wrong: list[str] = []

    async def every() -> None:
        gate = asyncio.Semaphore(CASES_AT_ONCE)
        async with open_engine(config, state_dir) as inline:  # the sessions, as left

            async def bring(n: int, state: SessionState) -> Session:
                async with gate:
                    path = make_file(tmp_path / f"f{n}.bin", MiB + n, seed=n)
                    return await _bring(inline, path, account, state)

            sessions = await asyncio.gather(*(bring(n, s) for n, (s, _) in enumerate(cells)))
        client = await ensure_service(state_dir, config_path, {})
        engine = await ServiceEngine(client, state_dir, lambda _: {}).attach()
        try:

            async def one(session: Session, state: SessionState, command: str) -> None:
                async with gate:
                    answer = await _answer(engine, session.id, command)
                _check_one_line(answer, state, session.id)
                if (state in REFUSED[kind][command]) != (answer.outcome == "refused"):
                    wrong.append(f"{command} on {state}: {answer}")

            await asyncio.gather(
                *(one(session, s, c) for session, (s, c) in zip(sessions, cells, strict=True))
            )
        finally:
            await engine.close()
            await stop_service(state_dir)

    try:
        asyncio.run(every())
    finally:
        kill_services(state_dir)
    journal = Journal.open(state_dir)
    try:
        assert journal.integrity_check() == "ok"
    finally:
        journal.close()
    assert not wrong, "\n".join(wrong)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_answers_on_aborted_and_aborting_sessions(world: Sandbox, tmp_path: Path) -> None:
    config_path = world.write_config(tmp_path / "config.toml", {"parts_in_flight": 2})
    config = load_config(config_path, must_exist=True)
    state_dir = tmp_path / "state"
    where = ["--config", str(config_path), "--state-dir", str(state_dir)]

    async def make() -> tuple[Session, Session]:
        async with open_engine(config, state_dir) as engine:
            one = make_file(tmp_path / "a.bin", MiB, seed=1)
            two = make_file(tmp_path / "b.bin", MiB, seed=2)
            aborted = await _bring(engine, one, "sandbox-gumroad", S.ABORTED)
            aborting = await _bring(engine, two, "sandbox-gumroad", S.ABORTING)
            return aborted, aborting

    aborted, aborting = asyncio.run(make())
    for session, state in ((aborted, "aborted"), (aborting, "aborting")):
        for force in ([], ["--force"]):
            done = _cli("complete", session.id[:8], *force, *where)
            assert done.returncode == 2, done.stderr
            lines = done.stderr.splitlines()
            assert len(lines) == 1, done.stderr
            assert f"session {session.id[:12]} is {state}: it cannot be completed" in lines[0]
            assert "partdeck abort" in lines[0] or "upload the file again" in lines[0]
    assert not (state_dir / "partdeck.log").exists()  # no traceback was logged
    again = _cli("abort", aborting.id[:8], *where)
    assert again.returncode == 0, again.stderr
    resumed = _cli("resume", aborting.id[:8], *where)
    assert resumed.returncode == 2
    assert resumed.stderr.strip() == (
        f"partdeck: session {aborting.id[:12]} is aborted: nothing to resume; upload the file "
        "again to start over"
    )
    assert os.path.exists(tmp_path / "b.bin")
