"""``ui-parts`` and ``ui-cpu``: the Textual app's own costs, measured headless in this process.

``ui-parts``: milliseconds from selecting a 10,000-part session in the sessions table to
the first frame that shows its parts. The real ``PartdeckApp`` runs under
``run_test(size=(160, 48))`` on a real engine over the synthetic journal of
``tests.support.uidata`` (``big_journal`` plus the showcase sessions). Only Textual's
public API is used. One sample:

* t0: ``SessionsTable.move_cursor(row=<the big session>)`` is called (what the arrow key
  does; the handlers, the journal read in a thread and ``PartsView.show`` all follow);
* then the loop is polled every millisecond until the view holds the 10,000 parts, and
  ``PartsView.wait_for_refresh()`` waits for the next screen refresh (Textual runs its
  callbacks after the screen is repainted);
* t1: that refresh is over; the view's first body line is then checked to show part 1.

Before each sample another session (a showcase one, 12 parts) is selected and painted the
same way, so every sample loads the big session afresh. ``ours`` is the median of the
samples. Baseline, same process and run: the same 10,000 parts as rows of a plain
``DataTable`` (the cells' texts as ``str``) in a bare app of the same size, from the
``add_rows`` call (the rows' cells are formatted inside the timed span) until the table
has measured every row (its ``virtual_size`` holds them all) and the next refresh is over;
the journal read is not in it. The median of its samples again.
Target: ours < 300 ms; ratio = ours / DataTable.

``ui-cpu``: the app's CPU, as a fraction of one core, while 8 sessions upload at full speed
to the sandbox's S3 account. The sandbox's checking S3 gateway (``Sandbox(..., providers=
("s3",))``) runs in a child process of this module and moto in another
(``tests.support.moto.moto_server``), so neither is counted; in this process run only the
engine (its loop, its hashing and file-reading threads) and, in one of the runs, the app.

* with app: the real app under ``run_test(size=(160, 48))``; t0, then
  ``MainScreen.start_batch(paths, "sandbox-s3")`` (plan + start each file, as the file
  browser does), until every session is completed (engine events), t1;
* headless: the same upload with the engine alone (plan + start each file, then wait),
  fresh state dir and object keys, same engine settings.

CPU is ``time.process_time()`` (every thread of the process: user + system) over t0..t1.
An uncounted warm-up upload (8 files of 8 MiB, engine alone) comes first; then pairs of
runs (headless, then with app; 2 pairs with --quick, else 3), and moto's bucket is emptied
after every run. Per pair, ``app = (cpu_app - cpu_headless) / wall_app`` and
``engine = cpu_headless / wall_headless``; ``ours`` is the median of the pairs' ``app``,
``baseline`` the median of their ``engine`` (the engine's own share of a core, for scale);
ratio = ours / baseline. Target: ours < 0.15.
No bandwidth cap is set (the same settings in both runs: 8 MiB parts, 8 in flight, 4 per
session): both runs go as fast as moto lets them, so the engine does the same work in both
and only the wall time may differ. Files: 8 of 32 MiB (--quick) or 128 MiB, hard links of
one random file under distinct names. Headless Textual composes every frame but skips
encoding it for the terminal and writing it, so a real terminal costs somewhat more.

Run this module as ``python -m tests.bench.ui --sandbox-child S3_URL STATE_DIR CONFIG`` to
serve the gateway (what ``ui-cpu`` starts); it writes CONFIG, prints ``READY`` and serves
until its stdin closes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bench.common import ROOT, Context, MiB, Result

PARTS = 10_000
SIZE = (160, 48)
PARTS_TARGET_MS = 300.0
CPU_TARGET = 0.15
FRAME_TIMEOUT = 60.0
"""Seconds one sample may wait for its frame before the benchmark gives up."""
UPLOAD_TIMEOUT = 600.0
"""Seconds one upload run may take before the benchmark gives up."""
FILES = 8
WARMUP = 8 * MiB
"""Size of each file of the uncounted warm-up upload."""
ACCOUNT = "sandbox-s3"
ENGINE: dict[str, Any] = {
    "parts_in_flight": 8,
    "parts_per_session": 4,
    "part_size": "8MiB",
    "retries": 2,
}
"""Engine settings of both ui-cpu runs (no bandwidth_limit: full speed)."""


# -- frames ----------------------------------------------------------------------------------


async def painted(widget: Any, ready: Callable[[], bool], what: str) -> float:
    """The perf_counter time the first screen refresh after ``ready()`` holds is over.

    ``ready`` is polled every millisecond (at most a millisecond late); then
    ``widget.wait_for_refresh()``, Textual's public wait for the next repaint.
    """
    deadline = time.monotonic() + FRAME_TIMEOUT
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no frame showed {what} within {FRAME_TIMEOUT:.0f}s")
        await asyncio.sleep(0.001)
    if not await widget.wait_for_refresh():
        raise RuntimeError(f"the app closed before a frame showed {what}")
    return time.perf_counter()


def _first_part_line(view: Any) -> str:
    """The text of the parts view's first body line as it paints it now."""
    return "".join(segment.text for segment in view.render_line(1))


