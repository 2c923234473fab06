"""tui.core stands on its own: every module under it, imported in a fresh interpreter,
brings in no layer above it and no Textual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "tui" / "core"

ABOVE_CORE = ("textual", "tui.providers", "tui.config", "tui.ui", "tui.service", "tui.cli")
"""Packages a module of tui.core must never bring in, directly or through another."""

PROBE = """
import importlib, json, sys
above = json.loads(sys.argv[1])
for name in sys.argv[2:]:
    importlib.import_module(name)
print(json.dumps({
    "imported": [n for n in sys.argv[2:] if n in sys.modules],
    "above": sorted(m for m in sys.modules if any(m == a or m.startswith(a + ".") for a in above)),
}))
"""


def core_modules() -> list[str]:
    """Every module under tui/core, packages included, by dotted name."""
    names = []
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def probe(*modules: str) -> dict[str, list[str]]:
    """Import ``modules`` in a fresh interpreter; what it imported and what came from above."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(ABOVE_CORE), *modules],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_every_core_module_imports_nothing_above_core() -> None:
    modules = core_modules()
    assert {"tui.core", "tui.core.ports", "tui.core.engine", "tui.core.engine.engine"} <= set(
        modules
    )
    report = probe(*modules)
    assert report["imported"] == modules
    assert report["above"] == []


def test_the_probe_sees_a_layer_above() -> None:
    """Not vacuous: a module from above shows up in the same check."""
    assert probe("tui.core.engine", "tui.providers.base")["above"] == [
        "tui.providers",
        "tui.providers.base",
    ]
