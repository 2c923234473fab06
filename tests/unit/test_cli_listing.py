"""``partdeck sessions`` for people: one aligned line per session, whatever the names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_journal import make_parts, make_session
from tui.cli.listing import print_sessions
from tui.core.journal import Journal
from tui.core.model import SessionState


def test_columns_after_the_account_line_up_whatever_its_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = Journal.open(tmp_path)
    accounts = ["s3", "sandbox-wunderlist", "a-very-long-account-name-of-a-team", "esc\x1bname"]
    for n, account in enumerate(accounts):
        sid = f"{n:04d}" + "a" * 28
        session = make_session(sid, account=account, state=SessionState.COMPLETED)
        journal.create(session, make_parts(sid))
    print_sessions(journal, tmp_path, as_json=False)
    journal.close()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(accounts)
    ages = {line.index(" ago") for line in lines}
    assert len(ages) == 1, lines  # the age (and the path after it) starts in one column
    assert any("esc\\x1bname" in line for line in lines)
