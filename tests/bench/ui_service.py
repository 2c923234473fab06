"""``ui-service-cpu`` and ``ui-cross``: the Textual app attached to a real service process.

Both spawn the per-user service as a real process for a fresh state dir (as the CLI does,
``attach_service``: ``python -m tui.service`` in a session of its own) and attach the real
``PartdeckApp`` to it through a ``ServiceEngine`` in this process, under
``run_test(size=(160, 48))``. The engine runs in the service, not here.

``ui-service-cpu``: the TUI's own CPU, as a fraction of one core, while 8 sessions upload
at full speed to the sandbox's S3 account. moto (``tests.support.moto.moto_server``) and
the sandbox's checking S3 gateway (``Sandbox(..., providers=("s3",))``, the same child as
``ui-cpu``'s) run in child processes of this one, the service in a third; none of them is
counted in this process's CPU. In this process run only the app and its ``ServiceEngine``
(the socket client following the service's event stream and the mirror it feeds): that
is the TUI process as a person runs it.

* per round, a fresh service (fresh state dir); an uncounted warm-up upload (8 files of
  8 MiB, plan + start through the ``ServiceEngine``, no app);
* client only (informative): 8 files of the measured size through the ``ServiceEngine``
  alone, plan + start per file as ``start_batch`` does, no app;
* with app: the app under ``run_test`` on that ``ServiceEngine`` (the warm-up's and the
  client run's 16 finished sessions are in its history); 0.5 s for its first resync and
  paints, then t0, ``MainScreen.start_batch(paths, "sandbox-s3")``, until every session of
  the batch is completed (events through the ``ServiceEngine``), t1.

This process's CPU is ``time.process_time()`` (every thread: user + system) over t0..t1,
the service's is user + system from ``/proc/PID/stat`` over the same span. Per round,
``tui = cpu_here / wall`` and ``service = cpu_service / wall`` of the app run; ``ours`` is
the median of the rounds' ``tui``, ``baseline`` the median of their ``service`` (the
service process's share of a core: its engine, hashing, requests and event feed; for
scale); ratio = ours / baseline. Target: ours < 0.05.
The extra figures give the client-only run's share of a core here (what following the
stream costs without the app) and the app run minus it, per wall second of the app run.
moto's bucket is emptied after every run. 2 rounds with --quick, else 3. Engine settings
as ``ui-cpu``: 8 MiB parts, 8 in flight, 4 per session, no bandwidth cap. Files: 8 of
32 MiB (--quick) or 128 MiB, hard links of one random file under distinct names.
Headless Textual composes every frame but does not encode or write it for a terminal.

``ui-cross``: a command from one client shows in another. Client A is a second
``ServiceEngine`` in this process (its own connection and event stream); client B is the
app under ``run_test`` on its own ``ServiceEngine``. One session uploads to the bench's
sink (``tests.bench.sink``) under ``bandwidth_limit = "4MiB"`` (8 MiB parts, 4 in flight;
a file of 64 MiB with --quick, else 256 MiB), so it runs through the whole run. One sample:

* untimed: both clients' mirrors have the session running (before a pause) or let go
  (before a resume: the service may say ``paused`` a moment before it lets the session go);
  then a random wait of 50-250 ms (seeded), so the samples fall at every phase of the
  app's 4 Hz tick;
* t0: A's ``pause`` (when the session is running) or ``start`` (when it is paused) is
  started in a task;
* the loop is polled every millisecond until B's sessions table holds ``paused`` (or
  ``uploading``) in the session's state cell, then ``SessionsTable.wait_for_refresh()``
  waits for the next screen refresh;
* t1: that refresh is over.

Each sample also notes when B's ``ServiceEngine`` (its mirror) first had the new state
and when A's call returned, both from t0. 10 toggles (20 samples) with --quick, else 40
(80). ``ours`` is the p99 of the samples, ``baseline`` their p50 (``statistics.quantiles``,
inclusive: interpolated between samples, never past the largest); ratio = p99 / 200 ms.
Target: p99 < 200 ms. Both clients share this process's loop (A's call and B's app take
turns on it), as two front ends never would; A and B each have their own socket link.

Run ``python -m tests.bench.ui_service --profile [--quick]`` for one with-app window of
``ui-service-cpu`` under cProfile (the app and its client run in this process's main
thread); it prints the top functions by own time and by cumulative time.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from tests.bench.common import Context, MiB, Result
from tests.bench.service import _service
from tests.bench.sink import sink_server
from tests.bench.ui import (
    ACCOUNT,
    FILES,
    SIZE,
    UPLOAD_TIMEOUT,
    WARMUP,
    _empty_bucket,
    _files,
    _sandbox_child,
    _until,
    painted,
)
from tests.support.procs import cpu_seconds
from tui.service.attached import ServiceEngine
from tui.service.spawn import service_pid

CPU_TARGET = 0.05
CROSS_TARGET_MS = 200.0
CROSS_LIMIT = "4MiB"
"""The ui-cross session's bandwidth limit: it must still run when the last toggle is done."""
FINAL = frozenset({"completed", "aborted", "failed", "complete-unknown", "local-changed"})


