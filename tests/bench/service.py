"""The service as a client meets it, measured on a real service process over its socket.

- ``service-event``: from "part verified" in the engine (the event's own timestamp) to a
  connected client having it, with 8 uploads at full speed to the sink; p50 and p99.
- ``service-attach``: attach to a service whose journal holds 1,000 sessions (status,
  snapshot, accounts) and load a 10,000-part session's parts; median milliseconds.
- ``service-idle``: the service's own CPU while nothing uploads (a client attached).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from tests.bench.common import Context, MiB, Result, cli_env, sink_config
from tests.bench.sink import sink_server
from tests.support.procs import cpu_seconds
from tui.config import load_config
from tui.core.journal import Journal
from tui.core.model import Event, Part, PartState, Session, SessionState
from tui.service.attached import ServiceEngine
from tui.service.frontend import attach_service
from tui.service.spawn import service_pid, stop_service

UPLOADS = 8
EVENT_TARGET_MS = 100.0
ATTACH_TARGET_MS = 300.0
IDLE_TARGET = 0.005
"""Cores: an idle service should sleep (1 % of this is the heartbeat of one client)."""


@contextlib.asynccontextmanager
async def _service(config: Path, state_dir: Path) -> AsyncIterator[ServiceEngine]:
    """A real service process on ``state_dir`` and this process attached to it."""
    os.environ.update({k: v for k, v in cli_env().items() if k.startswith("BENCH_")})
    engine = await attach_service(load_config(config, must_exist=True), state_dir)
    try:
        yield engine
    finally:
        await engine.close()
        await stop_service(state_dir, resume_later=False)


async def _event_latencies(ctx: Context, url: str) -> list[float]:
    work = ctx.tmp / f"service-event-{uuid.uuid4().hex[:6]}"
    work.mkdir()
    config = sink_config(work / "config.toml", url)
    size = (64 if ctx.quick else 256) * MiB
    files = []
    for n in range(UPLOADS):
        path = work / f"f{n}.bin"
        os.link(ctx.files.get(size), path)
        files.append(path)
    seen: list[float] = []

    def on_event(event: Event) -> None:
        if event.kind == "part" and event.state in ("verified", "unverifiable"):
            seen.append((time.time() - event.time) * 1000)

    async with _service(config, work / "state") as engine:
        engine.subscribe(on_event)
        sessions = await engine.batch(files, "sink", part_size=8 * MiB)
        for session in sessions:
            await engine.wait(session.id)
        bad = [s for s in sessions if engine.session(s.id).state != SessionState.COMPLETED]
        if bad:
            raise RuntimeError(f"service-event: {len(bad)} uploads did not complete")
    return seen


def bench_service_event(ctx: Context) -> Result:
    """p99 ms from "part verified" in the service's engine to a client."""
    with sink_server() as url:
        latencies = asyncio.run(_event_latencies(ctx, url))
    q = statistics.quantiles(latencies, n=100)
    p50, p99 = q[49], q[98]
    return Result(
        name="service-event",
        unit="ms",
        ours=p99,
        baseline=p50,
        ratio=p99 / EVENT_TARGET_MS,
        target=f"p99 < {EVENT_TARGET_MS:.0f} ms",
        passed=p99 < EVENT_TARGET_MS,
        extra={"p50_ms": p50, "p99_ms": p99, "events": len(latencies), "uploads": UPLOADS},
    )


def _big_journal(state_dir: Path, sessions: int, parts: int) -> str:
    """``sessions`` finished sessions plus one paused session of ``parts`` parts."""
    journal = Journal.open(state_dir)
    try:
        for index in range(sessions):
            sid = f"h{index:031x}"
            session = Session(sid, "sink", "s3", f"/nowhere/{index}.bin", 3 * MiB, 1, MiB,
                              state=SessionState.COMPLETED, remote={"upload_id": sid},
                              created_at=1e9 + index, updated_at=1e9 + index)  # fmt: skip
            journal.create(session, [Part(sid, n, (n - 1) * MiB, n * MiB) for n in (1, 2, 3)])
        big = "b" * 32
        session = Session(big, "sink", "s3", "/nowhere/big.bin", parts * MiB, 1, MiB,
                          state=SessionState.PAUSED, remote={"upload_id": big},
                          created_at=2e9, updated_at=2e9)  # fmt: skip
        journal.create(
            session,
            [
                Part(
                    big,
                    n,
                    (n - 1) * MiB,
                    n * MiB,
                    PartState.VERIFIED if n % 3 else PartState.PENDING,
                )
                for n in range(1, parts + 1)
            ],
        )
    finally:
        journal.close()
    return big


async def _attach_times(work: Path, config: Path, big: str, rounds: int) -> list[float]:
    state_dir = work / "state"
    times = []
    async with _service(config, state_dir):
        for _ in range(rounds):
            start = time.perf_counter()
            engine = await attach_service(load_config(config, must_exist=True), state_dir)
            try:
                parts = await engine.load_parts(big)
                times.append((time.perf_counter() - start) * 1000)
                if len(parts) != 10_000 or engine.store.session_count() != 1_001:
                    raise RuntimeError("service-attach: the service sent a partial view")
            finally:
                await engine.close()
    return times


def bench_service_attach(ctx: Context) -> Result:
    """Median ms to attach to 1,000 sessions and load a 10,000-part session."""
    work = ctx.tmp / "service-attach"
    work.mkdir(exist_ok=True)
    config = sink_config(work / "config.toml", "http://127.0.0.1:9")
    big = _big_journal(work / "state", 1_000, 10_000)
    times = asyncio.run(_attach_times(work, config, big, 5 if ctx.quick else 9))
    median = statistics.median(times)
    return Result(
        name="service-attach",
        unit="ms",
        ours=median,
        baseline=min(times),
        ratio=median / ATTACH_TARGET_MS,
        target=f"< {ATTACH_TARGET_MS:.0f} ms",
        passed=median < ATTACH_TARGET_MS,
        extra={"runs_ms": times, "sessions": 1_001, "parts": 10_000},
    )


async def _idle(work: Path, config: Path, seconds: float) -> float:
    state_dir = work / "state"
    async with _service(config, state_dir):
        pid = service_pid(state_dir)
        assert pid is not None and pid > 0
        await asyncio.sleep(1.0)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    return (cpu1 - cpu0) / (t1 - t0)


def bench_service_idle(ctx: Context) -> Result:
    """The service's CPU (cores) with a client attached and nothing to upload."""
    work = ctx.tmp / "service-idle"
    work.mkdir(exist_ok=True)
    config = sink_config(work / "config.toml", "http://127.0.0.1:9")
    _big_journal(work / "state", 1_000, 3)
    core = asyncio.run(_idle(work, config, 5.0 if ctx.quick else 20.0))
    return Result(
        name="service-idle",
        unit="core",
        ours=core,
        baseline=0.0,
        ratio=core / IDLE_TARGET,
        target=f"< {IDLE_TARGET} core",
        passed=core < IDLE_TARGET,
        extra={"seconds": 5.0 if ctx.quick else 20.0, "sessions": 1_001},
    )
