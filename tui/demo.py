"""``partdeck demo``: the real job, offline: one sample file to every sandbox provider.

It starts the sandbox in this process (every emulator, moto as the S3 back end behind
the checking gateways), writes a sample file, uploads it to the six sandbox accounts
at once with live progress, and says where each copy landed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from tui.config import load_config
from tui.core.units import MiB
from tui.headless import make_reporter
from tui.runtime import open_engine
from tui.sandbox.runner import Sandbox

SAMPLE_SIZE = 48 * MiB + 12_345
"""Big enough for several parts on every provider (Box takes 20 MiB and up)."""
ENGINE = {"parts_in_flight": 8, "parts_per_session": 4, "bandwidth_limit": "120MB"}
"""Capped so the progress can be watched."""


def run_demo(state_dir: Path | None = None) -> int:
    """Start the sandbox, upload a sample to each of its accounts, stop it."""
    with tempfile.TemporaryDirectory(prefix="partdeck-demo-") as tmp:
        work = Path(tmp)
        state = state_dir or work / "state"
        sample = work / "sample.bin"
        with sample.open("wb") as f:
            for _ in range(SAMPLE_SIZE // MiB):
                f.write(os.urandom(MiB))
            f.write(os.urandom(SAMPLE_SIZE % MiB))
        print("partdeck demo: starting the sandbox (every provider, offline)")
        with Sandbox(state_dir=work) as sandbox:
            config = sandbox.write_config(work / "config.toml", ENGINE)
            return asyncio.run(_upload(config, sample, state))


async def _upload(config_path: Path, sample: Path, state_dir: Path) -> int:
    config = load_config(config_path, must_exist=True)
    async with open_engine(config, state_dir) as engine:
        sessions = [await engine.plan(sample, name) for name in config.accounts]
        for s in sessions:
            parts = len(engine.parts(s.id))
            print(f"  {s.account:<20} {parts:>3} part(s) of {s.part_size:,} bytes")
        reporter = make_reporter(engine, as_json=False)
        reporter.track(sessions)
        engine.subscribe(reporter)
        done = await asyncio.gather(*(engine.run(s.id) for s in sessions))
    failed = [s for s in done if str(s.state) != "completed"]
    for s in done:
        print(f"  {s.account:<20} {s.state}: {s.location or s.error}")
    return 1 if failed else 0
