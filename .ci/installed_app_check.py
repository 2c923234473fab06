"""Start the real app from an installed partdeck (a wheel in a fresh venv) and check it drew.

Run it with the venv's python from outside the repo: it fails unless ``tui`` comes from that
venv, the app's CSS and the shipped themes are found as package data, the in-process
sandbox starts (as ``partdeck`` does with no config), and the first screen shows the title
and the sandbox accounts' sessions table. Prints one line and exits 0 when all holds.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path


def fail(message: str) -> None:
    """Say what is wrong in one line and exit 1."""
    sys.stderr.write(f"installed-app check: {message}\n")
    raise SystemExit(1)


async def check(state_dir: Path) -> str:
    """Run the app headless on the in-process sandbox; return what its first screen says."""
    from tui.config import load_config
    from tui.runtime import open_engine
    from tui.sandbox.foreground import start_in_process
    from tui.ui.app import PartdeckApp

    sandbox, config_path = start_in_process(state_dir)
    try:
        config = load_config(config_path, must_exist=True)
        async with open_engine(config, state_dir) as engine:
            app = PartdeckApp(engine, config)  # the default theme dirs: shipped + user
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                if app.theme != "partdeck-dark":
                    fail(f"theme is {app.theme!r}, not partdeck-dark: shipped themes not found")
                problems = [n.message for n in app._notifications if n.title == "Config"]
                if problems:
                    fail(f"the app reported config problems: {problems}")
                screen = app.export_screenshot().replace("&#160;", " ")  # SVG spaces
                for text in ("partdeck", "Sessions", "9 account(s)"):
                    if text not in screen:
                        fail(f"the first screen lacks {text!r}")
                return f"theme {app.theme}, {len(app.CSS)} bytes of CSS"
    finally:
        sandbox.stop()


def main() -> None:
    """Check, in a throw-away state dir, with no user themes in the way."""
    import tui

    where = Path(tui.__file__).resolve().parent
    if Path(sys.prefix).resolve() not in where.parents:
        fail(f"tui is imported from {where}, not from the venv at {sys.prefix}")
    with tempfile.TemporaryDirectory(prefix="partdeck-wheel-") as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        print(f"installed-app check: ok: tui from {where},", asyncio.run(check(Path(tmp))))


if __name__ == "__main__":
    main()