# -- ui-parts --------------------------------------------------------------------------------


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + FRAME_TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _parts_view_samples(state_dir: Path, big_id: str, small_id: str, n: int) -> list[float]:
    """Seconds from selecting the big session to the frame showing its parts, n times."""
    from tests.support.uidata import NOW, offline_config
    from tui.runtime import open_engine
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir
    from tui.ui.widgets.parts_view import PartsView
    from tui.ui.widgets.sessions_table import SessionsTable

    config = offline_config()
    samples: list[float] = []
    async with open_engine(config, state_dir) as engine:
        small_count = len(engine.journal.parts(small_id))
        app = PartdeckApp(engine, config, clock=lambda: NOW, theme_dirs=[shipped_themes_dir()])
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            main = app.main
            table = main.query_one(SessionsTable)
            view = main.query_one(PartsView)
            await _until(lambda: big_id in main.sessions and small_id in main.sessions, "sessions")
            await _until(lambda: table.row_count == len(main.sessions), "the sessions table")
            big_row = table.get_row_index(big_id)
            small_row = table.get_row_index(small_id)
            for _ in range(n):
                table.move_cursor(row=small_row, animate=False)
                await painted(
                    view,
                    lambda: main.selected == small_id and len(view.parts) == small_count,
                    "the small session's parts",
                )
                await pilot.pause()
                t0 = time.perf_counter()
                table.move_cursor(row=big_row, animate=False)
                t1 = await painted(
                    view,
                    lambda: main.selected == big_id and len(view.parts) == PARTS,
                    f"the {PARTS:,} parts",
                )
                samples.append(t1 - t0)
                if not _first_part_line(view).lstrip().startswith("1 "):
                    raise RuntimeError("ui-parts: the view's first line is not part 1")
                await pilot.pause()
            if len(view.parts) != PARTS or view.parts[-1].number != PARTS:
                raise RuntimeError(f"ui-parts: the view holds {len(view.parts)} parts")
    return samples


