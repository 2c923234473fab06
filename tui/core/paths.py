"""Where the config file and the state directory are: a flag, else an env var, else the
per-user default (platformdirs).

It sits in core, not in :mod:`tui.config` (which re-exports it), so that a command that
only needs the paths (``partdeck sessions``) does not load the config package (tomlkit,
the schema) to find them."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CONFIG_ENV",
    "STATE_DIR_ENV",
    "default_config_path",
    "default_state_dir",
    "resolve_config_path",
    "resolve_state_dir",
]

CONFIG_ENV = "PARTDECK_CONFIG"
"""Environment variable that points at another config file (``--config`` wins over it)."""
STATE_DIR_ENV = "PARTDECK_STATE_DIR"
"""Environment variable that points at another state directory (``--state-dir`` wins)."""

_APP = "partdeck"


def default_config_path() -> Path:
    """The per-user config file, e.g. ``~/.config/partdeck/config.toml`` on Linux."""
    import platformdirs  # only when no flag or env var names it

    return platformdirs.user_config_path(_APP, appauthor=False) / "config.toml"


def default_state_dir() -> Path:
    """The per-user state directory (journal and logs), e.g. ``~/.local/state/partdeck``."""
    import platformdirs

    return platformdirs.user_state_path(_APP, appauthor=False)


def resolve_config_path(cli_path: str | Path | None) -> Path:
    """Pick the config file: ``--config``, else ``$PARTDECK_CONFIG``, else the default."""
    if cli_path is not None and str(cli_path) != "":
        return Path(cli_path).expanduser()
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_config_path()


def resolve_state_dir(cli_dir: str | Path | None) -> Path:
    """Pick the state directory: ``--state-dir``, else ``$PARTDECK_STATE_DIR``, else default."""
    if cli_dir is not None and str(cli_dir) != "":
        return Path(cli_dir).expanduser()
    from_env = os.environ.get(STATE_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_state_dir()
