"""Box's OAuth 2.0 endpoints on loopback, and the tokens they hand out.

As Box documents them: ``POST /oauth2/token`` (form-encoded; client id and secret in the
form) with the ``authorization_code``, ``refresh_token`` and ``client_credentials``
grants (CCG: ``box_subject_type`` ``enterprise`` or ``user`` and ``box_subject_id``) and
JWT server auth (an assertion checked against ``ctx.jwt_public_key``);
``POST /oauth2/revoke`` (a token, access or refresh, and its pair stop working); and
``GET /api/oauth2/authorize`` (account.box.com's sign-in page: here it grants at once,
redirecting to ``redirect_uri`` with ``code`` and ``state``, or showing the code when the
app has no redirect URI).

Access tokens live ``token_ttl`` seconds (``box.token_ttl=3`` in ``--faults``; Box's 60
minutes by default) on ``ctx.clock``; an expired one is answered 401 as Box does.
Refresh tokens are single use: a refresh hands out a new pair and the old refresh token
is spent; sending it again is ``invalid_grant``, counted as ``refresh_reused`` in
``/_sandbox/stats`` (a client that lets two processes refresh at once shows up there).
Authorization codes work once, for 30 seconds; ``ctx.sign_in_code`` (printed by
``partdeck sandbox``) works for as long as the sandbox runs, for trying the sign-in
offline. ``ctx.token``, the developer token, never expires.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from tui.sandbox.context import EmulatorContext

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
"""RFC 7523's grant type: Box's JWT server auth."""
CODE_LIFETIME = 30.0
"""Seconds an authorization code from the authorize page works (Box: 30 seconds)."""
REFRESH_LIFETIME = 60 * 86400.0
"""Seconds a refresh token works unused (Box: 60 days)."""
ENTERPRISE_ID = "sandbox-enterprise"
"""The enterprise a CCG app of this sandbox may act for (``box_subject_id``)."""
USER_ID = "11446498"
"""The sandbox user (``/users/me``'s id), the other CCG subject."""


@dataclass
class Grant:
    """One access token handed out, and the refresh token issued with it."""

    access_token: str
    expires_at: float
    refresh_token: str | None
    refresh_expires_at: float
    spent: bool = False
    """The refresh token was used (or revoked): sending it again is invalid_grant."""
    revoked: bool = False


class BoxTokens:
    """The tokens this emulator accepts, and the endpoints that hand them out."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self._grants: dict[str, Grant] = {}
        self._by_refresh: dict[str, Grant] = {}
        self._codes: dict[str, float] = {}
        self._jtis: set[str] = set()
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        """``tokens_issued``, ``refreshes``, ``refresh_reused``, ``ccg_grants``,
        ``code_grants``, ``expired_refused``: shown in ``/_sandbox/stats``."""

    # -- the check every API call makes ----------------------------------------------------

    def check(self, token: str) -> str | None:
        """None when ``token`` is good now; else why not (``invalid`` or ``expired``)."""
        if token and token == self.ctx.token:
            return None
        with self._lock:
            grant = self._grants.get(token)
            if grant is None or grant.revoked:
                return "invalid"
            if self.ctx.clock() >= grant.expires_at:
                self.counts["expired_refused"] += 1
                return "expired"
        return None

    # -- the endpoints ---------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """POST /oauth2/token: one of the three grants, form-encoded."""
        fields = await _form(request)
        if (
            fields.get("client_id") != self.ctx.client_id
            or fields.get("client_secret") != self.ctx.client_secret
            or not self.ctx.client_secret
        ):
            return oauth_error(400, "invalid_client", "The client credentials are invalid")
        grant_type = fields.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(fields.get("code", ""))
        if grant_type == "refresh_token":
            return self._refresh_grant(fields.get("refresh_token", ""))
        if grant_type == "client_credentials":
            return self._ccg(fields.get("box_subject_type", ""), fields.get("box_subject_id", ""))
        if grant_type == JWT_GRANT:
            return self._jwt(fields.get("assertion", ""))
        return oauth_error(400, "unsupported_grant_type", "Grant type is not supported")

    async def revoke(self, request: Request) -> Response:
        """POST /oauth2/revoke: the token given (access or refresh) and its pair stop."""
        form = await _form(request)
        if (
            form.get("client_id") != self.ctx.client_id
            or form.get("client_secret") != self.ctx.client_secret
        ):
            return oauth_error(400, "invalid_client", "The client credentials are invalid")
        token = form.get("token")
        with self._lock:
            grant = self._grants.get(str(token)) or self._by_refresh.get(str(token))
            if grant is not None:
                grant.revoked = grant.spent = True
                self.counts["revoked"] += 1
        return Response(status_code=200)

    async def authorize(self, request: Request) -> Response:
        """GET /api/oauth2/authorize: grants at once (a sandbox has one user)."""
        query = request.query_params
        if query.get("client_id") != self.ctx.client_id:
            return PlainTextResponse("unknown client_id", status_code=400)
        if query.get("response_type") != "code":
            return PlainTextResponse("response_type must be code", status_code=400)
        code = secrets.token_urlsafe(12)
        with self._lock:
            self._codes[code] = self.ctx.clock() + CODE_LIFETIME
        redirect = query.get("redirect_uri")
        if redirect:
            params = {"code": code, **({"state": s} if (s := query.get("state")) else {})}
            return RedirectResponse(f"{redirect}?{urlencode(params)}", status_code=302)
        return PlainTextResponse(f"Access granted. Your code: {code}\n")

    # -- the grants ------------------------------------------------------------------------

    def _code_grant(self, code: str) -> Response:
        with self._lock:
            expires = self._codes.pop(code, None)
            fixed = bool(code) and code == self.ctx.sign_in_code
            if not fixed and (expires is None or self.ctx.clock() >= expires):
                return oauth_error(400, "invalid_grant", "The authorization code has expired")
            self.counts["code_grants"] += 1
            return self._issue(with_refresh=True)

    def _refresh_grant(self, refresh_token: str) -> Response:
        with self._lock:
            grant = self._by_refresh.get(refresh_token)
            if grant is None or grant.revoked:
                return oauth_error(400, "invalid_grant", "Invalid refresh token")
            if grant.spent:
                self.counts["refresh_reused"] += 1
                return oauth_error(400, "invalid_grant", "Invalid refresh token")
            if self.ctx.clock() >= grant.refresh_expires_at:
                return oauth_error(400, "invalid_grant", "Refresh token has expired")
            grant.spent = True
            self.counts["refreshes"] += 1
            return self._issue(with_refresh=True)

    def _ccg(self, subject_type: str, subject_id: str) -> Response:
        allowed = {"enterprise": ENTERPRISE_ID, "user": USER_ID}
        if subject_type not in allowed:
            return oauth_error(
                400, "invalid_request", "box_subject_type must be enterprise or user"
            )
        if subject_id != allowed[subject_type]:
            return oauth_error(400, "invalid_grant", "Grant credentials are invalid")
        with self._lock:
            self.counts["ccg_grants"] += 1
            return self._issue(with_refresh=False)

    def _jwt(self, assertion: str) -> Response:
        """JWT server auth: an RS256/384/512 assertion signed by the app's key, under a
        minute long, for this token endpoint, with a ``jti`` never seen before."""
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import RSAKey

        if not self.ctx.jwt_public_key:
            return oauth_error(400, "invalid_grant", "The app has no public key")
        try:
            token = jwt.decode(
                assertion,
                RSAKey.import_key(self.ctx.jwt_public_key),
                algorithms=["RS256", "RS384", "RS512"],
            )
        except (JoseError, ValueError):
            return oauth_error(400, "invalid_grant", "Signature verification error")
        claims, now = token.claims, self.ctx.clock()
        allowed = {"enterprise": ENTERPRISE_ID, "user": USER_ID}
        problem = None
        if token.header.get("kid") != self.ctx.jwt_key_id:
            problem = "Public key id is not valid"
        elif claims.get("iss") != self.ctx.client_id:
            problem = "Please check the 'iss' claim"
        elif claims.get("aud") != f"{self.ctx.public_url}/oauth2/token":
            problem = "Please check the 'aud' claim"
        elif not isinstance(claims.get("exp"), int) or not now < claims["exp"] <= now + 60:
            problem = "Please check the 'exp' claim"
        elif allowed.get(str(claims.get("box_sub_type"))) != claims.get("sub"):
            problem = "Please check the 'sub' claim"
        elif len(str(claims.get("jti", ""))) < 16 or claims["jti"] in self._jtis:
            problem = "Please check the 'jti' claim"
        if problem is not None:
            return oauth_error(400, "invalid_grant", problem)
        with self._lock:
            self._jtis.add(str(claims["jti"]))
            self.counts["jwt_grants"] += 1
            return self._issue(with_refresh=False)

    def _issue(self, *, with_refresh: bool) -> Response:
        """A new access token (and refresh token); the lock is held."""
        now = self.ctx.clock()
        ttl = self.ctx.faults.spec.token_ttl
        grant = Grant(
            access_token=f"sandbox-box-access-{secrets.token_urlsafe(18)}",
            expires_at=now + ttl,
            refresh_token=f"sandbox-box-refresh-{secrets.token_urlsafe(24)}"
            if with_refresh
            else None,
            refresh_expires_at=now + REFRESH_LIFETIME,
        )
        self._grants[grant.access_token] = grant
        self.ctx.issued.append(grant.access_token)
        if grant.refresh_token is not None:
            self._by_refresh[grant.refresh_token] = grant
            self.ctx.issued.append(grant.refresh_token)
        self.counts["tokens_issued"] += 1
        body: dict[str, object] = {
            "access_token": grant.access_token,
            "expires_in": ttl,
            "restricted_to": [],
            "token_type": "bearer",
        }
        if grant.refresh_token is not None:
            body["refresh_token"] = grant.refresh_token
        return JSONResponse(body)


async def _form(request: Request) -> dict[str, str]:
    """The form-encoded body (Starlette's ``request.form()`` needs python-multipart)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def oauth_error(status: int, error: str, description: str) -> Response:
    """The token endpoint's error answer: ``{"error": ..., "error_description": ...}``."""
    return JSONResponse({"error": error, "error_description": description}, status_code=status)