async def _data_table_samples(state_dir: Path, big_id: str, n: int) -> list[float]:
    """Seconds from add_rows of the same parts to a frame of the measured DataTable, n times."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from tests.support.uidata import NOW
    from tui.core.journal import Journal
    from tui.ui.rows import PART_COLUMNS, part_cells

    journal = Journal.open(state_dir)
    try:
        parts = journal.parts(big_id)
    finally:
        journal.close()

    class TableApp(App[None]):
        CSS = "DataTable { height: 1fr; }"

        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

    samples: list[float] = []
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table: DataTable[str] = app.query_one(DataTable)
        table.add_columns(*(label for _key, label, _width in PART_COLUMNS))
        await pilot.pause()

        def measured() -> bool:
            # one line per row and one for the header, once the table has measured them
            return table.row_count == len(parts) and table.virtual_size.height > len(parts)

        for _ in range(n):
            table.clear()
            await pilot.pause()
            t0 = time.perf_counter()
            table.add_rows([c.text for c in part_cells(p, None, NOW)] for p in parts)
            t1 = await painted(table, measured, f"the DataTable of {len(parts):,} rows")
            samples.append(t1 - t0)
            await pilot.pause()
    return samples


def bench_ui_parts(ctx: Context) -> Result:
    """Open the parts view of a 10,000-part session: median ms, vs a plain DataTable."""
    from tests.support.uidata import big_journal, showcase_journal

    work = ctx.tmp / "ui-parts"
    shutil.rmtree(work, ignore_errors=True)
    state_dir, files_dir = work / "state", work / "files"
    showcase = showcase_journal(state_dir, files_dir)
    big = big_journal(state_dir, files_dir, parts=PARTS)
    small = showcase[0]
    n_ours, n_table = (3, 1) if ctx.quick else (7, 3)
    ours = asyncio.run(_parts_view_samples(state_dir, big.id, small.id, n_ours))
    table = asyncio.run(_data_table_samples(state_dir, big.id, n_table))
    ours_ms = statistics.median(ours) * 1000
    table_ms = statistics.median(table) * 1000
    return Result(
        name="ui-parts",
        unit="ms",
        ours=ours_ms,
        baseline=table_ms,
        ratio=ours_ms / table_ms,
        target=f"ours < {PARTS_TARGET_MS:.0f} ms",
        passed=ours_ms < PARTS_TARGET_MS,
        extra={
            "parts": PARTS,
            "size": list(SIZE),
            "ours_ms": [round(s * 1000, 1) for s in ours],
            "data_table_ms": [round(s * 1000, 1) for s in table],
        },
    )


# -- ui-cpu ----------------------------------------------------------------------------------


@contextmanager
def _sandbox_child(s3_url: str, state_dir: Path, config: Path) -> Iterator[Path]:
    """The sandbox's S3 gateway in a child process; yields the config it wrote."""
    cmd = [sys.executable, "-m", "tests.bench.ui", "--sandbox-child", s3_url]
    proc = subprocess.Popen(
        [*cmd, str(state_dir), str(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"the sandbox child did not start (said {line!r})")
        yield config
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve_sandbox(s3_url: str, state_dir: Path, config: Path) -> int:
    """Child side: serve the S3 gateway until stdin closes."""
    from tui.sandbox.runner import Sandbox

    with Sandbox(state_dir=state_dir, s3_url=s3_url, providers=("s3",)) as sandbox:
        sandbox.write_config(config, ENGINE)
        print("READY", flush=True)
        sys.stdin.read()
    return 0


class _Finished:
    """Counts sessions that reached a final state, from engine events."""

    FINAL = frozenset({"completed", "aborted", "failed", "complete-unknown", "local-changed"})

    def __init__(self, want: int) -> None:
        self.want = want
        self.states: dict[str, str] = {}
        self.done = asyncio.Event()

    def __call__(self, event: Any) -> None:
        if event.kind == "session" and event.part is None and event.state in self.FINAL:
            self.states[event.session_id] = event.state
            if len(self.states) >= self.want:
                self.done.set()

    def check(self, what: str) -> None:
        bad = {sid[:8]: st for sid, st in self.states.items() if st != "completed"}
        if bad or len(self.states) != self.want:
            raise RuntimeError(f"ui-cpu ({what}): sessions ended {bad or self.states}")


def _files(ctx: Context, size: int, run: str) -> list[Path]:
    """FILES distinct names (hard links of one random file) for one run's object keys."""
    source = ctx.files.get(size)
    folder = ctx.tmp / "ui-cpu" / "files" / run
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(FILES):
        path = folder / f"{run}-{i}.bin"
        if not path.exists():
            try:
                os.link(source, path)
            except OSError:
                shutil.copyfile(source, path)
        paths.append(path)
    return paths


async def _upload_headless(
    config_path: Path, state_dir: Path, paths: list[Path]
) -> dict[str, float]:
    """The upload with the engine alone: CPU and wall seconds of the window."""
    from tui.config import load_config
    from tui.runtime import open_engine

    config = load_config(config_path, must_exist=True)
    async with open_engine(config, state_dir) as engine:
        finished = _Finished(len(paths))
        engine.subscribe(finished)
        cpu0, t0 = time.process_time(), time.perf_counter()
        sessions = []
        for path in paths:
            session = await engine.plan(path, ACCOUNT)
            await engine.start(session.id)
            sessions.append(session)
        await asyncio.wait_for(finished.done.wait(), UPLOAD_TIMEOUT)
        cpu1, t1 = time.process_time(), time.perf_counter()
        for session in sessions:
            await engine.wait(session.id)
        finished.check("headless")
    return {"cpu": cpu1 - cpu0, "wall": t1 - t0}


async def _upload_with_app(
    config_path: Path, state_dir: Path, paths: list[Path]
) -> dict[str, float]:
    """The upload started from the app's main screen: CPU and wall seconds of the window."""
    from tui.config import load_config
    from tui.runtime import open_engine
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir

    config = load_config(config_path, must_exist=True)
    async with open_engine(config, state_dir) as engine:
        finished = _Finished(len(paths))
        engine.subscribe(finished)
        app = PartdeckApp(engine, config, theme_dirs=[shipped_themes_dir()])
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await asyncio.sleep(0.5)  # the first resync and paints are not part of the window
            cpu0, t0 = time.process_time(), time.perf_counter()
            app.main.start_batch(paths, ACCOUNT)
            await asyncio.wait_for(finished.done.wait(), UPLOAD_TIMEOUT)
            cpu1, t1 = time.process_time(), time.perf_counter()
            for sid in list(finished.states):
                if engine.is_running(sid):
                    await engine.wait(sid)
            await pilot.pause()
        finished.check("with app")
    return {"cpu": cpu1 - cpu0, "wall": t1 - t0}


def _empty_bucket(s3_url: str, config_path: Path, expect: int = FILES) -> None:
    """Delete the ``expect`` objects a run stored in moto (so its memory does not grow)."""
    import botocore.session

    from tui.config import load_config

    bucket = load_config(config_path, must_exist=True).account(ACCOUNT).bucket
    s3 = botocore.session.get_session().create_client(
        "s3", endpoint_url=s3_url, region_name="us-east-1",
        aws_access_key_id="bench", aws_secret_access_key="bench",
    )  # fmt: skip
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
            deleted += 1
    if deleted != expect:
        raise RuntimeError(f"ui-cpu: moto's bucket {bucket!r} held {deleted} objects, not {expect}")


def bench_ui_cpu(ctx: Context) -> Result:
    """The app's share of a core while 8 sessions upload, over the engine-only run."""
    from tests.support.moto import moto_server

    size = (32 if ctx.quick else 128) * MiB
    pairs = 2 if ctx.quick else 3
    work = ctx.tmp / "ui-cpu"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    runs: list[dict[str, Any]] = []
    with (
        moto_server() as moto,
        _sandbox_child(moto.url, work / "sandbox", work / "config.toml") as config,
    ):
        # warm-up, not counted: first requests, imports, moto's first buckets
        asyncio.run(_upload_headless(config, work / "state-w", _files(ctx, WARMUP, "w")))
        _empty_bucket(moto.url, config)
        for i in range(pairs):
            paths = _files(ctx, size, f"h{i}")
            headless = asyncio.run(_upload_headless(config, work / f"state-h{i}", paths))
            _empty_bucket(moto.url, config)
            paths = _files(ctx, size, f"a{i}")
            app = asyncio.run(_upload_with_app(config, work / f"state-a{i}", paths))
            _empty_bucket(moto.url, config)
            runs.append(
                {
                    "headless_cpu_s": round(headless["cpu"], 3),
                    "headless_wall_s": round(headless["wall"], 3),
                    "app_cpu_s": round(app["cpu"], 3),
                    "app_wall_s": round(app["wall"], 3),
                    "app_core": (app["cpu"] - headless["cpu"]) / app["wall"],
                    "engine_core": headless["cpu"] / headless["wall"],
                }
            )
    ours = statistics.median(r["app_core"] for r in runs)
    baseline = statistics.median(r["engine_core"] for r in runs)
    total = FILES * size / MiB
    return Result(
        name="ui-cpu",
        unit="core",
        ours=ours,
        baseline=baseline,
        ratio=ours / baseline if baseline else float("nan"),
        target=f"ours < {CPU_TARGET:.2f} core",
        passed=ours < CPU_TARGET,
        extra={
            "files": FILES,
            "file_size": size,
            "mib_per_s_app": [round(total / r["app_wall_s"], 1) for r in runs],
            "mib_per_s_headless": [round(total / r["headless_wall_s"], 1) for r in runs],
            "pairs": runs,
        },
    )


def main(argv: list[str]) -> int:
    """``--sandbox-child S3_URL STATE_DIR CONFIG``: serve the gateway for ui-cpu."""
    if len(argv) == 4 and argv[0] == "--sandbox-child":
        return _serve_sandbox(argv[1], Path(argv[2]), Path(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
