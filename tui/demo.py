"""``partdeck demo``: a real upload, offline, to an S3 server on loopback that it starts.

It needs moto (installed with the ``dev`` extra) for the local S3 server; the sandbox of
every provider will take its place as the offline default.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tui.config import load_config
from tui.core.errors import UsageError
from tui.core.units import MiB
from tui.headless import make_reporter
from tui.runtime import open_engine

SAMPLE_SIZE = 48 * MiB + 12_345
CONFIG = """\
# Written by partdeck demo: one S3 account on a local moto server.
[engine]
parts_in_flight = 8
parts_per_session = 4
bandwidth_limit = "40MB"   # slow enough to watch

[accounts.local-s3]
provider = "s3"
endpoint_url = "{url}"
region = "us-east-1"
bucket = "partdeck-demo"
prefix = "demo/"
access_key_env = "PARTDECK_DEMO_ACCESS_KEY"
secret_key_env = "PARTDECK_DEMO_SECRET_KEY"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_s3(port: int) -> subprocess.Popen[bytes]:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        raise UsageError(
            "partdeck demo needs moto for its local S3 server; install it with "
            "pip install -e '.[dev]'"
        ) from None
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.put(f"http://127.0.0.1:{port}/partdeck-demo", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise UsageError(
                    "the local S3 server did not start; run partdeck demo again"
                ) from None
            time.sleep(0.1)


def run_demo(state_dir: Path | None = None) -> int:
    """Start a local S3 server, upload a sample file with live progress, and stop it."""
    port = _free_port()
    os.environ.setdefault("PARTDECK_DEMO_ACCESS_KEY", "demo-access-key")
    os.environ.setdefault("PARTDECK_DEMO_SECRET_KEY", "demo-secret-key")
    with tempfile.TemporaryDirectory(prefix="partdeck-demo-") as tmp:
        work = Path(tmp)
        config_path = work / "config.toml"
        config_path.write_text(CONFIG.format(url=f"http://127.0.0.1:{port}"))
        sample = work / "sample.bin"
        with sample.open("wb") as f:
            for _ in range(SAMPLE_SIZE // MiB):
                f.write(os.urandom(MiB))
            f.write(os.urandom(SAMPLE_SIZE % MiB))
        print(f"partdeck demo: local S3 server on 127.0.0.1:{port}, config {config_path}")
        server = _start_s3(port)
        try:
            return asyncio.run(_upload(config_path, sample, state_dir or work / "state"))
        finally:
            server.terminate()
            server.wait(timeout=10)


async def _upload(config_path: Path, sample: Path, state_dir: Path) -> int:
    config = load_config(config_path, must_exist=True)
    async with open_engine(config, state_dir) as engine:
        session = await engine.plan(sample, "local-s3")
        print(f"uploading {sample.name} ({SAMPLE_SIZE:,} bytes) in parts of {session.part_size:,}")
        reporter = make_reporter(engine, as_json=False)
        reporter.track([session])
        engine.subscribe(reporter)
        done = await engine.run(session.id)
        reporter.finish([done])
    return 0 if str(done.state) == "completed" else 1
