"""``partdeck service run``: the service in the foreground (what spawn and systemd start)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from tui.core.errors import PartdeckError
from tui.core.redact import RedactingFormatter
from tui.service.server import Secrets, Service


def read_secrets(text: str) -> Secrets:
    """The secrets a spawning client wrote on stdin: ``{"secrets": {account: {VAR: value}}}``."""
    try:
        found = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    secrets = found.get("secrets", {}) if isinstance(found, dict) else {}
    if not isinstance(secrets, dict):
        return {}
    return {
        str(account): {str(k): str(v) for k, v in env.items()}
        for account, env in secrets.items()
        if isinstance(env, dict)
    }


def run_service(state_dir: Path, config_path: Path, *, secrets_stdin: bool = False) -> int:
    """Serve until SIGTERM or ``partdeck service stop``; 0 on a clean stop."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    os.umask(0o077)  # the log, the socket and every file the service makes: this user's
    secrets = read_secrets(sys.stdin.read()) if secrets_stdin else {}
    try:
        asyncio.run(Service(state_dir, config_path, secrets=secrets).run())
    except PartdeckError as exc:
        logging.getLogger("partdeck.service").error("%s", exc)
        print(f"partdeck: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
