"""``partdeck service start|stop|restart|status|install|run``: the per-user service that
owns the engine, so uploads outlive the terminal that started them."""

from __future__ import annotations

import asyncio

from tui.cli.context import EXIT_FAILED, EXIT_OK, Context
from tui.cli.output import line, print_json
from tui.service.frontend import all_secrets
from tui.service.spawn import ensure_service, service_status, stop_service

__all__ = ["cmd_service"]


async def _start(ctx: Context) -> int:
    client = await ensure_service(ctx.state_dir, ctx.config_path, all_secrets(ctx.config))
    try:
        status = await client.status()
    finally:
        await client.aclose()
    return _print_status(ctx, status)


def _print_status(ctx: Context, status: dict[str, object]) -> int:
    if ctx.args.json:
        print_json(status)
    elif status.get("running"):
        held = status.get("resources")
        size = (
            f", {held['rss_kib'] / 1024:.0f} MiB, {held['threads']} threads"
            if isinstance(held, dict) and {"rss_kib", "threads"} <= held.keys()
            else ""
        )
        line(
            f"partdeck service {status['version']} running, process {status['pid']}{size}, "
            f"{status.get('uploading', 0)} uploading; socket {status['socket']}"
        )
    else:
        line(f"partdeck service not running ({status.get('note')}); socket {status['socket']}")
    return EXIT_OK if status.get("running") else EXIT_FAILED


def cmd_service(ctx: Context) -> int:
    """Start, stop, restart, show, install or run the service."""
    if ctx.args.action == "run":  # the service itself, in the foreground, with its own loop
        from tui.service.run import run_service

        return run_service(ctx.state_dir, ctx.config_path, secrets_stdin=ctx.args.secrets_stdin)
    return asyncio.run(_control(ctx))


async def _control(ctx: Context) -> int:
    action = ctx.args.action
    if action == "status":
        return _print_status(ctx, await service_status(ctx.state_dir))
    if action == "install":
        from tui.service.systemd import install_unit

        path, commands = install_unit(ctx.state_dir, ctx.config_path)
        if ctx.args.json:
            print_json({"unit": str(path), "commands": commands})
        else:
            line(f"wrote {path}; enable it and keep it running after logout with:")
            for command in commands:
                line(f"  {command}")
        return EXIT_OK
    if action in ("stop", "restart"):
        pid = await stop_service(ctx.state_dir)
        if action == "stop":
            if ctx.args.json:
                print_json({"running": False, "stopped": pid})
            elif pid is None:
                line("no partdeck service was running for this state dir")
            else:
                line(f"partdeck service (process {pid}) stopped; its uploads are paused")
            return EXIT_OK
    return await _start(ctx)
