"""``partdeck service install``: a systemd user unit that keeps the service running."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from tui.config import default_state_dir
from tui.service.paths import state_key
from tui.service.spawn import service_command


def unit_name(state_dir: Path) -> str:
    """``partdeck.service`` for the default state dir, else one named after the dir."""
    if os.path.realpath(state_dir) == os.path.realpath(default_state_dir()):
        return "partdeck.service"
    return f"partdeck-{state_key(state_dir)}.service"


def unit_dir() -> Path:
    """Where systemd looks for this user's units."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "systemd" / "user"


def unit_text(state_dir: Path, config_path: Path) -> str:
    """The unit: the service in the foreground, restarted if it dies."""
    command = " ".join(shlex.quote(word) for word in service_command(state_dir, config_path))
    return (
        "[Unit]\n"
        f"Description=partdeck upload service for {state_dir}\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={command}\n"
        "Restart=on-failure\n"
        "RestartSec=2\n"
        "# SIGTERM pauses every upload; they resume when the service starts again.\n"
        "KillMode=mixed\n"
        "TimeoutStopSec=90\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def install_unit(state_dir: Path, config_path: Path) -> tuple[Path, list[str]]:
    """Write the unit (0644, replacing an older one); returns its path and the commands
    that enable it and keep it running after logout."""
    directory = unit_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = unit_name(state_dir)
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(unit_text(state_dir, config_path))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "$USER"
    return path, [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {name}",
        f"loginctl enable-linger {user}",
    ]
