"""The token store: one 0600 file per state dir, written atomically, locked across processes."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from tui.core.errors import ConfigError
from tui.core.token_store import StoredToken, TokenStore

TOKEN = StoredToken(
    access_token="access-SECRET", expires_at=2e9, issued_at=1e9, refresh_token="refresh-SECRET"
)


def test_written_0600_read_back_and_forgotten(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "state")
    assert store.read("box") is None
    store.write("box", TOKEN)
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    assert oct(store.path.parent.stat().st_mode & 0o777) == "0o700"
    assert TokenStore(tmp_path / "state").read("box") == TOKEN
    assert store.forget("box") and not store.forget("box")
    assert store.read("box") is None
    assert [p.name for p in store.path.parent.iterdir()] == ["tokens.json"]  # no temp left


def test_its_repr_shows_no_secret() -> None:
    assert "SECRET" not in repr(TOKEN) and "expires_at" in repr(TOKEN)


def test_a_damaged_store_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.path.write_text("{not json")
    with pytest.raises(ConfigError, match="is not valid JSON; remove it and sign in again"):
        store.read("box")
    store.path.write_text('{"version": 1, "accounts": {"box": {"access_token": 1, "x": 2}}}')
    assert store.read("box") is None  # another version's entry: as good as absent


def _hold(state: str, held: float) -> None:
    """Hold the lock ``held`` seconds, saying when it is taken and when it is let go."""
    store = TokenStore(Path(state))
    with store.locked():
        (Path(state) / "in").write_text("held")
        time.sleep(held)
        (Path(state) / "out").write_text("letting go")


def test_the_lock_keeps_another_process_out(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_hold, args=(str(tmp_path), 1.0))
    child.start()
    while not (tmp_path / "in").exists():
        time.sleep(0.01)
    with TokenStore(tmp_path).locked():
        assert (tmp_path / "out").exists(), "the lock was taken while another process held it"
    child.join()
    assert os.path.exists(tmp_path / "tokens.lock")
