"""The account picker: every configured account, whether its secret is there, and a
connection check through the provider's cheapest call."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from tui.config import Account
from tui.core.display import visible
from tui.core.errors import PartdeckError
from tui.core.redact import redact
from tui.core.token_store import TokenStore
from tui.sign_in import token_state
from tui.ui.keys import PICKER_BINDINGS
from tui.ui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.ui.app import PartdeckApp

CHECK_TIMEOUT = 15.0
"""Seconds a connection check may take before it is reported as timed out."""


def secret_source(account: Account, tokens: TokenStore | None = None) -> str:
    """Where the account's secret comes from, for people (never the secret itself)."""
    if account.provider == "s3":
        if account.profile:
            return f"profile {account.profile}"
        return f"${account.access_key_env}"
    if account.auth != "token":  # Box oauth / ccg: whether it holds a token, and until when
        return f"{account.auth}: {token_state(account, tokens) if tokens else 'no state dir'}"
    if account.inline_token is not None:
        return "inline (config)"
    if account.token_env:
        return f"${account.token_env}"
    if account.token_file:
        return f"file {account.token_file.name}"
    if account.token_command:
        return "command"
    return "none configured"


class AccountPickerScreen(ModalScreen[str | None]):
    """Choose the account a batch goes to (or just look at them: ``choose=False``)."""

    DEFAULT_CSS = """
    AccountPickerScreen { align: center middle; }
    AccountPickerScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface;
    }
    AccountPickerScreen DataTable { height: auto; max-height: 20; }
    AccountPickerScreen #hint { color: $text-muted; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [*PICKER_BINDINGS]

    def __init__(self, *, choose: bool = True, current: str | None = None) -> None:
        super().__init__()
        self._choose = choose
        self._current = current

    @property
    def papp(self) -> PartdeckApp:
        """The app, typed."""
        from tui.ui.app import PartdeckApp

        assert isinstance(self.app, PartdeckApp)
        return self.app

    def compose(self) -> ComposeResult:
        with Vertical():
            yield DataTable(cursor_type="row", id="accounts")
            yield Label(
                "enter: use this account  ·  c: check again  ·  s: sign in  ·  esc: back"
                if self._choose
                else "c: check again  ·  s: sign in  ·  esc: back",
                id="hint",
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        box = self.query_one(Vertical)
        box.border_title = "Choose an account" if self._choose else "Accounts"
        table = self.query_one(DataTable)
        table.add_column("Account", key="name", width=18)
        table.add_column("Provider", key="provider", width=10)
        table.add_column("Secret", key="secret", width=22)
        table.add_column("Connection", key="check", width=38)
        accounts = self.papp.config.accounts
        if not accounts:
            box.border_subtitle = "no accounts: add [accounts.NAME] to the config"
        for name, account in accounts.items():
            table.add_row(
                name,
                account.provider,
                self._secret_cell(account),
                Text("…", style="dim"),
                key=name,
            )
        if self._current in accounts:
            table.move_cursor(row=list(accounts).index(self._current))
        table.focus()
        self.action_check()

    def _secret_cell(self, account: Account) -> Text:
        shown = secret_source(account, self.papp.tokens)
        if not account.secret_available():
            return Text(f"✗ missing: {shown}", style="bold red")
        if account.auth == "oauth" and "not signed in" in shown:
            return Text(f"✗ {shown}", style="bold yellow")
        return Text(f"✓ {shown}", style="green")

    def action_sign_in(self) -> None:
        """Sign the Box OAuth account under the cursor in (the dialog of partdeck auth)."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        account = self.papp.config.accounts[name]
        tokens = self.papp.tokens
        if account.auth != "oauth" or tokens is None:
            self.notify(
                f"{name} does not sign in (auth = {account.auth!r}); sign-in is for Box "
                'accounts with auth = "oauth"',
                severity="warning",
            )
            return
        from tui.ui.screens.sign_in import SignInScreen

        def signed(done: bool | None) -> None:
            if done and self.is_attached:
                table.update_cell(name, "secret", self._secret_cell(account))
                self.action_check()

        try:
            self.app.push_screen(SignInScreen(account, tokens), signed)
        except PartdeckError as exc:  # the client secret cannot be read, say
            self.notify(visible(redact(str(exc))), severity="error")

    def action_check(self) -> None:
        """Check every account whose secret is there, all at once."""
        table = self.query_one(DataTable)
        for name, account in self.papp.config.accounts.items():
            if account.secret_available():
                table.update_cell(name, "check", Text("checking…", style="dim"))
                self._check(name)
            else:
                table.update_cell(name, "check", Text("not checked: no secret", style="dim"))

    @work(group="account-checks")
    async def _check(self, name: str) -> None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):  # not wait_for: see tui.core.waits
                said = await self.papp.engine.check_account(name)
            cell = Text(f"✓ {visible(redact(said))}", style="green")
        except TimeoutError:
            cell = Text(f"✗ no answer in {CHECK_TIMEOUT:.0f}s", style="bold red")
        except PartdeckError as exc:
            cell = Text(f"✗ {visible(redact(str(exc)))}", style="bold red")
        if self.is_attached:
            table = self.query_one(DataTable)
            table.update_cell(name, "check", cell)
            account = self.papp.config.accounts.get(name)
            if account is not None and account.auth != "token":  # the check got it a token
                table.update_cell(name, "secret", self._secret_cell(account))

    def action_choose(self) -> None:
        """Use the account under the cursor."""
        table = self.query_one(DataTable)
        if not self._choose or not table.row_count:
            return
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        account = self.papp.config.accounts[name]
        if not account.secret_available():
            self.notify(
                f"{name}: its secret is missing ({secret_source(account)}); set it and open "
                "the picker again",
                severity="error",
            )
            return
        self.dismiss(name)

    def on_data_table_row_selected(self) -> None:
        self.action_choose()

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
