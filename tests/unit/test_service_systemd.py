"""``partdeck service install``: the unit runs the service in the foreground and says how
to keep it after logout."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path

import pytest

from tui.service.systemd import install_unit, unit_name


def test_the_unit_runs_this_partdeck_for_this_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("USER", "ops")
    state, config = tmp_path / "my state", tmp_path / "config.toml"
    path, commands = install_unit(state, config)
    assert path.parent == tmp_path / "cfg" / "systemd" / "user"
    assert path.name == unit_name(state) and path.name.startswith("partdeck-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    text = path.read_text()
    [exec_line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(exec_line.removeprefix("ExecStart="))
    assert argv[:3] == [sys.executable, "-m", "tui.service"]
    assert argv[argv.index("--state-dir") + 1] == str(state)  # a space survives the quoting
    assert argv[argv.index("--config") + 1] == str(config)
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert commands[-1] == "loginctl enable-linger ops"
    assert f"systemctl --user enable --now {path.name}" in commands
    again, _ = install_unit(state, config)  # installing again replaces it
    assert again == path and path.read_text() == text


def test_the_default_state_dir_gets_the_plain_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.config import default_state_dir

    assert unit_name(default_state_dir()) == "partdeck.service"
