"""``demo`` and ``sandbox``: the offline sandbox, in this process or served on loopback.

Both import the sandbox (and so moto, the sandbox extra) only when they run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tui.cli.context import Context
from tui.cli.logs import logging_to

__all__ = ["cmd_demo", "cmd_sandbox"]


def cmd_demo(ctx: Context) -> int:
    """Upload a sample file to every sandbox provider: in the TUI on a terminal, else as a
    progress line."""
    from tui.demo import run_demo

    with logging_to(ctx.state_dir):  # the app's internal errors go here, redacted
        return run_demo(ctx.state_dir, interactive=sys.stdin.isatty() and sys.stdout.isatty())


def cmd_sandbox(ctx: Context) -> int:
    """Serve every provider's emulator on loopback until interrupted."""
    from tui.sandbox.foreground import run_sandbox

    out = Path(ctx.args.write_config).expanduser() if ctx.args.write_config else None
    return run_sandbox(ctx.state_dir, faults_text=ctx.args.faults, config_out=out)
