"""The Box sign-in dialog: the authorize URL to open anywhere, and a field for the code.

The same sign-in as ``partdeck auth ACCOUNT``: over SSH the URL is opened in a browser on
another machine (``y`` copies it through the terminal, OSC 52), and the code Box shows,
or the whole address the browser ended on, is pasted back here. Dismissed with True once
the tokens are stored.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.config import Account
from tui.core.display import visible
from tui.core.errors import PartdeckError
from tui.core.redact import redact
from tui.core.token_store import TokenStore
from tui.sign_in import BoxSignIn


class SignInScreen(ModalScreen[bool]):
    """Sign one Box ``oauth`` account in."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    SignInScreen #url { margin: 1 0; color: $accent; }
    SignInScreen #said { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="sign-in.cancel"),
        Binding("ctrl+y", "copy_url", "Copy URL", id="sign-in.copy"),
    ]

    def __init__(self, account: Account, store: TokenStore) -> None:
        super().__init__()
        self._account = account
        self._sign_in = BoxSignIn(account, store)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Sign {visible(self._account.name)} in to Box", id="title")
            yield Static(
                "Open this URL in a browser (any machine will do), grant access, then paste "
                "the code Box shows, or the whole address the browser ended on:",
                markup=False,
            )
            yield Static(self._sign_in.url, id="url", markup=False)
            yield Input(placeholder="code or URL, then enter", password=True, id="code")
            yield Static("", id="said", markup=False)
            yield Label("enter: sign in  ·  ctrl+y: copy the URL  ·  esc: back", id="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_copy_url(self) -> None:
        """Copy the URL to the local clipboard (OSC 52 reaches it over SSH)."""
        self.app.copy_to_clipboard(self._sign_in.url)
        self.notify("sign-in URL copied")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#said", Static).update("signing in…")
            self._finish(event.value)

    @work(exclusive=True, group="sign-in")
    async def _finish(self, answer: str) -> None:
        try:
            await self._sign_in.finish(answer)
        except PartdeckError as exc:
            if self.is_attached:
                self.query_one("#said", Static).update(visible(redact(str(exc))))
                self.query_one(Input).value = ""
            return
        self.notify(f"{self._account.name}: signed in")
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Close without signing in."""
        self.dismiss(False)
