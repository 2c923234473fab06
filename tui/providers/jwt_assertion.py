"""Box's JWT server auth: the assertion an app signs with its private key to get an
access token for its enterprise or one of its users (no sign-in, no refresh token).

Signed by joserfc (authlib's JOSE library): RS256 over the claims Box names, with the
key's id in the header so Box knows which of the app's public keys to check it with.
Each assertion lives under a minute and carries a fresh ``jti`` (Box refuses one seen
before).
"""

from __future__ import annotations

import secrets
import time

from tui.core.errors import ConfigError

__all__ = ["ASSERTION_LIFETIME", "JWT_GRANT", "box_assertion"]

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
"""The grant type of a token request that carries an assertion."""
ASSERTION_LIFETIME = 45
"""Seconds an assertion is good for (Box takes at most 60)."""


def box_assertion(
    *,
    client_id: str,
    key_pem: bytes,
    passphrase: str | None,
    key_id: str,
    subject_type: str,
    subject_id: str,
    audience: str,
    label: str,
    now: float | None = None,
) -> str:
    """The signed assertion for one token request (ConfigError when the key cannot be used)."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import RSAKey

    try:
        key = RSAKey.import_key(key_pem, password=passphrase)
    except (ValueError, TypeError, JoseError) as exc:
        hint = "its passphrase is wrong or missing" if b"ENCRYPTED" in key_pem else "it is not"
        raise ConfigError(
            f"{label}: the private key cannot be read ({hint} an RSA key in PEM; "
            f"{type(exc).__name__}); check private_key_file and its passphrase setting"
        ) from None
    if not key.is_private:
        raise ConfigError(
            f"{label}: private_key_file holds a public key; point it at the private key "
            "(the PEM file Box's developer console gave you)"
        )
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": subject_id,
        "box_sub_type": subject_type,
        "aud": audience,
        "jti": secrets.token_urlsafe(24),
        "exp": issued + ASSERTION_LIFETIME,
        "iat": issued,
    }
    return str(jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key_id}, claims, key))
