"""Build the Provider for a configured account."""

from __future__ import annotations

import httpx

from tui.config import Account
from tui.core.errors import UsageError
from tui.providers.base import Provider
from tui.providers.s3 import S3Provider


def make_provider(account: Account, client: httpx.AsyncClient) -> Provider:
    """The Provider for ``account``, sharing ``client``; ConfigError when a secret is missing."""
    if account.provider == "s3":
        access_key, secret_key = account.s3_credentials()
        assert account.bucket is not None  # config validation requires it
        return S3Provider(
            client,
            bucket=account.bucket,
            access_key=access_key,
            secret_key=secret_key,
            region=account.region,
            endpoint_url=account.endpoint_url,
            prefix=account.prefix,
            min_part_size=account.min_part_size,
        )
    raise UsageError(
        f"account {account.name}: {account.provider} uploads are not available in this version "
        "of partdeck yet; use an s3 account"
    )
