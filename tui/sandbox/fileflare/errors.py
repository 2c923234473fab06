"""Fileflare's error answers, in Laravel's JSON shape."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

SERVER_ERROR = "Server Error"
"""Laravel's body message for an unhandled exception in production."""
NO_ASSET = "No query results for model [App\\Models\\Asset]."
"""Laravel's model binding's 404 message for an asset it cannot find."""


class ApiError(Exception):
    """An error answer in Laravel's JSON shape."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> Response:
        """The JSON answer."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def invalid(errors: dict[str, list[str]]) -> ApiError:
    """A 422 with Laravel's summary message: the first problem and how many more."""
    first = next(iter(errors.values()))[0]
    more = sum(len(v) for v in errors.values()) - 1
    if more:
        first += f" (and {more} more error{'s' if more > 1 else ''})"
    return ApiError(422, first, errors)
