"""Build the Provider for a configured account."""

from __future__ import annotations

import importlib

import httpx

from tui.core.ports import Provider
from tui.core.token_store import TokenStore
from tui.providers.account import AccountSettings
from tui.providers.credentials import token_source
from tui.providers.s3 import S3Provider

ADAPTERS: dict[str, str] = {
    "gumroad": "tui.providers.gumroad",
    "polar": "tui.providers.polar",
    "box": "tui.providers.box",
    "fileflare": "tui.providers.fileflare",
    "wunderlist": "tui.providers.wunderlist",
}
"""Provider -> module whose ``from_account(account, client, token)`` builds its adapter
(``token``: the account's ``TokenSource``)."""


def make_provider(
    account: AccountSettings, client: httpx.AsyncClient, tokens: TokenStore | None = None
) -> Provider:
    """The Provider for ``account``, sharing ``client``; ConfigError when a secret is missing.
    ``tokens`` is the state dir's token store (needed by Box ``oauth`` and ``ccg``)."""
    if account.provider == "s3":
        assert account.bucket is not None  # config validation requires it
        return S3Provider(
            client,
            bucket=account.bucket,
            credentials=account.s3_credential_source(),
            region=account.region,
            endpoint_url=account.endpoint_url,
            prefix=account.prefix,
            min_part_size=account.min_part_size,
            checksum=account.checksum,
            multipart_threshold=account.multipart_threshold,
        )
    module = importlib.import_module(ADAPTERS[account.provider])
    provider: Provider = module.from_account(account, client, token_source(account, client, tokens))
    return provider
