"""Who may call the Box emulator: every API call but the test aids shows a Bearer token,
the developer token (``ctx.token``) or one the OAuth endpoints handed out (``oauth``)
that has not run out.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tui.sandbox.box.oauth import BoxTokens
from tui.sandbox.context import EmulatorContext


class BoxAuth:
    """Checks a request's ``Authorization`` header against the tokens this emulator accepts."""

    def __init__(self, ctx: EmulatorContext, tokens: BoxTokens | None = None) -> None:
        self.ctx = ctx
        self.tokens = tokens or BoxTokens(ctx)

    def accepts(self, header: str) -> bool:
        """Whether an ``Authorization`` header value carries an accepted token."""
        return self._problem(header) is None

    def _problem(self, header: str) -> str | None:
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer":
            return "invalid"
        return self.tokens.check(token)

    def refusal(self, request: Request) -> Response | None:
        """None when the request's token is accepted; else Box's 401."""
        problem = self._problem(request.headers.get("authorization", ""))
        if problem is None:
            return None
        said = "has expired" if problem == "expired" else "is invalid"
        # Box answers a bad token with an empty 401 and the reason in WWW-Authenticate.
        return Response(
            status_code=401,
            headers={
                "WWW-Authenticate": 'Bearer realm="Service", error="invalid_token", '
                f'error_description="The access token provided {said}."'
            },
        )
