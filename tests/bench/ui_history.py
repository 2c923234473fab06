"""``ui-open`` and ``ui-idle``: the app over a long history of finished sessions.

The real ``PartdeckApp`` under ``run_test(size=(160, 48))`` on a real engine, over a
journal holding the showcase sessions of ``tests.support.uidata`` (7 unfinished, 2
finished) and ``HISTORY`` finished sessions of ``tests.support.history`` (3 parts each).
Nothing uploads; the clock is the real one, so ages tick as they would. Only Textual's
public API is used. Baseline, same process and run: the same app over the showcase
sessions alone.

``ui-open``: milliseconds from entering ``App.run_test`` (the app starts: Textual's own
start-up, the theme files, the engine's first journal read) to the end of the first
screen refresh after the sessions table holds its rows (polled every millisecond once
``run_test`` hands over, then ``SessionsTable.wait_for_refresh()``). The median of
``OPEN_SAMPLES`` openings. Target: ours < 1,000 ms.

``ui-idle``: the app's CPU, as a fraction of one core, while it sits idle: once the whole
history has been read (for the search), after a second to settle, ``time.process_time()``
(every thread: the 4 Hz tick, the 1 s journal check, the rate meter, Textual) over
``IDLE_SECONDS`` of wall time. Target: ours < 0.02 core. Headless Textual composes frames
but does not write them; idle, there is nothing to write.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from tests.bench.common import Context, Result

HISTORY = 10_000
SIZE = (160, 48)
OPEN_TARGET_MS = 1000.0
IDLE_TARGET = 0.02
TIMEOUT = 120.0
"""Seconds the app may take to read the history before the benchmark gives up."""


def _journal(work: Path, history: int) -> Path:
    """A state dir with the showcase sessions and ``history`` finished ones."""
    from tests.support.history import history_journal
    from tests.support.uidata import showcase_journal

    state_dir, files_dir = work / "state", work / "files"
    shutil.rmtree(work, ignore_errors=True)
    showcase_journal(state_dir, files_dir)
    if history:
        history_journal(state_dir, files_dir, history)
    return state_dir


async def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"ui-history: timed out waiting for {what}")
        await asyncio.sleep(0.001)


async def _run(state_dir: Path, idle_seconds: float) -> dict[str, float]:
    """Open the app once: ms to the first frame with sessions, and idle core if asked."""
    from tests.support.uidata import offline_config
    from tui.core.journal import Journal
    from tui.runtime import open_engine
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir
    from tui.ui.widgets.sessions_table import SessionsTable

    journal = Journal.open(state_dir)
    try:
        total = journal.session_count()
    finally:
        journal.close()
    config = offline_config()
    out: dict[str, float] = {}
    async with open_engine(config, state_dir) as engine:
        app = PartdeckApp(engine, config, theme_dirs=[shipped_themes_dir()])
        t0 = time.perf_counter()
        async with app.run_test(size=SIZE):
            table = app.main.query_one(SessionsTable)
            await _until(lambda: table.row_count > 0, "the first sessions")
            await table.wait_for_refresh()
            out["open_ms"] = (time.perf_counter() - t0) * 1000
            if idle_seconds:
                await _until(lambda: len(app.main.sessions) == total, "the whole history")
                await asyncio.sleep(1.0)
                cpu0, w0 = time.process_time(), time.perf_counter()
                await asyncio.sleep(idle_seconds)
                cpu1, w1 = time.process_time(), time.perf_counter()
                out["idle_core"] = (cpu1 - cpu0) / (w1 - w0)
    return out


def _opens(ctx: Context, history: int) -> list[float]:
    """Milliseconds to the first frame with sessions, over fresh openings of one journal."""
    state_dir = _journal(ctx.tmp / f"ui-open-{history}", history)
    return [asyncio.run(_run(state_dir, 0.0))["open_ms"] for _ in range(3 if ctx.quick else 5)]


def bench_ui_open(ctx: Context) -> Result:
    """Time to the first frame with sessions, 10,000 finished sessions vs the showcase."""
    ours, base = _opens(ctx, HISTORY), _opens(ctx, 0)
    ours_ms, base_ms = statistics.median(ours), statistics.median(base)
    return Result(
        name="ui-open",
        unit="ms",
        ours=ours_ms,
        baseline=base_ms,
        ratio=ours_ms / base_ms,
        target=f"ours < {OPEN_TARGET_MS:.0f} ms",
        passed=ours_ms < OPEN_TARGET_MS,
        extra={
            "finished_sessions": HISTORY,
            "ours_ms": [round(x, 1) for x in ours],
            "showcase_only_ms": [round(x, 1) for x in base],
        },
    )


def bench_ui_idle(ctx: Context) -> Result:
    """The idle app's share of a core, 10,000 finished sessions vs the showcase alone."""
    ours = _idle(ctx, HISTORY)
    base = _idle(ctx, 0)
    return Result(
        name="ui-idle",
        unit="core",
        ours=ours,
        baseline=base,
        ratio=ours / base if base else float("nan"),
        target=f"ours < {IDLE_TARGET:.2f} core",
        passed=ours < IDLE_TARGET,
        extra={"finished_sessions": HISTORY},
    )


def _idle(ctx: Context, history: int) -> float:
    state_dir = _journal(ctx.tmp / f"ui-idle-{history}", history)
    return asyncio.run(_run(state_dir, 5.0 if ctx.quick else 10.0))["idle_core"]
