"""A short command starts light: ``partdeck --version`` and ``partdeck sessions``, run in a
fresh interpreter, import none of the heavy modules the other commands need (issue 13:
the CLI's start must not pay for the TUI, the providers, the engine or HTTP).

No timing here (the ``startup`` benchmark measures CPU seconds); only ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_core_imports import ROOT

NEVER_FOR_VERSION = (
    "textual",
    "httpx",
    "botocore",
    "boto3",
    "starlette",
    "uvicorn",
    "tomlkit",
    "asyncio",
    "sqlite3",
    "tui.providers",
    "tui.core.engine",
    "tui.core.journal",
    "tui.config",
    "tui.runtime",
    "tui.service",
    "tui.ui",
    "tui.sandbox",
)
"""What ``--version`` (and ``--help``, which builds the same parser) must not import."""

NEVER_FOR_SESSIONS = (
    "textual",
    "httpx",
    "botocore",
    "boto3",
    "starlette",
    "uvicorn",
    "tomlkit",
    "asyncio",
    "tui.providers",
    "tui.core.engine",
    "tui.config",
    "tui.runtime",
    "tui.service.client",
    "tui.service.server",
    "tui.ui",
    "tui.sandbox",
)
"""``sessions`` reads the journal itself (read-only, as it does with or without a service):
no config, no service client, no engine."""

PROBE = """
import contextlib, io, json, sys
from tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[2:])
    except SystemExit as exc:  # --version and --help end in argparse's exit
        code = exc.code
never = json.loads(sys.argv[1])
print(json.dumps({
    "code": code,
    "out": out.getvalue(),
    "heavy": sorted(m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in never)),
}))
"""


def run_cli(never: tuple[str, ...], *args: str, env: dict[str, str] | None = None) -> dict:
    """Run ``partdeck ARGS`` in a fresh interpreter; its exit code, stdout and which of
    ``never`` (or modules under them) it imported."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(never), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_version_imports_nothing_heavy() -> None:
    report = run_cli(NEVER_FOR_VERSION, "--version")
    assert report["code"] == 0
    assert report["out"].startswith("partdeck ")
    assert report["heavy"] == []


def test_help_imports_nothing_heavy() -> None:
    report = run_cli(NEVER_FOR_VERSION, "--help")
    assert report["code"] == 0
    assert "sessions" in report["out"]
    assert report["heavy"] == []


def test_sessions_imports_nothing_heavy(tmp_path: Path) -> None:
    from tests.bench.startup import make_journal

    make_journal(tmp_path / "state", 3)
    state = ["--state-dir", str(tmp_path / "state")]
    report = run_cli(NEVER_FOR_SESSIONS, "sessions", *state)
    assert report["code"] == 0
    assert len(report["out"].splitlines()) == 3
    assert report["heavy"] == []
    # With a config whose service mode is "auto" (the service is the engine), too.
    config = tmp_path / "config.toml"
    config.write_text('[service]\nmode = "auto"\n')
    report = run_cli(NEVER_FOR_SESSIONS, "sessions", "--config", str(config), *state,
                     env={"PARTDECK_SERVICE": ""})  # fmt: skip
    assert report["code"] == 0
    assert len(report["out"].splitlines()) == 3
    assert report["heavy"] == []


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """Not vacuous: a command that opens an engine shows up in the same check."""
    report = run_cli(("asyncio", "tui.cli.engines"), "pause", "--state-dir", str(tmp_path), "x")
    assert report["code"] == 2  # no session x; but the command's module was imported
    assert "asyncio" in report["heavy"]
    assert "tui.cli.engines" in report["heavy"]
