"""The engine a command drives: the per-user service's (started when it is not running),
or one in this process with ``--no-service``, ``[service] mode = "inline"`` or
``PARTDECK_SERVICE=inline``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tui.cli.context import Context
from tui.core.errors import PartdeckError, UsageError
from tui.core.settings import EngineSettings
from tui.runtime import open_engine
from tui.service.api import EngineAPI
from tui.service.frontend import attach_service, uses_service

__all__ = ["front_engine", "on_service"]

_ENGINE_FLAGS = {"parts_in_flight": "--parts-in-flight", "bandwidth_limit": "--bandwidth-limit"}
"""Flags that set the engine's own limits: the service's engine has the config's."""


def on_service(ctx: Context) -> bool:
    """True when this command goes through the service (never with the in-process
    sandbox of a config-less run: it ends with this process)."""
    if ctx.sandbox is not None:
        return False
    return uses_service(ctx.config, no_service=getattr(ctx.args, "no_service", False))


@contextlib.asynccontextmanager
async def front_engine(
    ctx: Context, settings: EngineSettings | None = None
) -> AsyncIterator[EngineAPI]:
    """The engine for this command. Leaving an in-process engine pauses what it drives;
    leaving the service's only stops following, except when SIGINT/SIGTERM stopped the
    command: then the sessions it set going (``ctx.started``) are paused, as in-process."""
    if not on_service(ctx):
        async with open_engine(ctx.config, ctx.state_dir, settings) as engine:
            yield engine
        return
    for key, flag in _ENGINE_FLAGS.items():
        if getattr(ctx.args, key, None) is not None:
            raise UsageError(
                f"{flag} sets the engine's own limit, and the service's engine takes it from "
                f"[engine] {key} in {ctx.config_path}; set it there and run partdeck service "
                "restart, or add --no-service to run this command in this process"
            )
    attached: EngineAPI = await attach_service(ctx.config, ctx.state_dir)
    try:
        yield attached
    except asyncio.CancelledError:
        if not ctx.hangup:
            # In a task of its own: this one is being cancelled, and httpx's calls (anyio)
            # would see that and give up before the pause reached the service.
            await asyncio.shield(asyncio.ensure_future(_pause(attached, ctx.started)))
        raise
    finally:
        await attached.close()


async def _pause(engine: EngineAPI, session_ids: list[str]) -> None:
    """Pause those of these sessions that are still being sent. Each is asked, whatever
    this client's copy of the state says (it may lag the service by an event); one that
    has finished meanwhile answers that it is not running, which is fine."""
    for session_id in session_ids:
        with contextlib.suppress(PartdeckError):
            await engine.pause(session_id)