# -- ui-service-cpu --------------------------------------------------------------------------


class _Batch:
    """Waits for the sessions of these files to reach a final state, from engine events."""

    def __init__(self, engine: ServiceEngine, paths: list[Path]) -> None:
        self.engine = engine
        self.paths = {str(p.resolve()) for p in paths}
        self.states: dict[str, str] = {}
        self.done = asyncio.Event()
        self._unsubscribe = engine.subscribe(self)

    def __call__(self, event: Any) -> None:
        if event.kind != "session" or event.part is not None or event.state not in FINAL:
            return
        session = self.engine.mirror.session(event.session_id)
        if session is None or str(Path(session.path).resolve()) not in self.paths:
            return
        self.states[event.session_id] = event.state
        if len(self.states) >= len(self.paths):
            self.done.set()

    async def wait(self, what: str) -> None:
        try:
            await asyncio.wait_for(self.done.wait(), UPLOAD_TIMEOUT)
        finally:
            self._unsubscribe()
        bad = {sid[:8]: st for sid, st in self.states.items() if st != "completed"}
        if bad or len(self.states) != len(self.paths):
            raise RuntimeError(f"ui-service-cpu ({what}): sessions ended {bad or self.states}")


def _spans(pid: int) -> Callable[[], dict[str, float]]:
    """Start a window now; the returned call ends it: CPU here, the service's CPU, wall."""
    here0, there0, t0 = time.process_time(), cpu_seconds(pid), time.perf_counter()

    def end() -> dict[str, float]:
        here1, there1, t1 = time.process_time(), cpu_seconds(pid), time.perf_counter()
        return {"cpu": here1 - here0, "service_cpu": there1 - there0, "wall": t1 - t0}

    return end


async def _client_run(engine: ServiceEngine, pid: int, paths: list[Path]) -> dict[str, float]:
    """The upload through the ServiceEngine alone (plan + start per file, as the app does)."""
    batch = _Batch(engine, paths)
    end = _spans(pid)
    for path in paths:
        session = await engine.plan(path, ACCOUNT)
        await engine.start(session.id)
    await batch.wait("client only")
    return end()


async def _app_run(
    engine: ServiceEngine,
    config_path: Path,
    pid: int,
    paths: list[Path],
    profile: cProfile.Profile | None = None,
) -> dict[str, float]:
    """The upload started from the app's main screen, the app attached to the service."""
    from tui.config import load_config
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir

    config = load_config(config_path, must_exist=True)
    app = PartdeckApp(engine, config, theme_dirs=[shipped_themes_dir()])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await asyncio.sleep(0.5)  # the first resync and paints are not part of the window
        batch = _Batch(engine, paths)
        if profile is not None:
            profile.enable()
        end = _spans(pid)
        app.main.start_batch(paths, ACCOUNT)
        await batch.wait("with app")
        spent = end()
        if profile is not None:
            profile.disable()
        for sid in list(batch.states):
            if engine.is_running(sid):
                await engine.wait(sid)
        await pilot.pause()
    return spent


