"""The token source for a configured account: how the adapters get, and renew, its token.

* ``auth = "token"`` with ``token_env`` (or an inline token): a fixed token, read once.
* ``auth = "token"`` with ``token_command`` or ``token_file``: read once now (so a missing
  secret fails at once, in one line), and again after the server refuses it.
* ``auth = "oauth"``, ``"ccg"`` or ``"jwt"`` (Box): an OAuth access token kept in the
  state dir's token store and renewed ahead of its expiry.
"""

from __future__ import annotations

import httpx

from tui.core.errors import ConfigError
from tui.core.token_store import TokenStore
from tui.providers.account import AccountSettings
from tui.providers.jwt_assertion import box_assertion
from tui.providers.oauth import OAuthApp, OAuthToken
from tui.providers.tokens import FetchedToken, FixedToken, TokenSource

__all__ = ["oauth_app", "token_source"]


def token_source(
    account: AccountSettings, client: httpx.AsyncClient, store: TokenStore | None
) -> TokenSource:
    """Where ``account``'s requests get their token (ConfigError when it cannot be had)."""
    if account.auth in ("oauth", "ccg", "jwt"):
        if store is None:
            raise ConfigError(
                f"accounts.{account.name} uses auth = {account.auth!r}, which needs the state "
                "dir's token store; a bug: please report it"
            )
        return OAuthToken(oauth_app(account), store, client)
    if account.token_refetchable:
        return FetchedToken(account.token, first=account.token())
    return FixedToken(account.token())


def oauth_app(account: AccountSettings) -> OAuthApp:
    """The OAuth app of a Box ``oauth``, ``ccg`` or ``jwt`` account."""
    if account.client_id is None or account.oauth_url is None:
        raise ConfigError(
            f"accounts.{account.name} has no client_id or oauth_url; set auth = "
            '"oauth", "ccg" or "jwt" with its client_id'
        )
    extra: dict[str, str] = {}
    if account.auth == "ccg":
        extra = {
            "box_subject_type": account.subject_type or "enterprise",
            "box_subject_id": account.subject_id or "",
        }
    label = f"{account.provider} account {account.name}"
    token_url = account.oauth_url

    def assertion() -> str:
        return box_assertion(
            client_id=account.client_id or "",
            key_pem=account.private_key(),
            passphrase=account.private_key_passphrase(),
            key_id=account.public_key_id or "",
            subject_type=account.subject_type or "enterprise",
            subject_id=account.subject_id or "",
            audience=token_url,
            label=label,
        )

    grants = {"ccg": "client_credentials", "jwt": "jwt", "oauth": "refresh_token"}
    return OAuthApp(
        account=account.name,
        label=label,
        token_url=token_url,
        client_id=account.client_id,
        client_secret=account.client_secret,
        grant=grants[account.auth],
        extra=extra,
        redirect_uri=account.redirect_uri,
        assertion=assertion if account.auth == "jwt" else None,
    )
