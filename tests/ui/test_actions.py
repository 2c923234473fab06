"""Every action of the UI, driven by keys through Pilot, on a real engine and the sandbox.

Each test asserts on the journal or the sandbox (what really happened) and on what the
screen shows (table cells, modals, notifications).
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import Deck, notices, row_text, until
from tui.core.journal import Journal
from tui.core.model import PartState, SessionState
from tui.ui.app import PartdeckApp
from tui.ui.screens.accounts import AccountPickerScreen
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.files import FileBrowserScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.inspect import InspectScreen
from tui.ui.widgets.parts_view import PartsView

P = PartState
S = SessionState
MiB = 1024 * 1024


async def _failed_upload(app: PartdeckApp, pilot: Pilot[None], path: Path) -> str:
    """Upload ``path`` (its faulty parts set by the test) until the session fails."""
    sid = await _upload(app, pilot, path)
    await until(pilot, lambda: _state(app, sid) == S.FAILED, "the failure")
    await pilot.pause(0.3)
    return sid


def _only_session(app: PartdeckApp) -> str:
    sessions = app.engine.journal.sessions()
    assert len(sessions) == 1, [s.path for s in sessions]
    return sessions[0].id


def _state(app: PartdeckApp, session_id: str) -> SessionState:
    return app.engine.session(session_id).state


async def _upload(
    app: PartdeckApp, pilot: Pilot[None], path: Path, account: str = "sandbox-s3"
) -> str:
    """Start one upload the way the file browser does, and return its session id."""
    app.main.start_batch([path], account)
    await until(pilot, lambda: len(app.engine.journal.sessions()) == 1, "the session")
    return _only_session(app)


async def test_whole_batch_from_the_file_browser(deck: Deck) -> None:
    """n, a (pick the account), space on two files, s: both upload and complete."""
    deck.file("a.bin", 6 * MiB, seed=1)
    deck.file("b.bin", 9 * MiB, seed=2)
    async with deck.app(part_size="5MiB") as (app, pilot):
        await pilot.press("n")
        assert isinstance(app.screen, FileBrowserScreen)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AccountPickerScreen), "the picker")
        await pilot.press("enter")  # sandbox-s3 is the first account
        await until(pilot, lambda: isinstance(app.screen, FileBrowserScreen), "the browser")
        browser = app.screen
        assert browser.account == "sandbox-s3"
        await pilot.press("down", "space", "space")  # past ../ onto a.bin, then b.bin
        assert {p.name for p in browser.marked} == {"a.bin", "b.bin"}
        await until(pilot, lambda: len(browser.previews) >= 2, "the plans")
        await pilot.press("s")
        await until(
            pilot,
            lambda: (
                len(app.engine.journal.sessions()) == 2
                and all(s.state == S.COMPLETED for s in app.engine.journal.sessions())
            ),
            "both uploads to complete",
        )
        await pilot.pause(0.3)
        for session in app.engine.journal.sessions():
            cells = row_text(app, session.id)
            assert cells["state"] == "✓ completed"
            parts = len(app.engine.journal.parts(session.id))
            assert cells["parts"] == f"{parts}/{parts}"
        assert any("2 upload(s) started on sandbox-s3" in n for n in notices(app))


async def test_browser_refuses_what_the_provider_cannot_take(deck: Deck) -> None:
    """An empty file on Gumroad is refused with its reason, before anything starts."""
    deck.file("empty.bin", 0)
    async with deck.app() as (app, pilot):
        await pilot.press("n", "a")
        await until(pilot, lambda: isinstance(app.screen, AccountPickerScreen), "the picker")
        await pilot.press("down", "enter")  # sandbox-gumroad
        await until(pilot, lambda: isinstance(app.screen, FileBrowserScreen), "the browser")
        browser = app.screen
        await until(pilot, lambda: len(browser.previews) == 1, "the plan")
        refusal = next(iter(browser.previews.values()))
        assert isinstance(refusal, str) and "empty" in refusal.lower()
        await pilot.press("down", "space", "s")
        await pilot.pause(0.2)
        assert app.engine.journal.sessions() == []
        assert any("empty.bin" in n for n in notices(app))


async def test_retry_one_part_from_the_parts_view(deck: Deck) -> None:
    """Part 2 fails; tab to the parts, move to it, r: only part 2 is sent again."""
    path = deck.file("retry.bin", 15 * MiB)
    deck.set_faults(part_500=1.0, parts=(2,))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _failed_upload(app, pilot, path)
        assert row_text(app, sid)["state"] == "✗ failed"
        assert any("part(s) not uploaded" in n for n in notices(app))
        upload_id = app.engine.session(sid).remote["upload_id"]
        assert deck.faults().puts_for(upload_id) == {1: 1, 2: 1, 3: 1}
        deck.set_faults()  # no more faults, and the PUT counts start again
        await pilot.press("tab", "down")
        view = app.main.query_one(PartsView)
        assert view.highlighted is not None and view.highlighted.number == 2
        assert view.highlighted.state == P.FAILED
        await pilot.press("r")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "completion")
        assert deck.faults().puts_for(upload_id) == {2: 1}


async def test_retry_all_failed_parts(deck: Deck) -> None:
    """Two parts fail; R sends both again and nothing else."""
    path = deck.file("retry-all.bin", 20 * MiB)
    deck.set_faults(part_500=1.0, parts=(1, 3))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: _state(app, sid) == S.FAILED, "the failure")
        upload_id = app.engine.session(sid).remote["upload_id"]
        deck.set_faults()  # no more faults, and the PUT counts start again
        await pilot.pause(0.3)
        await pilot.press("R")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "completion")
        assert deck.faults().puts_for(upload_id) == {1: 1, 3: 1}
        assert any("2 part(s) of retry-all.bin queued again" in n for n in notices(app))


async def test_pause_and_resume(deck: Deck) -> None:
    """p pauses a running upload (resumable), p again finishes it."""
    path = deck.file("slow.bin", 12 * MiB)
    async with deck.app(part_size="5MiB", bandwidth_limit="2MiB") as (app, pilot):
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: app.engine.is_running(sid), "the upload to start")
        await pilot.pause(0.3)
        await pilot.press("p")
        await until(pilot, lambda: _state(app, sid) == S.PAUSED, "the pause")
        await pilot.pause(0.3)
        assert row_text(app, sid)["state"] == "‖ paused"
        assert not app.engine.is_running(sid)
        await pilot.press("p")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "completion", limit=60)


async def test_complete_by_hand(deck: Deck) -> None:
    """With auto_complete off the session waits at uploaded; c completes it."""
    path = deck.file("manual.bin", 7 * MiB)
    async with deck.app(part_size="5MiB", auto_complete=False) as (app, pilot):
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: _state(app, sid) == S.UPLOADED, "the parts")
        await until(pilot, lambda: not app.engine.is_running(sid), "the runner to end")
        await pilot.pause(0.4)
        assert row_text(app, sid)["state"] == "◆ uploaded"
        await pilot.press("c")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "completion")


async def test_complete_unknown_asks_then_forces(deck: Deck) -> None:
    """Gumroad's lost complete: c asks (it may duplicate), y sends it again with force."""
    path = deck.file("course.bin", 3 * MiB)
    deck.set_faults("gumroad", complete_lost=1)
    async with deck.app() as (app, pilot):
        sid = await _upload(app, pilot, path, "sandbox-gumroad")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETE_UNKNOWN, "complete-unknown")
        await pilot.pause(0.4)
        assert row_text(app, sid)["state"] == "? complete-unknown"
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "duplicate" in str(app.screen.query_one("#body").render())
        await pilot.press("n")
        await pilot.pause(0.2)
        assert _state(app, sid) == S.COMPLETE_UNKNOWN
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "the forced complete")


