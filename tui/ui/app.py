"""The partdeck Textual app: owns the engine bridge, the themes and the key map.

The engine is opened around the app (by the command line): the per-user service's, so
quitting leaves its uploads running, or an in-process one, which closing the app (or a
crash in it) pauses, leaving every session resumable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from tui.config import Config
from tui.core.display import visible
from tui.core.errors import PartdeckError
from tui.core.redact import redact
from tui.core.token_store import TokenStore
from tui.service.api import EngineAPI
from tui.ui.bridge import EngineBridge, ServiceLink, SessionAlert
from tui.ui.keys import APP_BINDINGS, check_keymap
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.main import MainScreen
from tui.ui.themes import load_themes, shipped_themes_dir, state_variable_defaults, user_themes_dir

DEFAULT_THEME = "partdeck-dark"


class PartdeckApp(App[None]):
    """Batches of multipart uploads, live, from the keyboard."""

    # Package data read through importlib.resources, so a wheel install has it too.
    CSS = files("tui.ui").joinpath("app.tcss").read_text(encoding="utf-8")
    TITLE = "partdeck"
    BINDINGS: ClassVar[list[BindingType]] = [*APP_BINDINGS]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        engine: EngineAPI,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
        theme_dirs: Sequence[Traversable] | None = None,
        notices: Sequence[str] = (),
        start_dir: Path | None = None,
        autostart: Sequence[str] = (),
        state_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.config = config
        self.tokens = TokenStore(state_dir) if state_dir is not None else None
        """The state dir's token store (Box sign-ins); None when the app has no state dir."""
        self.clock = clock
        """Wall clock for ages, rates and URL expiry (tests freeze it)."""
        self.start_dir = start_dir or Path.cwd()
        """Where the file browser opens first."""
        self._theme_dirs: list[Traversable] = (
            list(theme_dirs)
            if theme_dirs is not None
            else [shipped_themes_dir(), user_themes_dir()]
        )
        self._notices = list(notices)
        self._autostart = list(autostart)
        """Planned sessions to start once the app is up (``partdeck demo``)."""
        self.bridge = EngineBridge(engine, self.post_message)
        self.keymap = check_keymap(config.keys)
        self.set_keymap(self.keymap.keymap)
        self.sub_title = self._subtitle()

    def _subtitle(self) -> str:
        from tui.ui.screens.files import tilde

        path = self.config.path
        accounts = f"{len(self.config.accounts)} account(s)"
        shown = f"{accounts} · {tilde(path)}" if path else accounts
        if not self.engine.keeps_running:
            return shown
        return f"{shown} · service {'●' if self.engine.connected else '✗ lost'}"

    def on_service_link(self, link: ServiceLink) -> None:
        """The service went away or came back: say so in the header and once aloud."""
        self.sub_title = self._subtitle()
        if link.connected:
            self.notify("Reconnected to the partdeck service.", title="Service", timeout=5)
        else:
            self.notify(
                f"{link.message or 'the partdeck service went away'}; reconnecting (uploads "
                "resume when it is back)",
                title="Service lost",
                severity="error",
                timeout=15,
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pause-and-quit is offered only where quitting would leave uploads running."""
        if action == "pause_quit":
            return self.engine.keeps_running
        return True

    def get_default_screen(self) -> Screen[None]:
        return MainScreen()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return state_variable_defaults(self.current_theme)

    def on_mount(self) -> None:
        self.main.warm_up()
        problems = self._load_themes() + self.keymap.problems
        if problems:
            self.notify("\n".join(problems), title="Config", severity="warning", timeout=15)
        for notice in self._notices:
            self.notify(notice, timeout=10)
        if self._autostart:
            self._start_sessions(self._autostart)

    @work(group="autostart", exclusive=True)
    async def _start_sessions(self, session_ids: Sequence[str]) -> None:
        """Start planned sessions, as if picked in the browser; a refusal is one line."""
        for session_id in session_ids:
            try:
                await self.engine.start(session_id)
            except PartdeckError as exc:
                self.notify(redact(str(exc)), title="Start", severity="error", timeout=10)
                continue
            self.main.follow(session_id)

    def _load_themes(self) -> list[str]:
        """Register the theme files; pick the configured theme. Returns the problems."""
        loaded = load_themes(self._theme_dirs)
        for theme in loaded.themes:
            self.register_theme(theme)
        problems = list(loaded.errors)
        wanted = self.config.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
            problems.append(
                f"[ui] theme {wanted!r} is not installed; using {fallback} "
                f"(installed: {', '.join(sorted(t.name for t in loaded.themes))})"
            )
            self.theme = fallback
        return problems

    def watch_theme(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                for table in screen.query("SessionsTable"):
                    table.call_after_refresh(table.restyle)  # type: ignore[attr-defined]

    def on_session_alert(self, alert: SessionAlert) -> None:
        """A session failed, stalled, ...: say so, naming the file."""
        session = self.engine.session(alert.session_id)
        name = Path(session.path).name
        self.notify(
            f"{name}: {alert.message}",
            severity="error" if alert.error else "warning",
            timeout=10,
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notify, with markup off by default: messages carry file names and server text,
        whose control characters are shown escaped (each line on its own)."""
        message = "\n".join(map(visible, message.split("\n")))
        super().notify(
            message, title=visible(title), severity=severity, timeout=timeout, markup=markup
        )

    def report_bug(self, what: str, exc: BaseException) -> None:
        """An unexpected error: log it (secrets cut) and say so in one line, no traceback."""
        logging.getLogger("partdeck").error("%s failed", what, exc_info=exc)
        self.notify(
            f"{what}: internal error ({type(exc).__name__}); nothing uploaded is lost and the "
            "session stays resumable; please report it",
            severity="error",
            timeout=15,
        )

    @property
    def main(self) -> MainScreen:
        """The main screen (always at the bottom of the stack)."""
        screen = self.screen_stack[0] if self.screen_stack else None
        if not isinstance(screen, MainScreen):
            for candidate in self.screen_stack:
                if isinstance(candidate, MainScreen):
                    return candidate
            raise LookupError("the main screen is not installed")
        return screen

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette offers the actions that apply to the selection, then the app's own."""
        if isinstance(screen, MainScreen):
            for action, title, help_text in screen.applicable():
                yield SystemCommand(
                    title,
                    help_text,
                    lambda a=action: screen.run_action(a),
                )
        yield SystemCommand("Help", "Show every key", self.action_help)
        yield from (c for c in super().get_system_commands(screen) if c.title in ("Theme", "Keys"))
        yield SystemCommand("Quit", "Quit; running uploads pause", self.action_quit)

    def action_help(self) -> None:
        """Show the key map."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap.keymap))

    async def action_quit(self) -> None:
        """Quit. Attached to the service, uploads go on; in-process, when uploads run,
        ask first and pause them so they stay resumable."""
        if self.engine.keeps_running:
            self.exit()
            return
        self._quit()

    async def action_pause_quit(self) -> None:
        """Pause every upload the service drives, then quit (asks first)."""
        self._quit()

    @work(group="quit", exclusive=True)
    async def _quit(self) -> None:
        running = self.engine.running()
        if running:
            body = (
                f"{len(running)} session(s) are uploading. Quitting pauses them; every "
                "verified part is kept and they resume here or with partdeck resume."
            )
            if not await self.push_screen_wait(
                ConfirmScreen("Quit while uploading?", body, yes="Pause and quit")
            ):
                return
            for session_id in running:
                if self.engine.is_running(session_id):
                    await self.engine.pause(session_id)
        self.exit()

    def open_browser(self) -> None:
        """Pick files and an account; start the batch on the main screen."""
        from tui.ui.screens.files import Batch, FileBrowserScreen

        def started(batch: Batch | None) -> None:
            if batch is not None:
                self.main.start_batch(batch.paths, batch.account)

        self.push_screen(FileBrowserScreen(self.start_dir), started)

    def open_accounts(self) -> None:
        """Show the accounts with their connection checks."""
        from tui.ui.screens.accounts import AccountPickerScreen

        self.push_screen(AccountPickerScreen(choose=False))


async def run_app(
    engine: EngineAPI,
    config: Config,
    *,
    notices: Sequence[str] = (),
    state_dir: Path | None = None,
) -> None:
    """Run the app on ``engine`` (whoever opened it closes it: an in-process engine then
    pauses what still runs, the service's goes on)."""
    app = PartdeckApp(engine, config, notices=notices, state_dir=state_dir)
    await app.run_async()
