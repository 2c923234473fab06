"""Without the sandbox extra (moto), every way into the sandbox says so in one line.

Each case runs the real CLI in a child process in which moto cannot be imported, as in
an install of partdeck without ``[sandbox]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.sandbox.runner import SANDBOX_EXTRA_MISSING

WITHOUT_MOTO = (
    "import sys; sys.modules['moto'] = None; "  # None in sys.modules: import raises
    "from tui.cli import main; raise SystemExit(main(sys.argv[1:]))"
)


def _partdeck_without_moto(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTDECK_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no config: the no-config sandbox
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MOTO, *args, "--state-dir", str(tmp_path / "state")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [("demo",), ("sandbox",), ("upload", "FILE", "--account", "sandbox-s3")],
    ids=["demo", "sandbox", "upload-without-config"],
)
def test_sandbox_without_its_extra_says_how_to_install_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 1000)
    argv = [str(data) if a == "FILE" else a for a in args]
    result = _partdeck_without_moto(tmp_path, *argv)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"partdeck: {SANDBOX_EXTRA_MISSING}\n"
    assert "Traceback" not in result.stdout