async def test_abort_shows_what_is_discarded(deck: Deck) -> None:
    """a asks, naming the parts on the server; n keeps it, y aborts it."""
    path = deck.file("abort.bin", 15 * MiB)
    deck.set_faults(part_500=1.0, parts=(3,))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _failed_upload(app, pilot, path)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        body = str(app.screen.query_one("#body").render())
        assert "Discards 2 of 3 parts" in body and "10 MiB of 15 MiB" in body
        await pilot.press("n")
        await pilot.pause(0.2)
        assert _state(app, sid) == S.FAILED
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: _state(app, sid) == S.ABORTED, "the abort")
        await pilot.pause(0.3)
        assert row_text(app, sid)["state"] == "⊘ aborted"
        assert path.exists()


async def test_verify_the_local_file(deck: Deck) -> None:
    """v re-hashes the file: all parts match, then a changed byte is named."""
    path = deck.file("verify.bin", 12 * MiB)
    deck.set_faults(part_500=1.0, parts=(3,))
    async with deck.app(part_size="5MiB") as (app, pilot):
        await _failed_upload(app, pilot, path)
        await pilot.press("v")
        await until(
            pilot, lambda: any("fingerprinted parts match" in n for n in notices(app)), "verify"
        )
        data = bytearray(path.read_bytes())
        data[6 * MiB : 6 * MiB + 8] = b"\x00changed"
        path.write_bytes(bytes(data))
        await pilot.press("v")
        await until(
            pilot, lambda: any("no longer match the file (2)" in n for n in notices(app)), "diff"
        )


