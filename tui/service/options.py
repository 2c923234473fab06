"""Choices a client made for a session that the journal does not hold, kept so that a
service that restarts (or dies and comes back) carries on as asked: today, whether the
session completes by itself once every part is sent (``--no-complete``)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("partdeck.service")


class SessionOptions:
    """Per-session ``auto_complete``, in ``STATE_DIR/service-options.json`` (replaced
    atomically at each change, so a crash leaves the old file or the new one)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "service-options.json"
        self._auto_complete: dict[str, bool] = {}
        try:
            found = json.loads(self.path.read_text())
        except (OSError, ValueError):
            found = {}
        if isinstance(found, dict):
            self._auto_complete = {
                str(k): v for k, v in found.get("auto_complete", {}).items() if isinstance(v, bool)
            }

    def auto_complete(self, session_id: str) -> bool | None:
        """The session's choice, or None to follow the config."""
        return self._auto_complete.get(session_id)

    def set(self, session_id: str, *, auto_complete: bool) -> None:
        """Record a choice."""
        if self._auto_complete.get(session_id) != auto_complete:
            self._auto_complete[session_id] = auto_complete
            self._save()

    def prune(self, keep: Iterable[str]) -> None:
        """Forget the choices of sessions not in ``keep`` (those that ended)."""
        kept = set(keep)
        if any(sid not in kept for sid in self._auto_complete):
            self._auto_complete = {k: v for k, v in self._auto_complete.items() if k in kept}
            self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_text(json.dumps({"auto_complete": self._auto_complete}, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not keep the sessions' options: %s", exc.strerror)
