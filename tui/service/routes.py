"""The service's HTTP/JSON calls: one route per engine command, a snapshot, the event
stream and the service's own status. Every refusal is the engine's own one-line error,
sent with its class so the client raises the same."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tui.core.errors import PartdeckError, UsageError
from tui.service import health
from tui.service.protocol import (
    diagnosis_to_wire,
    error_to_wire,
    preview_to_wire,
    session_to_wire,
)

if TYPE_CHECKING:
    from tui.service.server import Service

log = logging.getLogger("partdeck.service")

Handler = Callable[[Request], Awaitable[Any]]


def _answer(call: Callable[[Service, Request, dict[str, Any]], Awaitable[Any]]) -> Any:
    """Wrap a call: JSON body in, JSON out, PartdeckError as a typed 409."""

    def bind(service: Service) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                body: dict[str, Any] = {}
                if request.method == "POST":  # a command: it may need accounts
                    raw = await request.body()
                    body = json.loads(raw) if raw else {}
                    if not isinstance(body, dict):
                        raise UsageError("a service call takes a JSON object")
                    service.supply(body.get("secrets"))
                result = await call(service, request, body)
            except PartdeckError as exc:
                return JSONResponse(error_to_wire(exc), status_code=409)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("bad request to %s: %s", request.url.path, type(exc).__name__)
                wrong = UsageError(f"the service could not read the call {request.url.path}")
                return JSONResponse(error_to_wire(wrong), status_code=400)
            except Exception as exc:
                log.exception("%s failed", request.url.path)
                failed = PartdeckError(
                    f"internal error in the service ({type(exc).__name__}); nothing uploaded "
                    f"is lost, details in {service.log_file}; please report it"
                )
                return JSONResponse(error_to_wire(failed), status_code=500)
            if isinstance(result, dict):
                result.setdefault("seq", service.feed.seq)  # the client waits to have seen it
            return JSONResponse(result)

        return handle

    return bind


def _sid(request: Request) -> str:
    return str(request.path_params["session"])


@_answer
async def status(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return service.status()


@_answer
async def resources(service: Service, request: Request, body: dict[str, Any]) -> Any:
    held: dict[str, object] = dict(health.resources())
    held["records"] = service.feed.kept  # the event window: bounded, fills up first
    held["sessions"] = len(service.published.sessions)
    held["task_names"] = health.task_names()
    return held


@_answer
async def snapshot(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return service.published.snapshot()


@_answer
async def parts(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return await service.parts(_sid(request))


@_answer
async def batch(service: Service, request: Request, body: dict[str, Any]) -> Any:
    sessions = await service.batch(
        [str(p) for p in body["paths"]],
        str(body["account"]),
        part_size=body.get("part_size"),
        auto_complete=body.get("auto_complete"),
        start=bool(body.get("start", True)),
    )
    return {"sessions": [session_to_wire(s) for s in sessions]}


@_answer
async def preview(service: Service, request: Request, body: dict[str, Any]) -> Any:
    found = await service.engine.preview(
        str(body["path"]), str(body["account"]), body.get("part_size")
    )
    return preview_to_wire(found)


@_answer
async def start(service: Service, request: Request, body: dict[str, Any]) -> Any:
    await service.start(_sid(request), auto_complete=body.get("auto_complete"))
    return {"ok": True}


@_answer
async def pause(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return {"session": session_to_wire(await service.engine.pause(_sid(request)))}


@_answer
async def retry(service: Service, request: Request, body: dict[str, Any]) -> Any:
    numbers = body.get("parts")
    chosen = [int(n) for n in numbers] if numbers else None
    return {"queued": await service.retry(_sid(request), chosen)}


@_answer
async def complete(service: Service, request: Request, body: dict[str, Any]) -> Any:
    done = await service.engine.complete(_sid(request), force=bool(body.get("force")))
    return {"session": session_to_wire(done)}


@_answer
async def abort(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return {"session": session_to_wire(await service.engine.abort(_sid(request)))}


@_answer
async def verify(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return {"results": await service.engine.verify(_sid(request))}


@_answer
async def inspect(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return diagnosis_to_wire(await service.engine.inspect(_sid(request)))


@_answer
async def remote_parts(service: Service, request: Request, body: dict[str, Any]) -> Any:
    found = await service.engine.remote_parts(_sid(request))
    return {"parts": None if found is None else [vars(p) for p in found]}


@_answer
async def remote_uploads(service: Service, request: Request, body: dict[str, Any]) -> Any:
    account = str(request.path_params["account"])
    found = await service.engine.remote_uploads(account, str(body.get("prefix", "")))
    return {"uploads": [vars(u) for u in found]}


@_answer
async def remote_abort(service: Service, request: Request, body: dict[str, Any]) -> Any:
    account = str(request.path_params["account"])
    await service.engine.remote_abort(account, str(body["key"]), str(body["upload_id"]))
    return {"ok": True}


@_answer
async def check(service: Service, request: Request, body: dict[str, Any]) -> Any:
    account = str(request.path_params["account"])
    return {"said": await service.engine.check_account(account)}


@_answer
async def accounts(service: Service, request: Request, body: dict[str, Any]) -> Any:
    return {"accounts": service.accounts()}


@_answer
async def shutdown(service: Service, request: Request, body: dict[str, Any]) -> Any:
    service.stop(resume_later=bool(body.get("resume", True)))
    return {"ok": True}


def _events(service: Service) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            error = error_to_wire(UsageError("since takes a sequence number"))
            return JSONResponse(error, status_code=400)

        async def lines() -> AsyncIterator[bytes]:
            # One chunk per batch: a client wakes once for a burst, not once a record.
            async for batch in service.feed.batches(since):
                yield b"".join(
                    json.dumps(record, separators=(",", ":")).encode() + b"\n" for record in batch
                )

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return handle


def build_app(service: Service) -> Starlette:
    """The ASGI app for ``service``."""
    s = "/sessions/{session}"
    a = "/accounts/{account}"
    table: list[tuple[str, Any, str]] = [
        ("/status", status, "GET"),
        ("/resources", resources, "GET"),
        ("/snapshot", snapshot, "GET"),
        ("/batch", batch, "POST"),
        ("/preview", preview, "POST"),
        ("/accounts", accounts, "GET"),
        ("/shutdown", shutdown, "POST"),
        (f"{s}/parts", parts, "GET"),
        (f"{s}/start", start, "POST"),
        (f"{s}/pause", pause, "POST"),
        (f"{s}/retry", retry, "POST"),
        (f"{s}/complete", complete, "POST"),
        (f"{s}/abort", abort, "POST"),
        (f"{s}/verify", verify, "POST"),
        (f"{s}/inspect", inspect, "POST"),
        (f"{s}/remote-parts", remote_parts, "POST"),
        (f"{a}/uploads", remote_uploads, "POST"),
        (f"{a}/uploads/abort", remote_abort, "POST"),
        (f"{a}/check", check, "POST"),
    ]
    routes = [Route(path, bind(service), methods=[method]) for path, bind, method in table]
    routes.append(Route("/events", _events(service), methods=["GET"]))
    return Starlette(routes=routes)