async def test_refresh_remote_marks_parts(deck: Deck) -> None:
    """f lists what the server holds; the parts view marks held and missing parts."""
    path = deck.file("remote.bin", 15 * MiB)
    deck.set_faults(part_500=1.0, parts=(2,))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _failed_upload(app, pilot, path)
        await pilot.press("f")
        await until(pilot, lambda: sid in app.main.remote, "the server's answer")
        assert app.main.remote[sid] == {1: "held", 2: "missing", 3: "held"}
        assert any("the server holds 2 of 3 parts" in n for n in notices(app))


async def test_copy_url_of_a_completed_upload(deck: Deck) -> None:
    """y copies the object's location (OSC 52) and says so."""
    path = deck.file("copy.bin", 6 * MiB)
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "completion")
        await pilot.pause(0.3)
        await pilot.press("y")
        location = app.engine.session(sid).location
        assert location and app.clipboard == location
        assert any(f"copied {location}" in n for n in notices(app))


async def test_inspect_a_stuck_session_and_apply_its_fix(deck: Deck) -> None:
    """i joins journal, file and server; x runs the suggested retry and it completes."""
    path = deck.file("stuck.bin", 15 * MiB)
    deck.set_faults(part_500=1.0, parts=(2,))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _failed_upload(app, pilot, path)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InspectScreen), "the inspect view")
        screen = app.screen
        await until(pilot, lambda: screen.diagnosis is not None, "the diagnosis")
        d = screen.diagnosis
        assert d is not None
        assert d.fix.action == "retry_failed" and d.server_parts == 2
        assert [f.number for f in d.findings] == [2]
        assert any("500" in e for e in d.findings[0].errors)
        summary = str(screen.query_one("#summary").render())
        assert "the server holds 2 of 3 parts" in summary and "matches" in summary
        deck.set_faults()
        await pilot.press("x")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "the fix to work")


async def test_quit_while_uploading_asks_and_leaves_it_resumable(deck: Deck) -> None:
    """q during an upload asks; y pauses the session (verified parts kept) and exits."""
    path = deck.file("quit.bin", 12 * MiB)
    async with deck.app(part_size="5MiB", bandwidth_limit="1MiB") as (app, pilot):
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: app.engine.is_running(sid), "the upload")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await pilot.pause(0.1)
        assert app.engine.is_running(sid)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the app to exit")
    journal = Journal.open(deck.state_dir)
    try:
        assert journal.session(sid).state == S.PAUSED
    finally:
        journal.close()


async def test_palette_offers_only_what_applies(deck: Deck) -> None:
    """The command palette's session actions follow the selection."""
    path = deck.file("palette.bin", 6 * MiB)
    async with deck.app(part_size="5MiB") as (app, pilot):
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert "Retry" not in titles and "Abort" not in titles
        assert "New" in titles and "Help" in titles
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "completion")
        await pilot.pause(0.3)
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert "Copy URL" in titles and "Inspect" in titles
        for gone in ("Retry", "Retry all", "Complete", "Abort", "Pause/Resume"):
            assert gone not in titles


