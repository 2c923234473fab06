"""The engine side never imports Textual: checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MODULES = [
    "tui.core.engine",
    "tui.core.diagnose",
    "tui.core.journal",
    "tui.providers.s3",
    "tui.providers.registry",
    "tui.runtime",
    "tui.cli.report",
    "tui.cli",
]

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({
    "imported": [n for n in sys.argv[1:] if n in sys.modules],
    "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
}))
"""


def test_headless_modules_do_not_import_textual() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *MODULES],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["imported"] == MODULES
    assert report["textual"] == []


def test_probe_would_see_textual() -> None:
    """The probe is not vacuous: importing textual shows up in the same check."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "textual"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "textual" in json.loads(result.stdout.strip().splitlines()[-1])["textual"]


def test_ui_never_talks_http() -> None:
    """tui/ui imports no HTTP library: it sends commands to the engine and renders state."""
    import ast

    offenders = []
    for path in sorted((ROOT / "tui" / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in ("httpx", "httpcore", "urllib3", "requests", "botocore")
                or n.startswith("tui.providers")
            ]
    assert offenders == []
