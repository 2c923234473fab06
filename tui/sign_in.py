"""Signing a Box account in (``auth = "oauth"``) and checking a CCG one, for the command
line (``partdeck auth``) and the app's accounts screen alike (the UI reaches the
providers through here, never itself).

A sign-in is two steps with a person in between: ``BoxSignIn`` makes the authorize URL
(to open in any browser), then ``finish`` trades what the person pasted back (the code,
or the whole redirect address) for tokens, kept in the state dir's token store.
"""

from __future__ import annotations

import time

from tui.core.errors import ConfigError, UsageError
from tui.core.token_store import StoredToken, TokenStore
from tui.core.transfer import make_client
from tui.providers.account import AccountSettings
from tui.providers.credentials import oauth_app
from tui.providers.oauth import OAuthToken, authorize_url, code_of, exchange_code

__all__ = ["BoxSignIn", "check_client_credentials", "signs_in", "token_state"]


def signs_in(account: AccountSettings) -> bool:
    """Whether the account gets its tokens from a token endpoint (Box oauth or ccg)."""
    return account.provider == "box" and account.auth in ("oauth", "ccg", "jwt")


class BoxSignIn:
    """One sign-in of a Box ``oauth`` account: its URL now, its code later."""

    def __init__(self, account: AccountSettings, store: TokenStore) -> None:
        if account.auth != "oauth" or account.authorize_url is None:
            raise UsageError(
                f"accounts.{account.name} does not sign in (auth = {account.auth!r}); "
                'sign-in is for Box accounts with auth = "oauth"'
            )
        self.account = account
        self._store = store
        self._app = oauth_app(account)
        self._sign_in = authorize_url(self._app, account.authorize_url)

    @property
    def url(self) -> str:
        """The authorize URL to open in a browser."""
        return self._sign_in.url

    async def finish(self, answer: str) -> StoredToken:
        """Trade the pasted code (or redirect address) for tokens, and store them."""
        code = code_of(answer, self._sign_in)
        async with make_client(1, verify=self.account.verify_tls) as client:
            return await exchange_code(client, self._app, self._store, code)


async def check_client_credentials(account: AccountSettings, store: TokenStore) -> float | None:
    """Get a CCG account a token (stored for the uploads); when it runs out."""
    async with make_client(1, verify=account.verify_tls) as client:
        source = OAuthToken(oauth_app(account), store, client)
        await source.get()
        return source.expires_at


def token_state(account: AccountSettings, store: TokenStore, now: float | None = None) -> str:
    """The account's stored token for people: ``not signed in``, or until when it runs."""
    try:
        stored = store.read(account.name)
    except ConfigError:  # a damaged store: said in one line where the tokens are used
        stored = None
    if stored is None:
        return "not signed in" if account.auth == "oauth" else "no token yet"
    if stored.expires_at is None:
        return "signed in"
    now = time.time() if now is None else now
    if stored.expires_at <= now:
        return "renewed on use" if stored.refresh_token or account.auth == "ccg" else "expired"
    return f"until {time.strftime('%H:%M', time.localtime(stored.expires_at))}"
