"""Who may call the Box emulator: every API call but the test aids shows a Bearer token.

The one place tokens are checked, so another way to get one (an OAuth token endpoint,
tokens with lifetimes) changes this module only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.context import EmulatorContext


class BoxAuth:
    """Checks a request's ``Authorization`` header against the tokens this emulator accepts."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx

    def accepts(self, header: str) -> bool:
        """Whether an ``Authorization`` header value carries an accepted token."""
        return header == f"Bearer {self.ctx.token}"

    def refusal(self, request: Request) -> Response | None:
        """None when the request's token is accepted; else Box's 401."""
        if self.accepts(request.headers.get("authorization", "")):
            return None
        # Box answers a bad token with an empty 401 and the reason in WWW-Authenticate.
        return Response(
            status_code=401,
            headers={
                "WWW-Authenticate": 'Bearer realm="Service", error="invalid_token", '
                'error_description="The access token provided is invalid."'
            },
        )
