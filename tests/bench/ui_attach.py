"""``ui-attach``: milliseconds from a TUI attaching to a service that holds 1,001 sessions
to the first frame that shows a 10,000-part session's parts.

A real service process runs on a journal of 1,000 finished sessions and one paused
session of 10,000 parts (``tests.bench.service._big_journal``); it is started before the
samples and stays up. One sample, in this process:

* t0: ``attach_service`` (status, snapshot, accounts over the socket), then the real
  ``PartdeckApp`` on that engine under ``run_test(size=(160, 48))``;
* the app selects the unfinished session first, as a person sees it on opening: its
  parts come from the service (``load_parts``); the loop is polled every millisecond
  until the parts view holds the 10,000 parts, then ``wait_for_refresh`` waits for the
  next repaint;
* t1: that frame is painted; its first body line is checked to show part 1.

``ours`` is the median of the samples (5, or 3 with ``--quick``); ``baseline`` is the
same span with the app alone on an empty in-process journal (Textual's own start-up and
first frame, which any app pays), so ``ours - baseline`` is what attaching and the
10,000 parts cost. Target: ours < 300 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from tests.bench.common import Context, Result, sink_config
from tests.bench.service import _big_journal, _service
from tests.bench.ui import SIZE, _first_part_line, painted

TARGET_MS = 300.0
PARTS = 10_000


async def _attached_sample(config: Path, state_dir: Path) -> float:
    from tui.config import load_config
    from tui.service.frontend import attach_service
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir
    from tui.ui.widgets.parts_view import PartsView

    loaded = load_config(config, must_exist=True)
    t0 = time.perf_counter()
    engine = await attach_service(loaded, state_dir)
    try:
        app = PartdeckApp(engine, loaded, theme_dirs=[shipped_themes_dir()])
        async with app.run_test(size=SIZE) as pilot:
            view = app.main.query_one(PartsView)
            t1 = await painted(view, lambda: len(view.parts) == PARTS, "the 10,000 parts")
            if not _first_part_line(view).lstrip().startswith("1 "):
                raise RuntimeError("ui-attach: the view's first line is not part 1")
            await pilot.pause()
    finally:
        await engine.close()
    return (t1 - t0) * 1000


async def _bare_sample(config: Path, state_dir: Path) -> float:
    from tui.config import load_config
    from tui.runtime import open_engine
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir
    from tui.ui.widgets.sessions_table import SessionsTable

    loaded = load_config(config, must_exist=True)
    t0 = time.perf_counter()
    async with open_engine(loaded, state_dir) as engine:
        app = PartdeckApp(engine, loaded, theme_dirs=[shipped_themes_dir()])
        async with app.run_test(size=SIZE) as pilot:
            table = app.main.query_one(SessionsTable)
            t1 = await painted(table, lambda: table.is_mounted, "the empty sessions table")
            await pilot.pause()
    return (t1 - t0) * 1000


async def _samples(work: Path, config: Path, rounds: int) -> tuple[list[float], list[float]]:
    state_dir = work / "state"
    attached: list[float] = []
    async with _service(config, state_dir):  # started, and attached once, untimed
        for _ in range(rounds):
            attached.append(await _attached_sample(config, state_dir))
    bare = [await _bare_sample(config, work / f"bare-{n}") for n in range(rounds)]
    return attached, bare


def bench_ui_attach(ctx: Context) -> Result:
    """Median ms from attaching to the first frame of a 10,000-part session's parts."""
    work = ctx.tmp / "ui-attach"
    work.mkdir(exist_ok=True)
    config = sink_config(work / "config.toml", "http://127.0.0.1:9")
    _big_journal(work / "state", 1_000, PARTS)
    attached, bare = asyncio.run(_samples(work, config, 3 if ctx.quick else 5))
    ours, baseline = statistics.median(attached), statistics.median(bare)
    return Result(
        name="ui-attach",
        unit="ms",
        ours=ours,
        baseline=baseline,
        ratio=ours / TARGET_MS,
        target=f"< {TARGET_MS:.0f} ms",
        passed=ours < TARGET_MS,
        extra={"attached_ms": attached, "bare_app_ms": bare, "sessions": 1_001, "parts": PARTS},
    )
