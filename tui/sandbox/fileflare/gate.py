"""What every API call passes first: the call count, the throttle, then the Bearer token."""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.context import EmulatorContext
from tui.sandbox.fileflare.errors import ApiError

RATE_LIMIT = 60
RATE_WINDOW = 60.0

Handler = Callable[[Request], Awaitable[Response]]


class RateLimiter:
    """Laravel's fixed-window throttle: ``limit`` hits per ``window`` seconds per key."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.windows: dict[str, tuple[float, int]] = {}
        self.refused = 0

    def hit(self, key: str) -> dict[str, str]:
        """Count one request; its rate headers, or ApiError 429 when over the limit."""
        limit = int(self.ctx.options.get("rate_limit", RATE_LIMIT) or 0)
        if limit <= 0:
            return {}
        window = float(self.ctx.options.get("rate_window", RATE_WINDOW))
        now = self.ctx.clock()
        start, count = self.windows.get(key, (now, 0))
        if not start <= now < start + window:
            start, count = now, 0
        reset = start + window
        if count >= limit:
            self.refused += 1
            raise ApiError(
                429,
                "Too Many Attempts.",
                headers={
                    "Retry-After": str(max(1, math.ceil(reset - now))),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(math.ceil(reset)),
                },
            )
        self.windows[key] = (start, count + 1)
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - count - 1)}


class Gate:
    """Counts API calls by route, throttles them and checks their token."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.limiter = RateLimiter(ctx)
        self.calls: Counter[str] = Counter()

    def guard(self, name: str, handler: Handler) -> Handler:
        """Throttle, then authenticate, then run ``handler``; errors become JSON."""

        async def endpoint(request: Request) -> Response:
            self.calls[name] += 1
            auth = request.headers.get("authorization", "")
            rate_headers: dict[str, str] = {}
            try:
                client = request.client.host if request.client else "unknown"
                rate_headers = self.limiter.hit(auth or client)
                scheme, _, token = auth.partition(" ")
                if scheme.lower() != "bearer" or not secrets.compare_digest(
                    token.strip().encode(), self.ctx.token.encode()
                ):
                    raise ApiError(401, "Unauthenticated.")
                response = await handler(request)
            except ApiError as exc:
                response = exc.response()
            response.headers.update(rate_headers)
            return response

        return endpoint
