"""Wire an Engine to a config and a state dir: shared by the CLI and the UI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from tui.config import Account, Config
from tui.core.engine import Engine
from tui.core.journal import Journal
from tui.core.ports import Provider
from tui.core.settings import EngineSettings
from tui.core.token_store import TokenStore
from tui.core.transfer import is_loopback, make_client
from tui.providers.registry import make_provider


class ProviderCache:
    """Builds each account's Provider once, on the shared client that fits its TLS setting;
    accounts that sign in (Box ``oauth``, ``ccg``) keep their tokens in ``tokens``."""

    def __init__(
        self, config: Config, settings: EngineSettings, tokens: TokenStore | None = None
    ) -> None:
        self._config = config
        self._settings = settings
        self.tokens = tokens
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._providers: dict[str, Provider] = {}
        self._supplied: dict[str, dict[str, str | None]] = {}
        self._facts: Callable[[str], Mapping[str, str]] = lambda _: {}

    def remember_with(self, facts: Callable[[str], Mapping[str, str]]) -> None:
        """Where each new provider finds what earlier ones learnt of its account's store
        (``Provider.learned``, kept in the journal)."""
        self._facts = facts

    @property
    def config(self) -> Config:
        """The config accounts are read from."""
        return self._config

    def use_config(self, config: Config) -> None:
        """Read accounts from ``config`` from now on; a provider whose account changed is
        built again on its next use (sessions already running keep theirs)."""
        for name in list(self._providers):
            if config.accounts.get(name) != self._config.accounts.get(name):
                del self._providers[name]
        self._config = config

    def supply(self, account_name: str, env: Mapping[str, str | None]) -> None:
        """Secrets a client read from its environment for one account (None: it has no
        such variable), held in memory: the account's provider is built again when they
        differ from those it has; sessions already running keep theirs."""
        if env and self._supplied.get(account_name) != env:
            self._supplied[account_name] = dict(env)
            self._providers.pop(account_name, None)

    def account(self, account_name: str) -> Account:
        """The configured account, with any secrets a client supplied for it."""
        account = self._config.account(account_name)
        supplied = self._supplied.get(account_name)
        return replace(account, supplied_env=supplied) if supplied else account

    def client(self, verify: bool = True) -> httpx.AsyncClient:
        """The shared client (one with TLS checks, one without for loopback accounts)."""
        if verify not in self._clients:
            self._clients[verify] = make_client(self._settings.parts_in_flight, verify=verify)
        return self._clients[verify]

    def part_client(self, account_name: str, url: str) -> httpx.AsyncClient:
        """The client for one part upload: unchecked only when the account turned TLS checks
        off and the part goes to a loopback host; checked everywhere else."""
        if self._config.account(account_name).verify_tls:
            return self.client()
        try:
            host = httpx.URL(url).host
        except httpx.InvalidURL:  # sending it fails with its own, clearer message
            host = ""
        return self.client(not is_loopback(host))

    def __call__(self, account_name: str) -> Provider:
        provider = self._providers.get(account_name)
        if provider is None:
            account = self.account(account_name)
            provider = make_provider(account, self.client(account.verify_tls), self.tokens)
            provider.learn(self._facts(account_name))
            self._providers[account_name] = provider
        return provider

    async def aclose(self) -> None:
        """Close the shared clients."""
        for client in self._clients.values():
            await client.aclose()


@asynccontextmanager
async def open_engine(
    config: Config,
    state_dir: Path,
    settings: EngineSettings | None = None,
    *,
    providers: ProviderCache | None = None,
) -> AsyncIterator[Engine]:
    """An Engine on the journal in ``state_dir``; closing it pauses whatever still runs."""
    settings = settings or config.engine
    journal = Journal.open(state_dir)
    providers = providers or ProviderCache(config, settings, TokenStore(state_dir))
    providers.remember_with(journal.account_facts)
    engine = Engine(
        journal, providers, providers.client(), settings, part_client=providers.part_client
    )
    try:
        yield engine
    finally:
        await engine.close()
        await providers.aclose()
        journal.close()


def with_overrides(settings: EngineSettings, **changes: Any) -> EngineSettings:
    """``settings`` with the given fields replaced, ignoring those that are None."""
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})