async def _round(
    ctx: Context,
    s3_url: str,
    config: Path,
    index: int,
    size: int,
    profile: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """One service: warm-up, client-only run, app run; the two runs' figures."""
    state_dir = ctx.tmp / "ui-service-cpu" / f"state-{index}"

    async def empty() -> None:
        await asyncio.to_thread(_empty_bucket, s3_url, config)

    async with _service(config, state_dir) as engine:
        pid = service_pid(state_dir)
        if pid is None or pid <= 0:
            raise RuntimeError("ui-service-cpu: no service process holds the state dir")
        await _client_run(engine, pid, _files(ctx, WARMUP, f"sw{index}"))
        await empty()
        client = await _client_run(engine, pid, _files(ctx, size, f"sc{index}"))
        await empty()
        app = await _app_run(engine, config, pid, _files(ctx, size, f"sa{index}"), profile)
        await empty()
    return {
        "app_cpu_s": round(app["cpu"], 3),
        "app_service_cpu_s": round(app["service_cpu"], 3),
        "app_wall_s": round(app["wall"], 3),
        "client_cpu_s": round(client["cpu"], 3),
        "client_service_cpu_s": round(client["service_cpu"], 3),
        "client_wall_s": round(client["wall"], 3),
        "tui_core": app["cpu"] / app["wall"],
        "service_core": app["service_cpu"] / app["wall"],
        "client_core": client["cpu"] / client["wall"],
        "app_over_client_core": (app["cpu"] - client["cpu"]) / app["wall"],
    }


def _cpu_rounds(
    ctx: Context, rounds: int, size: int, profile: cProfile.Profile | None = None
) -> list[dict[str, Any]]:
    from tests.support.moto import moto_server

    work = ctx.tmp / "ui-service-cpu"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with (
        moto_server() as moto,
        _sandbox_child(moto.url, work / "sandbox", work / "config.toml") as config,
    ):
        return [asyncio.run(_round(ctx, moto.url, config, i, size, profile)) for i in range(rounds)]


def bench_ui_service_cpu(ctx: Context) -> Result:
    """The attached app's share of a core while 8 sessions upload in the service."""
    size = (32 if ctx.quick else 128) * MiB
    runs = _cpu_rounds(ctx, 2 if ctx.quick else 3, size)
    ours = statistics.median(r["tui_core"] for r in runs)
    baseline = statistics.median(r["service_core"] for r in runs)
    total = FILES * size / MiB
    return Result(
        name="ui-service-cpu",
        unit="core",
        ours=ours,
        baseline=baseline,
        ratio=ours / baseline if baseline else float("nan"),
        target=f"ours < {CPU_TARGET:.2f} core",
        passed=ours < CPU_TARGET,
        extra={
            "files": FILES,
            "file_size": size,
            "client_core": statistics.median(r["client_core"] for r in runs),
            "app_over_client_core": statistics.median(r["app_over_client_core"] for r in runs),
            "mib_per_s_app": [round(total / r["app_wall_s"], 1) for r in runs],
            "mib_per_s_client": [round(total / r["client_wall_s"], 1) for r in runs],
            "rounds": runs,
        },
    )


def profile_ui_service_cpu(quick: bool, top: int = 30) -> str:
    """One with-app window of ui-service-cpu under cProfile; the top functions, as text."""
    import tempfile

    from tests.bench.common import DataFiles, Sizes

    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="partdeck-bench-") as tmp:
        ctx = Context(Sizes.pick(quick), DataFiles(Path(tmp)), Path(tmp), quick)
        runs = _cpu_rounds(ctx, 1, (32 if quick else 128) * MiB, profile)
    out = io.StringIO()
    print(f"window: {runs[0]}", file=out)
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# -- ui-cross --------------------------------------------------------------------------------


def _cross_config(path: Path, url: str) -> Path:
    """The sink account, with a bandwidth limit so the one session runs all along."""
    path.write_text(
        "[engine]\n"
        "parts_in_flight = 4\n"
        "parts_per_session = 4\n"
        'part_size = "8MiB"\n'
        f'bandwidth_limit = "{CROSS_LIMIT}"\n'
        "[accounts.sink]\n"
        'provider = "s3"\n'
        f'endpoint_url = "{url}"\n'
        'bucket = "bench"\n'
        'access_key_env = "BENCH_AK"\n'
        'secret_key_env = "BENCH_SK"\n'
    )
    return path


def _state_cell(table: Any, session_id: str) -> str:
    """The text of the session's state cell in the sessions table ('' before its row)."""
    try:
        return str(table.cell(session_id, "state").text)
    except KeyError:  # no such row yet
        return ""


def _settled(clients: tuple[ServiceEngine, ...], sid: str, running: bool) -> bool:
    """True when every client's mirror has the session driven (or not) as ``running``."""
    return all(client.is_running(sid) == running for client in clients)


