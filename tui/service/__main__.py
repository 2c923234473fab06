"""``python -m tui.service --state-dir DIR --config PATH [--secrets-stdin]``: the service
in the foreground, with no command line of the front ends loaded (spawn and systemd run
this; ``partdeck service run`` does the same)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.service.run import run_service


def main() -> int:
    """Parse the three options and serve."""
    parser = argparse.ArgumentParser(prog="python -m tui.service")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--secrets-stdin", action="store_true")
    args = parser.parse_args()
    return run_service(args.state_dir, args.config, secrets_stdin=args.secrets_stdin)


if __name__ == "__main__":
    raise SystemExit(main())
