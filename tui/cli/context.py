"""What every command gets (:class:`Context`: the resolved config and state dir) and what
it returns (an exit code)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from tui.cli.output import say
from tui.core.errors import ConfigError
from tui.core.paths import resolve_config_path, resolve_state_dir

if TYPE_CHECKING:
    from tui.config import Config
    from tui.core.journal import Journal

__all__ = ["EXIT_FAILED", "EXIT_HANGUP", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "Context"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_HANGUP = 0, 1, 2, 130, 129
"""Everything asked for succeeded; an upload or a remote call failed; usage or config
error; interrupted (SIGINT/SIGTERM); the terminal went away (SIGHUP) while following."""


class Context:
    """Resolved config and state dir for one invocation."""

    def __init__(self, args: argparse.Namespace) -> None:
        explicit = args.config or os.environ.get("PARTDECK_CONFIG")
        self.config_path = resolve_config_path(args.config)
        self.state_dir = resolve_state_dir(args.state_dir)
        self._config: Config | None = None
        self._explicit = bool(explicit)
        self.args = args
        self.sandbox: Any = None
        self.notice: str | None = None
        self.started: list[str] = []
        """Sessions this command set going: SIGINT/SIGTERM pause them."""
        self.hangup = False
        """True once SIGHUP said the terminal went away: stop following, pause nothing."""
        """The in-process sandbox, when there is no config at all (stopped by main)."""
        try:
            # Something that is there but not a file (a directory, a pipe) is for
            # load_config to name; only a path with nothing at all is "not found".
            found = self.config_path.exists()
        except OSError as exc:
            raise ConfigError(
                f"config file {self.config_path} cannot be read ({exc.strerror}); make it and "
                "its directories readable by this user"
            ) from None
        if self._explicit and not found:
            raise ConfigError(
                f"config file {self.config_path} not found; create it (see sample-config.toml) "
                "or fix --config / PARTDECK_CONFIG"
            )

    @property
    def config(self) -> Config:
        """The loaded config (loaded on first use)."""
        if self._config is None:
            # Here, not at the top: tomlkit and the schema are for the commands that read
            # the config (``--version``, ``--help`` and ``sessions`` never do).
            from tui.config import inline_secret_warnings, load_config

            self._config = load_config(self.config_path, must_exist=self._explicit)
            if self.args.command is not None:  # the UI shows them as notifications instead
                for warning in inline_secret_warnings(self._config):
                    say(f"warning: {warning}")
        return self._config

    def config_or_sandbox(self, *, quiet: bool = False) -> Config:
        """The config; with no config file at all, an in-process sandbox's accounts.

        The notice saying so goes to stderr, or to ``self.notice`` when ``quiet``.
        """
        config = self.config
        if config.path is not None:
            return config
        from tui.config import load_config
        from tui.sandbox.foreground import start_in_process

        self.sandbox, path = start_in_process(self.state_dir)
        self.notice = (
            f"no config at {self.config_path}, so an in-process sandbox serves the "
            "sandbox-* accounts; its uploads go when partdeck exits (partdeck sandbox keeps "
            "one running; sample-config.toml shows a real config)"
        )
        if not quiet:
            say(self.notice)
        self._config = load_config(path, must_exist=True)
        return self._config

    def journal(self) -> Journal:
        """The journal, for read-only commands."""
        from tui.core.journal import Journal  # SQLite and the rows: not for --version

        return Journal.open(self.state_dir)
