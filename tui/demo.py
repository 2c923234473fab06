"""``partdeck demo``: the real job, offline: one sample file to every sandbox provider.

It starts the sandbox in this process (every emulator, moto as the S3 back end behind
the checking gateways), writes a sample file, and uploads it to the six sandbox accounts
at once. On a terminal the uploads run live in the TUI; without one (a pipe, CI) a
progress line says how they go and where each copy landed.

The sessions go in the real journal (the state dir), so ``partdeck`` shows them after.
The sample, the sandbox's token files and its config live in ``STATE_DIR/demo``, apart
from the sandbox ``partdeck`` starts when there is no config (whose files they would
otherwise overwrite while it runs).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.report import make_reporter
from tui.config import Config, load_config
from tui.core.engine import Engine
from tui.core.journal import Journal
from tui.core.model import Session, SessionState
from tui.core.units import MiB
from tui.runtime import open_engine
from tui.sandbox.runner import Sandbox

if TYPE_CHECKING:
    from tui.ui.app import PartdeckApp

SAMPLE_SIZE = 48 * MiB + 12_345
"""Big enough for several parts on every provider (Box takes 20 MiB and up)."""
ENGINE = {"parts_in_flight": 8, "parts_per_session": 4, "bandwidth_limit": "120MB"}
"""Capped so the progress can be watched."""
DEMO_DIR = "demo"
"""The demo's own files, under the state dir."""

AppRunner = Callable[["PartdeckApp"], Awaitable[object]]
"""Runs the app until it closes (``App.run_async``; tests drive it under Pilot)."""


def demo_dir(state_dir: Path) -> Path:
    """Where the demo keeps its sample, sandbox files and config."""
    return state_dir / DEMO_DIR


def ensure_sample(path: Path) -> Path:
    """The sample file: kept from an earlier demo if whole, so its sessions still verify."""
    if path.is_file() and path.stat().st_size == SAMPLE_SIZE:
        return path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as f:
        for _ in range(SAMPLE_SIZE // MiB):
            f.write(os.urandom(MiB))
        f.write(os.urandom(SAMPLE_SIZE % MiB))
    partial.replace(path)
    return path


def run_demo(state_dir: Path, *, interactive: bool, run_app: AppRunner | None = None) -> int:
    """Start the sandbox, upload a sample to each of its accounts, stop it.

    ``interactive``: watch (and drive) the uploads in the TUI; else print the progress.
    """
    own = demo_dir(state_dir)
    sample = ensure_sample(own / "sample.bin")
    print("partdeck demo: starting the sandbox (every provider, offline)")
    with Sandbox(state_dir=own) as sandbox:
        config = load_config(sandbox.write_config(own / "config.toml", ENGINE), must_exist=True)
        if interactive:
            runner = run_app or _run_async
            done = asyncio.run(_in_app(config, sample, state_dir, runner))
        else:
            done = asyncio.run(_upload(config, sample, state_dir))
    for s in done:
        where = s.location if s.state == SessionState.COMPLETED else s.error
        print(f"  {s.account:<20} {s.state}" + (f": {where}" if where else ""))
    print(
        f"partdeck demo: the {len(done)} sessions stay in {state_dir}; partdeck lists them "
        "(the sandbox and its copies went with the demo)"
    )
    if interactive:  # quitting the TUI early pauses the uploads: only a failure fails
        return 1 if any(s.state == SessionState.FAILED for s in done) else 0
    return 0 if all(s.state == SessionState.COMPLETED for s in done) else 1


async def _plan(engine: Engine, config: Config, sample: Path) -> list[Session]:
    # One account per provider: the Box accounts that sign in need a sign-in first.
    names = [name for name, account in config.accounts.items() if account.auth == "token"]
    return [await engine.plan(sample, name) for name in names]


async def _upload(config: Config, sample: Path, state_dir: Path) -> list[Session]:
    async with open_engine(config, state_dir) as engine:
        sessions = await _plan(engine, config, sample)
        for s in sessions:
            parts = len(engine.parts(s.id))
            print(f"  {s.account:<20} {parts:>3} part(s) of {s.part_size:,} bytes")
        reporter = make_reporter(engine, as_json=False)
        reporter.track(sessions)
        engine.subscribe(reporter)
        return list(await asyncio.gather(*(engine.run(s.id) for s in sessions)))


async def _run_async(app: PartdeckApp) -> None:
    await app.run_async()


async def _in_app(
    config: Config, sample: Path, state_dir: Path, run_app: AppRunner
) -> list[Session]:
    from tui.ui.app import PartdeckApp

    async with open_engine(config, state_dir) as engine:
        sessions = await _plan(engine, config, sample)
        notice = (
            f"demo: {sample.name} ({SAMPLE_SIZE // MiB} MiB) goes to all {len(sessions)} "
            "sandbox accounts at once. Quitting (q) stops the sandbox; the sessions stay."
        )
        app = PartdeckApp(
            engine,
            config,
            notices=[notice],
            start_dir=sample.parent,
            autostart=[s.id for s in sessions],
        )
        await run_app(app)
    # Read back once the engine has closed: by then whatever still ran is paused.
    journal = Journal.open(state_dir)
    try:
        return [journal.session(s.id) for s in sessions]
    finally:
        journal.close()
