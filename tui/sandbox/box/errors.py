"""Box's error answers: its ClientError body, and part faults put in Box's shape."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse, Response

from tui.sandbox.box.store import BoxFile
from tui.sandbox.faults import CutResponse

HELP_URL = "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/"


def box_error(
    status: int, code: str, message: str, context_info: dict[str, Any] | None = None
) -> JSONResponse:
    """Box's ClientError body."""
    body = {
        "type": "error",
        "status": status,
        "code": code,
        "message": message,
        "context_info": context_info or {},
        "help_url": HELP_URL,
        "request_id": secrets.token_hex(6),
    }
    return JSONResponse(body, status_code=status)


def not_found() -> Response:
    """Box's 404 for a folder, file or session it does not have (or no longer has)."""
    return box_error(404, "not_found", "Could not find the specified resource")


def internal_error() -> Response:
    """Box's 500."""
    return box_error(500, "internal_server_error", "Internal Server Error")


def name_conflict(taken: BoxFile) -> Response:
    """The 409 for a name already used in the folder, naming the file that has it."""
    return box_error(
        409,
        "item_name_in_use",
        "Item with the same name already exists",
        {"conflicts": {"type": "file", "id": taken.id, "name": taken.name, "sha1": taken.sha1}},
    )


def as_box(response: Response) -> Response:
    """A part fault in Box's shape: Box errors are JSON, and it has no part links to expire."""
    if isinstance(response, CutResponse):
        return response
    if response.status_code == 403:
        return not_found()
    if response.status_code >= 500:
        return internal_error()
    return response
