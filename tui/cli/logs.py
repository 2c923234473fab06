"""The CLI's log file: ``partdeck.log`` in the state dir, 0600, with secrets cut out."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tui.core.redact import redact

__all__ = ["log", "log_handler", "log_unexpected", "logging_to"]

log = logging.getLogger("partdeck")


class RedactingFormatter(logging.Formatter):
    """Log lines with URL signatures and tokens cut out."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_handler(state_dir: Path) -> logging.FileHandler | None:
    """Attach a redacting 0600 log file in the state dir to the partdeck logger."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = state_dir / "partdeck.log"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler = logging.FileHandler(path)
    except OSError:
        return None
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    return handler


@contextmanager
def logging_to(state_dir: Path) -> Iterator[None]:
    """While in the block, the partdeck logger also writes to the state dir's log file."""
    handler = log_handler(state_dir)
    try:
        yield
    finally:
        if handler is not None:
            log.removeHandler(handler)
            handler.close()


def log_unexpected(state_dir: Path) -> str:
    """Write the current exception's traceback to the state dir's log file; return where."""
    handler = log_handler(state_dir)
    if handler is None:
        return "nowhere (the state dir is not writable)"
    log.exception("unexpected error")
    log.removeHandler(handler)
    handler.close()
    return handler.baseFilename
