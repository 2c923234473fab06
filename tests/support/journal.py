"""Reading a test's journal from outside the process that writes it."""

from __future__ import annotations

from pathlib import Path

from tui.core.journal import Journal


def verified_parts(state_dir: Path) -> tuple[str | None, set[int]]:
    """(first session id, its verified part numbers), or (None, empty) before any exists."""
    if not (state_dir / Journal.FILENAME).exists():
        return None, set()
    journal = Journal.open(state_dir)
    try:
        sessions = journal.sessions()
        if not sessions:
            return None, set()
        parts = journal.parts(sessions[0].id)
        return sessions[0].id, {p.number for p in parts if p.state == "verified"}
    finally:
        journal.close()