async def test_keys_are_remapped_from_the_config(deck: Deck) -> None:
    """[keys] retry-failed = "t" moves the binding; an unknown id is reported, not fatal."""
    path = deck.file("keys.bin", 10 * MiB)
    deck.set_faults(part_500=1.0, parts=(1,))
    async with deck.app(part_size="5MiB", keys={"retry-failed": "t", "launch": "x"}) as (
        app,
        pilot,
    ):
        assert any("[keys] launch is not a binding id" in n for n in notices(app))
        sid = await _upload(app, pilot, path)
        await until(pilot, lambda: _state(app, sid) == S.FAILED, "the failure")
        deck.set_faults()
        await pilot.pause(0.3)
        await pilot.press("R")  # no longer bound
        await pilot.pause(0.3)
        assert _state(app, sid) == S.FAILED
        await pilot.press("t")
        await until(pilot, lambda: _state(app, sid) == S.COMPLETED, "the remapped retry")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_themes_broken_file_and_unknown_name(deck: Deck, tmp_path: Path) -> None:
    """A broken theme file is reported by name, an unknown theme falls back to the default."""
    from tui.ui.themes import shipped_themes_dir

    user = tmp_path / "my-themes"
    user.mkdir()
    (user / "broken.toml").write_text('name = "broken"\nprimary = "#12"\n')
    async with deck.app(theme="no-such-theme", theme_dirs=[shipped_themes_dir(), user]) as (
        app,
        _pilot,
    ):
        said = "\n".join(notices(app))
        assert "broken.toml" in said and '"#12" is not a colour' in said
        assert "[ui] theme 'no-such-theme' is not installed; using partdeck-dark" in said
        assert app.theme == "partdeck-dark"
        app.theme = "partdeck-light"
        await _pilot.pause()
        assert app.current_theme.dark is False


async def test_light_theme_from_config_and_no_color(deck: Deck, monkeypatch: object) -> None:
    """[ui] theme picks a shipped theme; NO_COLOR turns colour off, markers stay."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NO_COLOR", "1")
    path = deck.file("mono.bin", 10 * MiB)
    deck.set_faults(part_500=1.0, parts=(2,))
    async with deck.app(part_size="5MiB", theme="partdeck-light") as (app, pilot):
        assert app.theme == "partdeck-light" and app.no_color
        sid = await _failed_upload(app, pilot, path)
        assert row_text(app, sid)["state"] == "✗ failed"


async def test_an_engine_bug_is_one_line_not_a_traceback(deck: Deck, monkeypatch: object) -> None:
    """A bug under a command (forced here) is a notification; the app keeps running."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    path = deck.file("bug.bin", 6 * MiB)
    deck.set_faults(part_500=1.0, parts=(1,))
    async with deck.app(part_size="5MiB") as (app, pilot):
        sid = await _failed_upload(app, pilot, path)

        async def broken(*_args: object, **_kw: object) -> list[int]:
            raise RuntimeError("boom")

        monkeypatch.setattr(app.engine, "retry", broken)
        await pilot.press("R")
        await until(
            pilot,
            lambda: any("Retry failed: internal error (RuntimeError)" in n for n in notices(app)),
            "the report",
        )
        assert app.is_running and _state(app, sid) == S.FAILED


async def test_quick_selection_changes_leave_no_coroutine_unawaited(
    deck: Deck, recwarn: pytest.WarningsRecorder
) -> None:
    """Moving along the sessions faster than their parts load cancels pending loads; a
    cancelled load must not leave a coroutine behind (Python warns "never awaited")."""
    deck.file("a.bin", 1 * MiB, seed=1)
    deck.file("b.bin", 1 * MiB, seed=2)
    async with deck.app() as (app, pilot):
        app.main.start_batch(
            [deck.tmp_path / "files" / n for n in ("a.bin", "b.bin")], "sandbox-s3"
        )
        await until(
            pilot,
            lambda: [s.state for s in app.engine.journal.sessions()] == [S.COMPLETED] * 2,
            "both uploads to complete",
        )
        ids = [s.id for s in app.engine.journal.sessions()]
        for i in range(40):  # each change starts a load and cancels the one before
            app.main.selected = ids[i % 2]
        assert app.main.selected == ids[1]
        view = app.main.query_one(PartsView)
        await until(pilot, lambda: view.border_title == "Parts of b.bin", "b's parts shown")
    gc.collect()
    unawaited = [str(w.message) for w in recwarn if "never awaited" in str(w.message)]
    assert unawaited == []
