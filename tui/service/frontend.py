"""What a front end calls to get its engine: the per-user service (started when it is
not running) or, with ``--no-service`` / ``[service] mode = "inline"`` /
``PARTDECK_SERVICE=inline``, an engine in its own process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tui.config import Config
from tui.core.errors import ConfigError
from tui.service.attached import ServiceEngine
from tui.service.spawn import ensure_service

MODE_ENV = "PARTDECK_SERVICE"
"""``inline`` or ``auto``: overrides ``[service] mode`` (containers, tests)."""


def service_mode(config: Config, *, no_service: bool = False) -> str:
    """``inline`` or ``auto``, from the flag, then the environment, then the config."""
    if no_service:
        return "inline"
    wanted = os.environ.get(MODE_ENV, "").strip()
    if wanted:
        if wanted not in ("auto", "inline"):
            raise ConfigError(
                f"{MODE_ENV}={wanted!r} is not a service mode; set it to auto or inline"
            )
        return wanted
    return config.service.mode


def uses_service(config: Config, *, no_service: bool = False) -> bool:
    """True when this front end should attach to the service.

    Without a config file there is nothing the service could read the accounts from (the
    no-config sandbox lives in the front end's process), so the engine runs inline."""
    return config.path is not None and service_mode(config, no_service=no_service) == "auto"


def account_secrets(config: Config, account: str) -> Mapping[str, str | None]:
    """The environment variables one account's secret is read from, as this process has
    them (None for one it does not have: the service must not use an older client's)."""
    found = config.accounts.get(account)
    if found is None:
        return {}
    return {name: os.environ.get(name) or None for name in found.secret_env_names()}


def all_secrets(config: Config) -> dict[str, dict[str, str]]:
    """Every account's environment-held secrets this process has, for a service it starts."""
    found = {
        name: {k: v for k, v in account_secrets(config, name).items() if v is not None}
        for name in config.accounts
    }
    return {name: env for name, env in found.items() if env}


def check_same_config(status: Mapping[str, object], ours: Path, state_dir: Path) -> None:
    """Refuse, in one line, to drive a state dir's service with another config than its own:
    its accounts would not be the ones this command names."""
    theirs = str(status.get("config") or "")
    if theirs and os.path.realpath(theirs) != os.path.realpath(ours):
        raise ConfigError(
            f"the partdeck service for {state_dir} runs with the config {theirs}, not {ours}; "
            "use that config, restart the service with this one (partdeck service restart "
            "--config ...), or add --no-service"
        )


async def attach_service(config: Config, state_dir: Path) -> ServiceEngine:
    """The service's engine for ``state_dir``, started first when it is not running; it is
    started again (and resumes its uploads) if it dies while this client follows it."""
    assert config.path is not None

    async def revive() -> None:
        client = await ensure_service(state_dir, config.path or Path(), all_secrets(config))
        await client.aclose()

    client = await ensure_service(state_dir, config.path, all_secrets(config))
    try:
        check_same_config(await client.status(), config.path, state_dir)
    except BaseException:
        await client.aclose()
        raise
    engine = ServiceEngine(
        client, state_dir, lambda account: account_secrets(config, account), revive=revive
    )
    try:
        return await engine.attach()
    except BaseException:
        await client.aclose()
        raise
