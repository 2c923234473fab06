"""OAuth 2.0 access tokens that renew themselves: a sign-in's refresh token, or client
credentials (Box's CCG), kept in the state dir's token store.

The protocol's pieces (the authorize URL, the token request's form, the redirect's
parsing and its ``state`` check) are authlib's; partdeck sends the requests on its own
httpx client, so TLS settings, timeouts and error lines are the same as every other call.

Refresh tokens are single use. A refresh takes the token store's lock across processes,
reads the store again (another process may have refreshed meanwhile: its access token is
used, and the refresh token it holds is never sent twice), refreshes, writes the new pair
atomically and lets go. A refused refresh (``invalid_grant``) raises ``SignInNeeded``:
the session stops, resumable, with the command that signs in again.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tui.core.errors import ConfigError, RejectedError, SignInNeeded, TransientError
from tui.core.token_store import StoredToken, TokenStore
from tui.core.transfer import answer_text, network_error
from tui.providers.jwt_assertion import JWT_GRANT
from tui.providers.tokens import RenewableToken

__all__ = ["OAuthApp", "OAuthToken", "SignIn", "authorize_url", "exchange_code"]

RENEW_MARGIN = 300.0
"""Renew an access token this many seconds before it runs out..."""
RENEW_SHARE = 0.2
"""...or, for a short-lived one, when this share of its life is left."""
LOCK_WAIT = 60.0
"""Seconds to wait for another process's refresh (a token request's own time-outs fit)."""
LOCK_POLL = 0.02


@dataclass(frozen=True)
class OAuthApp:
    """One account's OAuth app: where tokens come from and who asks for them."""

    account: str
    """The account's name (the token store's key, and the sign-in command's argument)."""
    label: str
    """How messages name the account, e.g. ``box account work``."""
    token_url: str
    client_id: str
    client_secret: Callable[[], str] = field(repr=False)
    """Reads the client secret (from its env var, command or file) when it is needed."""
    grant: str = "refresh_token"
    """``refresh_token`` (a sign-in, renewed by refresh), ``client_credentials`` or
    ``jwt`` (Box's server auth: an assertion signed with the app's key)."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """More form fields for a client-credentials request (Box's ``box_subject_type``...)."""
    redirect_uri: str | None = None
    assertion: Callable[[], str] | None = field(default=None, repr=False)
    """``jwt``: signs a fresh assertion for each token request."""


class OAuthToken(RenewableToken):
    """An access token from ``app``'s token endpoint, renewed ahead of its expiry and
    after a refusal; kept in ``store`` so every process on the account shares it."""

    def __init__(
        self,
        app: OAuthApp,
        store: TokenStore,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.app = app
        self._store = store
        self._client = client
        self._clock = clock
        self._held: StoredToken | None = None

    @property
    def expires_at(self) -> float | None:
        """When the access token held runs out (None: not known or none held yet)."""
        return None if self._held is None else self._held.expires_at

    def _fresh(self) -> bool:
        return _fresh(self._held, self._clock())

    async def _obtain(self, refused: str) -> str:
        async with _locked(self._store):
            stored = self._store.read(self.app.account)
            if stored is not None and stored.client_id not in (None, self.app.client_id):
                stored = None  # issued to another app (a copied config): not ours to use
            if (
                stored is not None
                and stored.access_token not in (refused, self._value)
                and _fresh(stored, self._clock())
            ):
                self._held = stored  # another process renewed it meanwhile
                return stored.access_token
            if self.app.grant == "client_credentials":
                token = await self._request(
                    {"grant_type": "client_credentials", **self.app.extra}, kind="ccg"
                )
            elif self.app.grant == "jwt" and self.app.assertion is not None:
                fields = {"grant_type": JWT_GRANT, "assertion": self.app.assertion()}
                token = await self._request(fields, kind="jwt")
            elif stored is None or not stored.refresh_token:
                raise SignInNeeded(
                    f"{self.app.label} is not signed in; run partdeck auth {self.app.account}"
                )
            else:
                fields = {"grant_type": "refresh_token", "refresh_token": stored.refresh_token}
                token = await self._request(fields, kind="oauth", previous=stored)
            self._store.write(self.app.account, token)
            self._held = token
            return token.access_token

    async def _request(
        self, fields: dict[str, str], *, kind: str, previous: StoredToken | None = None
    ) -> StoredToken:
        answer = await token_request(self._client, self.app, fields)
        refresh = answer.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            refresh = None if previous is None else previous.refresh_token
        return _stored(answer, self.app, kind, refresh, self._clock())


@dataclass(frozen=True)
class SignIn:
    """A sign-in started: the URL to open and the ``state`` its redirect must carry."""

    url: str
    state: str = field(repr=False)


def authorize_url(app: OAuthApp, authorize_endpoint: str) -> SignIn:
    """The URL that signs the user in and lets them grant partdeck access (any browser:
    the code it ends with is pasted back into the terminal)."""
    from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

    state = secrets.token_urlsafe(16)
    url = prepare_grant_uri(
        authorize_endpoint,
        app.client_id,
        "code",
        redirect_uri=app.redirect_uri,
        state=state,
    )
    return SignIn(url=str(url), state=state)


def code_of(answer: str, sign_in: SignIn) -> str:
    """The authorization code in what the user pasted: the code itself or the whole
    redirect URL (whose ``state`` must be the sign-in's)."""
    from authlib.oauth2.rfc6749.errors import MismatchingStateException, MissingCodeException
    from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response

    text = answer.strip()
    if "://" not in text and "?" not in text:
        if not text:
            raise ConfigError("no code was given; paste the code (or the whole URL) Box showed")
        return text
    if "?" not in text.split("://", 1)[-1]:
        raise ConfigError(
            "that URL carries no code; paste the address the browser went to after "
            "you granted access (it has ?code=...)"
        )
    try:
        params = parse_authorization_code_response(text, state=sign_in.state)
    except MismatchingStateException:
        raise ConfigError(
            "that URL belongs to another sign-in (its state differs); open the URL "
            "printed above and paste what it ends with"
        ) from None
    except MissingCodeException:
        raise ConfigError(
            "that URL carries no code (was access denied?); open the URL again and grant it"
        ) from None
    return str(params["code"])


async def exchange_code(
    client: httpx.AsyncClient, app: OAuthApp, store: TokenStore, code: str
) -> StoredToken:
    """Trade an authorization code for tokens and store them (under the store's lock)."""
    fields = {"grant_type": "authorization_code", "code": code}
    if app.redirect_uri:
        fields["redirect_uri"] = app.redirect_uri
    answer = await token_request(client, app, fields)
    refresh = answer.get("refresh_token")
    refresh = refresh if isinstance(refresh, str) else None
    token = _stored(answer, app, "oauth", refresh, time.time())
    async with _locked(store):
        store.write(app.account, token)
    return token


async def token_request(
    client: httpx.AsyncClient, app: OAuthApp, fields: Mapping[str, str]
) -> dict[str, Any]:
    """POST one token request (client id and secret in the form, as Box asks); the JSON
    answer, or the error that says what to do."""
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    grant = fields["grant_type"]
    rest = {k: v for k, v in fields.items() if k != "grant_type"}
    client_secret = app.client_secret()  # read once: it may run a command
    body = prepare_token_request(
        grant, client_id=app.client_id, client_secret=client_secret, **rest
    )
    what = f"{app.label}: token request ({grant})"
    try:
        response = await client.post(
            app.token_url,
            content=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
    except httpx.TransportError as exc:
        raise TransientError(f"{what}: {network_error(exc)}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"{what}: the token endpoint answered {response.status_code}")
    if not isinstance(data, dict):
        raise RejectedError(
            f"{what}: the token endpoint answered {response.status_code} without JSON; "
            "check the account's oauth_url"
        )
    error = data.get("error")
    if isinstance(error, str) or not response.is_success:
        secrets_sent = [v for k, v in rest.items() if k in ("code", "refresh_token", "assertion")]
        said = answer_text(response)
        for secret in (*secrets_sent, client_secret):
            said = said.replace(secret, "…") if secret else said
        raise _refusal(app, grant, str(error or response.status_code), said[:200])
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise RejectedError(f"{what}: the answer carries no access_token; check oauth_url")
    return data


def _refusal(app: OAuthApp, grant: str, error: str, said: str) -> Exception:
    """The line for a refused token request, by grant and OAuth error code (``said``: the
    answer, with what the request carried cut out)."""
    if grant == "refresh_token" and error == "invalid_grant":
        return SignInNeeded(
            f"{app.label}: Box refused the refresh token (invalid_grant: it was revoked, "
            f"expired or already used); sign in again with partdeck auth {app.account}"
        )
    if grant == "authorization_code" and error == "invalid_grant":
        return ConfigError(
            f"{app.label}: Box refused the code (invalid_grant: codes last 30 seconds and "
            f"work once); run partdeck auth {app.account} again and paste the new code quickly"
        )
    if grant == JWT_GRANT and error in ("invalid_grant", "invalid_request"):
        return ConfigError(
            f"{app.label}: Box refused the JWT assertion ({error}: {said or 'no reason'}); "
            "check public_key_id, subject_type and subject_id, that the key pair is the "
            "app's, and that the system clock is right"
        )
    if grant == "client_credentials" and error == "invalid_grant":
        return ConfigError(
            f"{app.label}: Box refused the client credentials grant (invalid_grant); check "
            "subject_type and subject_id, and that an admin authorized the app in the "
            "enterprise"
        )
    if error in ("invalid_client", "unauthorized_client"):
        return ConfigError(
            f"{app.label}: Box refused the app's client id or secret ({error}); check "
            "client_id and client_secret_env (or _command / _file) in the config"
        )
    return RejectedError(
        f"{app.label}: the token endpoint refused the {grant} request ({error}"
        f"{': ' + said if said and error not in said else ''}); check the account's settings"
    )


def _stored(
    answer: Mapping[str, Any], app: OAuthApp, kind: str, refresh: str | None, now: float
) -> StoredToken:
    expires_in = answer.get("expires_in")
    expires_at = now + float(expires_in) if isinstance(expires_in, int | float) else None
    return StoredToken(
        access_token=str(answer["access_token"]),
        expires_at=expires_at,
        issued_at=now,
        refresh_token=refresh,
        kind=kind,
        client_id=app.client_id,
    )


def _fresh(token: StoredToken | None, now: float) -> bool:
    """Whether ``token`` is good for now: more of its life left than the renewal margin
    (five minutes, or a fifth of its life for a short-lived one)."""
    if token is None:
        return False
    if token.expires_at is None:
        return True
    life = token.expires_at - (token.issued_at if token.issued_at is not None else now)
    return token.expires_at - now > min(RENEW_MARGIN, RENEW_SHARE * life)


@asynccontextmanager
async def _locked(store: TokenStore) -> AsyncIterator[None]:
    """Hold the token store's lock, polled so the loop never blocks on it and a cancelled
    wait leaves nothing held; another process holding it for long is a TransientError."""
    deadline = time.monotonic() + LOCK_WAIT
    while (fd := store.try_lock()) is None:
        if time.monotonic() > deadline:
            raise TransientError(
                f"the token store {store.path} stayed locked for {LOCK_WAIT:.0f} s (another "
                "partdeck is renewing a token); trying again later"
            )
        await asyncio.sleep(LOCK_POLL)
    try:
        yield
    finally:
        store.unlock(fd)
