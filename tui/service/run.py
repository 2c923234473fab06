"""``partdeck service run``: the service in the foreground (what spawn and systemd start)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

from tui.core.errors import PartdeckError
from tui.core.redact import RedactingFormatter
from tui.service.paths import log_path
from tui.service.server import Secrets, Service

LOG_BYTES = 8 * 1024 * 1024
"""``service.log`` is rotated past this size; ``LOG_BACKUPS`` older ones are kept."""
LOG_BACKUPS = 3


class ServiceLog(RotatingFileHandler):
    """The service's own log file, rotated by size. The descriptors in ``follow`` (the
    spawned service's stdout and stderr, which point at the same file) are moved to the
    new file at each rotation, so what Python or a library prints there is kept too."""

    def __init__(self, path: Path, follow: Sequence[int] = (1, 2)) -> None:
        super().__init__(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        self.follow = tuple(follow)

    def doRollover(self) -> None:
        super().doRollover()
        if self.stream is not None:
            for fd in self.follow:
                os.dup2(self.stream.fileno(), fd)


def _writes_to(stream: TextIO, path: Path) -> bool:
    """True when ``stream`` is the file at ``path`` (a spawned service's stderr is its log)."""
    try:
        ours, theirs = os.fstat(stream.fileno()), os.stat(path)
    except (OSError, ValueError):
        return False
    return (ours.st_dev, ours.st_ino) == (theirs.st_dev, theirs.st_ino)


def _log_handler(state_dir: Path) -> logging.Handler:
    """Rotated ``service.log`` when spawned into it; else stderr (systemd's journal, or
    the terminal of ``partdeck service run``), which rotates by itself or is watched."""
    log = log_path(state_dir)
    if _writes_to(sys.stderr, log):
        return ServiceLog(log)
    return logging.StreamHandler(sys.stderr)


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
    handler = _log_handler(state_dir)
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
