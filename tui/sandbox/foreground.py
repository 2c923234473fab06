"""``partdeck sandbox``: every emulator in the foreground, a ready config, until ^C.

Also the in-process sandbox that ``partdeck`` falls back on when there is no config at
all, so a new user can see the real job offline.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from tui.sandbox.faults import FaultSpec, describe, parse_faults
from tui.sandbox.runner import Sandbox

CONFIG_NAME = "config.toml"


def sandbox_config_path(state_dir: Path) -> Path:
    """Where ``partdeck sandbox`` writes its config by default."""
    return state_dir / "sandbox" / CONFIG_NAME


def banner(sandbox: Sandbox, config: Path, faults: Mapping[str, FaultSpec]) -> list[str]:
    """What the sandbox prints when it is up: config, accounts, endpoints, faults."""
    lines = [f"partdeck sandbox: config written to {config}", "", "accounts:"]
    for name, table in sandbox.account_tables().items():
        url = table.get("base_url") or table.get("endpoint_url")
        lines.append(f"  {name:<20} {table['provider']:<11} {url}")
    lines += ["", "endpoints:"]
    lines += [f"  {name:<24} {url}" for name, url in sandbox.endpoints.items()]
    active = describe(faults)
    lines += ["", "faults: " + ("none" if not active else "")]
    lines += [f"  {line}" for line in active]
    lines += [
        "",
        "try it (in another terminal):",
        f"  export PARTDECK_CONFIG={config}",
        "  partdeck upload FILE --account sandbox-gumroad",
        *_sign_in_lines(sandbox),
        "",
        "Ctrl-C stops the sandbox; its uploads live in memory and go with it.",
    ]
    return lines


def _sign_in_lines(sandbox: Sandbox) -> list[str]:
    """How to try the Box sign-in offline, when the Box emulator runs."""
    box = sandbox.contexts.get("box")
    if box is None or not box.sign_in_code:
        return []
    return [
        f"  partdeck auth sandbox-box-oauth    (paste the sign-in code {box.sign_in_code})",
    ]


def run_sandbox(
    state_dir: Path,
    *,
    faults_text: str | None = None,
    config_out: Path | None = None,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> int:
    """Serve every emulator until SIGINT/SIGTERM (or ``stop``); returns the exit code."""
    faults = parse_faults(faults_text) if faults_text else {}
    stop = stop or threading.Event()
    config = config_out or sandbox_config_path(state_dir)
    with Sandbox(state_dir=state_dir, faults=faults) as sandbox:
        sandbox.write_config(config)
        out.write("\n".join(banner(sandbox, config, faults)) + "\n")
        out.flush()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        out.write("partdeck sandbox: stopped\n")
    return 0


def start_in_process(state_dir: Path) -> tuple[Sandbox, Path]:
    """Start a sandbox in this process and write its config; the caller stops it."""
    sandbox = Sandbox(state_dir=state_dir).start()
    try:
        config = sandbox.write_config(state_dir / "sandbox" / "in-process.toml")
    except BaseException:
        sandbox.stop()
        raise
    return sandbox, config
