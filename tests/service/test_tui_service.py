"""The TUI as a client of the service: real apps under Pilot, attached to a real service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.integration.conftest import make_file
from tests.service.conftest import attach
from tests.service.test_service_socket import slow_config
from tests.support.faultproxy import FaultProxy
from tests.ui.conftest import row_text, until
from tui.config import load_config
from tui.core.units import MiB
from tui.service.attached import ServiceEngine
from tui.ui.app import PartdeckApp
from tui.ui.themes import shipped_themes_dir


def app_on(engine: ServiceEngine, config: Path) -> PartdeckApp:
    return PartdeckApp(
        engine, load_config(config, must_exist=True), theme_dirs=[shipped_themes_dir()]
    )


async def test_two_tuis_show_the_same_progress_and_one_pauses_for_both(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "watched.bin", 40 * MiB)  # long enough for two apps to start
    engines = [await attach(spawned, config) for _ in range(2)]
    apps = [app_on(engine, config) for engine in engines]
    [session] = await engines[0].batch([path], "moto", part_size=5 * MiB)
    sid = session.id
    seen: dict[int, set[str]] = {0: set(), 1: set()}
    both_saw_it = asyncio.Barrier(2)

    async def watch(index: int) -> None:
        app = apps[index]
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: sid in app.main.sessions, "the session", 30)
            assert "service ●" in app.sub_title

            def note(state: str) -> bool:
                seen[index].add(row_text(app, sid)["state"])
                return state in row_text(app, sid)["state"]

            await until(pilot, lambda: note("uploading"), "uploading", 30)
            if index == 1:
                await until(pilot, lambda: engines[1].is_running(sid), "uploading", 30)
                await until(pilot, lambda: (engines[1].progress(sid) or _zero()).current > 0,
                            "bytes sent", 30)  # fmt: skip
                await pilot.press("p")  # this TUI pauses what the other one watches too
            await until(pilot, lambda: note("paused"), "paused", 30)
            await both_saw_it.wait()
            if index == 0:
                await pilot.press("p")  # and this one resumes it
            await until(pilot, lambda: "completed" in row_text(app, sid)["state"], "done", 90)
            await _quit(pilot)

    try:
        await asyncio.gather(watch(0), watch(1))
    finally:
        for engine in engines:
            await engine.close()
    for states in seen.values():
        assert any("uploading" in s for s in states) and any("paused" in s for s in states)
    assert s3.get_object(Bucket=bucket, Key="up/watched.bin")["Body"].read() == path.read_bytes()


async def test_quitting_the_tui_leaves_the_upload_running(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "left.bin", 15 * MiB)
    engine = await attach(spawned, config)
    [session] = await engine.batch([path], "moto", part_size=5 * MiB)
    app = app_on(engine, config)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: session.id in app.main.sessions, "the session", 30)
        await pilot.press("q")  # no question: the service carries on
        await pilot.pause()
    assert not app.is_running
    await engine.close()
    watcher = await attach(spawned, config)
    try:
        assert watcher.is_running(session.id)
        await asyncio.wait_for(watcher.wait(session.id), 90)
        assert str(watcher.session(session.id).state) == "completed"
    finally:
        await watcher.close()
    assert s3.get_object(Bucket=bucket, Key="up/left.bin")["Body"].read() == path.read_bytes()


def _zero() -> Any:
    from tui.core.engine import Progress

    return Progress(0)


async def _quit(pilot: Pilot[None]) -> None:
    await pilot.press("q")
    await pilot.pause()
