"""Engine commands and states driven directly: pause, stalled, complete-unknown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import CLI, make_file
from tests.support.faultproxy import FaultProxy, Rule
from tui.config import load_config
from tui.core.engine import Engine
from tui.core.errors import UsageError
from tui.core.journal import Journal
from tui.core.model import Event, SessionState
from tui.core.settings import EngineSettings
from tui.core.units import MiB
from tui.providers import s3 as s3_provider
from tui.providers.s3 import finish as s3_finish
from tui.runtime import open_engine, with_overrides


def _states(events: list[Event], kind: str = "session") -> list[str | None]:
    return [e.state for e in events if e.kind == kind]


async def _engine_run(
    config: Path, state_dir: Path, body: Any, **settings: Any
) -> tuple[list[Event], Any]:
    cfg = load_config(config)
    events: list[Event] = []
    async with open_engine(cfg, state_dir, with_overrides(cfg.engine, **settings)) as engine:
        engine.subscribe(events.append)
        result = await body(engine)
    return events, result


def test_pause_then_resume(
    proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "paused.bin", 20 * MiB)

    async def body(engine: Engine) -> str:
        session = await engine.plan(path, "moto", 5 * MiB)
        verified = asyncio.Event()
        engine.subscribe(lambda e: verified.set() if e.state == "verified" else None)
        await engine.start(session.id)
        await verified.wait()
        paused = await engine.pause(session.id)
        assert str(paused.state) == "paused"
        parts = engine.parts(session.id)
        assert not [p for p in parts if p.state in ("uploading", "hashing")]
        assert any(p.state == "verified" for p in parts)
        done = await engine.run(session.id)
        return str(done.state)

    events, state = asyncio.run(
        _engine_run(proxied_config, state_dir, body, bandwidth_limit=20 * MiB,
                    parts_per_session=1)
    )  # fmt: skip
    assert state == "completed"
    assert _states(events) == ["planned", "uploading", "paused", "uploading", "uploaded",
                               "completing", "completed"]  # fmt: skip
    sent = [s.part for s in proxy.ops("upload_part") if s.status == 200]
    assert sorted(sent) == [1, 2, 3, 4]  # no part the server took was sent twice
    assert s3.get_object(Bucket=bucket, Key="up/paused.bin")["Body"].read() == path.read_bytes()


def test_stalled_then_recovers(
    proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path
) -> None:
    proxy.add(Rule(op="upload_part", part=1, action="stall", delay=2.5))
    path = make_file(tmp_path / "slow.bin", 1 * MiB)

    async def body(engine: Engine) -> str:
        session = await engine.plan(path, "moto", 5 * MiB)
        return str((await engine.run(session.id)).state)

    events, state = asyncio.run(_engine_run(proxied_config, state_dir, body, stall_after=0.8))
    assert state == "completed"
    assert _states(events) == ["planned", "uploading", "stalled", "uploading", "uploaded",
                               "completing", "completed"]  # fmt: skip
    stalled = next(e for e in events if e.state == "stalled")
    assert "no bytes sent for" in (stalled.message or "")


def test_complete_unknown_is_never_resent_by_itself(
    proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(s3_finish, "COMPLETE_BACKOFF", 0.01)
    proxy.add(Rule(op="complete", action="status", status=502, times=-1))
    path = make_file(tmp_path / "unknown.bin", 6 * MiB)

    async def body(engine: Engine) -> tuple[str, str | None, str]:
        session = await engine.plan(path, "moto", 5 * MiB)
        done = await engine.run(session.id)
        return str(done.state), done.error, session.id

    _, (state, error, session_id) = asyncio.run(_engine_run(proxied_config, state_dir, body))
    assert state == "complete-unknown"
    assert "check it, then run partdeck complete again" in (error or "")
    sent = len(proxy.ops("complete"))
    assert sent == s3_provider.COMPLETE_TRIES
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")  # nothing discarded

    # Resuming does not complete again by itself; an explicit complete does.
    async def resume(engine: Engine) -> str:
        with pytest.raises(UsageError) as caught:
            await engine.run(session_id)
        return str(caught.value)

    _, message = asyncio.run(_engine_run(proxied_config, state_dir, resume))
    assert "outcome is unknown" in message
    assert len(proxy.ops("complete")) == sent
    proxy.rules.clear()

    async def complete(engine: Engine) -> str:
        return str((await engine.complete(session_id)).state)

    _, state = asyncio.run(_engine_run(proxied_config, state_dir, complete))
    assert state == "completed"
    assert len(proxy.ops("complete")) == sent + 1


def test_settings_bound_parts_in_flight(
    proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path
) -> None:
    proxy.add(Rule(op="upload_part", action="stall", delay=0.3, times=-1))
    files = [make_file(tmp_path / f"bound-{i}.bin", 12 * MiB, seed=i) for i in range(3)]

    async def body(engine: Engine) -> list[str]:
        sessions = [await engine.plan(f, "moto", 5 * MiB) for f in files]
        done = await asyncio.gather(*(engine.run(s.id) for s in sessions))
        return [str(s.state) for s in done]

    events, states = asyncio.run(
        _engine_run(proxied_config, state_dir, body, parts_in_flight=3, parts_per_session=2)
    )
    assert states == ["completed"] * 3
    in_flight = peak = 0
    for e in events:
        if e.kind == "part" and e.state == "uploading":
            in_flight += 1
            peak = max(peak, in_flight)
        elif e.kind == "part" and e.state in ("verified", "unverifiable", "failed", "pending"):
            in_flight -= 1
    assert peak == 3
    assert EngineSettings().parts_in_flight == 8


def _as_if_killed_in_complete(state_dir: Path, session_id: str) -> None:
    """Put the journal back where a process killed mid-complete leaves it."""
    journal = Journal.open(state_dir)
    try:
        session = journal.session(session_id)
        session.state = SessionState.COMPLETING
        session.complete_sent = max(session.complete_sent, 1)
        journal.commit(session=session)
    finally:
        journal.close()


@pytest.mark.parametrize("landed", [False, True], ids=["complete-lost", "complete-landed"])
def test_resume_after_a_crash_in_complete_completes(
    cli: CLI, config_file: Path, state_dir: Path, tmp_path: Path, s3: Any, bucket: str,
    landed: bool,
) -> None:  # fmt: skip
    """S3's complete may be repeated, so resume carries on; S3 says if the first landed."""
    path = make_file(tmp_path / "midway.bin", 6 * MiB)
    first = cli("upload", path, "--account", "moto", "--part-size", "5MiB", "--no-complete",
                "--json")  # fmt: skip
    assert first.summary["state"] == "uploaded", first.err
    session_id = first.summary["session"]
    if landed:
        assert cli("complete", session_id[:8]).code == 0
    _as_if_killed_in_complete(state_dir, session_id)

    resumed = cli("resume", session_id[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/midway.bin")["Body"].read() == path.read_bytes()


def test_resume_of_a_completed_session_says_so(cli: CLI, tmp_path: Path) -> None:
    path = make_file(tmp_path / "done.bin", 1 * MiB)
    done = cli("upload", path, "--account", "moto", "--json")
    session_id = done.summary["session"]
    again = cli("resume", session_id[:8])
    assert again.code == 0, again.err
    assert again.out.strip() == (
        f"{session_id[:12]}: already completed -> {done.summary['location']}; nothing to resume"
    )
    assert cli("resume", session_id[:8], "--json").summary["state"] == "completed"


def test_abort_of_a_session_never_opened_ends_aborted_from_any_state(
    proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path
) -> None:
    """A session whose open was refused (failed) or that stopped in complete before it
    was opened holds nothing on the server: abort settles it at once (both raised
    InvalidTransition: failed -> aborted, completing -> aborted)."""
    proxy.add(Rule(op="create", action="status", status=403, body=b"<Error><Code>AccessDenied"
                   b"</Code><Message>no</Message></Error>"))  # fmt: skip
    path = make_file(tmp_path / "refused.bin", 1 * MiB)

    async def body(engine: Engine) -> list[str]:
        refused = await engine.run((await engine.plan(path, "moto", 5 * MiB)).id)
        assert str(refused.state) == "failed" and not refused.opened
        stopped = await engine.plan(path, "moto", 5 * MiB)
        record = engine.journal.session(stopped.id)
        record.state, record.complete_sent = SessionState.COMPLETING, 1
        engine.journal.commit(session=record)
        return [str((await engine.abort(s.id)).state) for s in (refused, stopped)]

    _, states = asyncio.run(_engine_run(proxied_config, state_dir, body))
    assert states == ["aborted", "aborted"]
    assert not proxy.ops("abort")  # nothing was opened, so nothing is sent
