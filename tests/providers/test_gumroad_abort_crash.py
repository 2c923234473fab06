"""Gumroad's abort cut short by a crash, over real sockets and a real killed process.

Gumroad cannot show a finished file, so partdeck reads "already_gone" on the very first
abort of an upload whose complete went unanswered as "the complete took effect". That
reading holds only if no earlier abort may have reached Gumroad: the mark that one left
must be journaled before its request does, or a crash mid-abort turns into a false
"completed".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tests.support.crash import kill_when
from tui.core.journal import Journal
from tui.core.model import Session, SessionState
from tui.core.units import MiB


@pytest.fixture
def kit(kit_factory: Callable[[str], ProviderKit]) -> ProviderKit:
    """The Gumroad sandbox with a config for ``sandbox-gumroad``."""
    return kit_factory("gumroad")


def stored(kit: ProviderKit, session_id: str) -> Session:
    journal = Journal.open(kit.state_dir)
    try:
        return journal.session(session_id)
    finally:
        journal.close()


def abort_calls(kit: ProviderKit, upload_id: str) -> int:
    url = kit.sandbox.contexts["gumroad"].public_url
    counts: dict[str, dict[str, int]] = httpx.get(f"{url}/_sandbox/calls").json()
    return counts.get("abort", {}).get(upload_id, 0)


def kill_once_stalled(kit: ProviderKit, argv: list[str], timeout: float = 30.0) -> None:
    """Run ``argv``; SIGKILL it once the emulator has aborted for real and holds the answer."""
    kill_when(argv, lambda: bool(kit.faults.injected["abort_stall"]), timeout)
    assert kit.faults.injected["abort_stall"] == 1


def test_a_crash_during_the_first_abort_never_records_a_completed_upload(
    kit: ProviderKit, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "cut.bin", 2 * MiB, seed=23)
    first = kit.upload(path, "--no-complete")
    assert first.summary["state"] == "uploaded", first.err
    session_id, short = first.summary["session"], first.summary["session"][:8]
    # A complete went out and its answer was lost; in truth it never reached Gumroad.
    journal = Journal.open(kit.state_dir)
    try:
        session = journal.session(session_id)
        session.state, session.complete_sent = SessionState.COMPLETE_UNKNOWN, 1
        journal.commit(session=session)
    finally:
        journal.close()
    upload_id, key = session.remote["upload_id"], session.remote["key"]

    # The first abort reaches Gumroad and aborts the upload; partdeck dies before the answer.
    kit.set_faults(abort_stall=1, stall_seconds=5.0)
    kill_once_stalled(kit, kit.argv("abort", short))
    assert abort_calls(kit, upload_id) == 1
    crashed = stored(kit, session_id)
    assert crashed.state == SessionState.ABORTING
    assert crashed.remote["aborts_sent"] == 1  # journaled before the request left

    # The next abort meets "already_gone": the earlier abort did that, not a complete.
    again = kit.cli("abort", short, "--json")
    assert again.code == 0, again.err
    assert again.summary["state"] == "aborted"
    assert abort_calls(kit, upload_id) == 2
    settled = stored(kit, session_id)
    assert settled.state == SessionState.ABORTED
    assert settled.remote["aborts_sent"] == 2
    backend = kit.sandbox.backends["gumroad"]
    assert asyncio.run(backend.head(key)) is None  # no file: "completed" would be a lie
    assert asyncio.run(backend.uploads(key)) == []