async def _cross_sample(
    a: ServiceEngine, b: ServiceEngine, table: Any, sid: str, pausing: bool
) -> dict[str, Any]:
    """One sample: A pauses (or resumes) the session; B's table shows it."""
    want = "paused" if pausing else "uploading"
    seen: dict[str, float] = {}

    def shown() -> bool:
        if "mirror" not in seen and b.session(sid).state == want:
            seen["mirror"] = time.perf_counter()
        return _state_cell(table, sid).endswith(want)

    async def command() -> None:
        await (a.pause(sid) if pausing else a.start(sid))
        seen["ack"] = time.perf_counter()

    t0 = time.perf_counter()
    call = asyncio.create_task(command())
    t1 = await painted(table, shown, f"{want} in the other client")
    await call
    return {
        "command": "pause" if pausing else "resume",
        "shown_ms": (t1 - t0) * 1000,
        "mirror_ms": (seen.get("mirror", t1) - t0) * 1000,
        "ack_ms": (seen["ack"] - t0) * 1000,
    }


async def _cross_samples(ctx: Context, url: str, toggles: int) -> list[dict[str, Any]]:
    from tui.config import load_config
    from tui.service.frontend import attach_service
    from tui.ui.app import PartdeckApp
    from tui.ui.themes import shipped_themes_dir
    from tui.ui.widgets.sessions_table import SessionsTable

    work = ctx.tmp / "ui-cross"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config_path = _cross_config(work / "config.toml", url)
    file = ctx.files.get(ctx.sizes.cpu)
    state_dir = work / "state"
    rng = random.Random(20240601)
    samples: list[dict[str, Any]] = []
    async with _service(config_path, state_dir) as a:
        config = load_config(config_path, must_exist=True)
        b = await attach_service(config, state_dir)
        try:
            (session,) = await a.batch([file], "sink")
            sid = session.id
            app = PartdeckApp(b, config, theme_dirs=[shipped_themes_dir()])
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                table = app.main.query_one(SessionsTable)
                await painted(
                    table, lambda: _state_cell(table, sid).endswith("uploading"), "the session"
                )
                for i in range(2 * toggles):
                    pausing = i % 2 == 0
                    # the service may say "paused" before it lets the session go: resume
                    # once both clients have it let go, pause once both have it running
                    await _until(partial(_settled, (a, b), sid, pausing), "the session to settle")
                    await asyncio.sleep(rng.uniform(0.05, 0.25))
                    samples.append(await _cross_sample(a, b, table, sid, pausing))
                if a.is_running(sid):
                    await a.pause(sid)
                await pilot.pause()
        finally:
            await b.close()
    return samples


def _pcts(values: list[float]) -> tuple[float, float]:
    """p50 and p99, interpolated between the samples (never beyond the largest one)."""
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[98]


def bench_ui_cross(ctx: Context) -> Result:
    """p99 ms from a command in one client to the other client's app showing it."""
    toggles = 10 if ctx.quick else 40
    with sink_server() as url:
        samples = asyncio.run(_cross_samples(ctx, url, toggles))
    shown = [s["shown_ms"] for s in samples]
    p50, p99 = _pcts(shown)
    by = {c: [s["shown_ms"] for s in samples if s["command"] == c] for c in ("pause", "resume")}
    return Result(
        name="ui-cross",
        unit="ms",
        ours=p99,
        baseline=p50,
        ratio=p99 / CROSS_TARGET_MS,
        target=f"p99 < {CROSS_TARGET_MS:.0f} ms",
        passed=p99 < CROSS_TARGET_MS,
        extra={
            "samples": len(samples),
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max(shown),
            "pause_p50_ms": statistics.median(by["pause"]),
            "resume_p50_ms": statistics.median(by["resume"]),
            "mirror_p50_p99_ms": _pcts([s["mirror_ms"] for s in samples]),
            "ack_p50_p99_ms": _pcts([s["ack_ms"] for s in samples]),
            "samples_ms": [
                {k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()}
                for s in samples
            ],
        },
    )


def main(argv: list[str]) -> int:
    """``--profile [--quick]``: profile one with-app window of ui-service-cpu."""
    if argv and argv[0] == "--profile" and set(argv[1:]) <= {"--quick"}:
        print(profile_ui_service_cpu("--quick" in argv))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
