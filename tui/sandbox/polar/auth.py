"""Who may call: the sandbox's access token, its scopes and the organization it stands for."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui.sandbox.context import EmulatorContext
from tui.sandbox.polar.errors import Invalid, entry, polar_error

WRITE_SCOPE = "files:write"
DEFAULT_SCOPES = ("files:read", WRITE_SCOPE)


def token_refusal(request: Request, ctx: EmulatorContext) -> Response | None:
    """None when the token is the sandbox's and has files:write; else Polar's refusal."""
    header = request.headers.get("authorization", "")
    if not header:
        return polar_error(401, "Unauthorized", "Unauthorized")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.strip() != ctx.token:
        # authlib's InvalidTokenError, as Polar's OAuth2 layer raises it.
        return JSONResponse(
            {
                "error": "invalid_token",
                "error_description": "The access token provided is expired, revoked, "
                "malformed, or invalid for other reasons.",
            },
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="polar", error="invalid_token"'},
        )
    scopes = ctx.options.get("scopes", DEFAULT_SCOPES)
    if isinstance(scopes, str):
        scopes = scopes.split()
    if WRITE_SCOPE not in scopes:
        return JSONResponse(
            {
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than "
                "provided by the access token.",
            },
            status_code=403,
            headers={
                "WWW-Authenticate": f'Bearer realm="polar", error="insufficient_scope", '
                f'scope="{WRITE_SCOPE}"'
            },
        )
    return None


def payload_organization(ctx: EmulatorContext, own: str, given: str | None, loc: list[Any]) -> str:
    """The organization a create is for (Polar's ``get_payload_organization``).

    ``own`` is the organization of the sandbox's token; ``given`` the body's
    ``organization_id``, which only a user token may (and must) set.
    """
    if ctx.options.get("token_kind", "organization") == "organization":
        if given is not None:
            raise Invalid(
                [
                    entry(
                        "organization_token",
                        loc,
                        "Setting organization_id is disallowed when using an organization token.",
                        given,
                    )
                ]
            )
        return own
    if given is None:
        raise Invalid([entry("missing", loc, "organization_id is required.", None)])
    if given != own:
        raise Invalid([entry("value_error", loc, "Organization not found.", given)])
    return given
