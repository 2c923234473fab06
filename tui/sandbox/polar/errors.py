"""Polar's error answers: its own errors, FastAPI's 422 and the bare 500 of an S3 failure."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response


class Invalid(Exception):
    """Request validation failed: pydantic-style error entries for a 422."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


def entry(kind: str, loc: list[Any], msg: str, value: Any) -> dict[str, Any]:
    """One pydantic error entry: ``{"type", "loc", "msg", "input"}``."""
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def polar_error(status: int, kind: str, detail: str) -> JSONResponse:
    """One of Polar's own errors: ``{"type": <class name>, "detail": <message>}``."""
    return JSONResponse({"type": kind, "detail": detail}, status_code=status)


def validation_error(errors: list[dict[str, Any]]) -> JSONResponse:
    """FastAPI's 422 for a request that fails validation."""
    return JSONResponse({"detail": errors}, status_code=422)


def internal_error() -> Response:
    """What an uncaught exception (an S3 ClientError) gives: Starlette's bare 500."""
    return PlainTextResponse("Internal Server Error", status_code=500)
