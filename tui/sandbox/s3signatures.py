"""S3 request signatures checked as S3 checks them: SigV4 in the header or the query
string (presigned), SigV2 in the header (Wunderlist's part links), and temporary keys
(with their session token, refused once they expire). Recomputed with botocore's own
signers, never by hand; the gateway in :mod:`tui.sandbox.s3gateway` runs this first.
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from tui.sandbox.backend import SigV2Auth
from tui.sandbox.s3checks import Rejection

MAX_SKEW = 15 * 60
"""Seconds a header-signed request's date may be off, as on S3."""


def _amz_time(value: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        raise Rejection(
            400, "AuthorizationQueryParametersError", f"X-Amz-Date {value!r} is not a valid date"
        ) from None


def _scope(credential: str) -> tuple[str, str, str]:
    """(access key, date, region) from ``AK/20261121/us-east-1/s3/aws4_request``."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise Rejection(
            400, "AuthorizationQueryParametersError", "the credential scope is malformed"
        )
    return parts[0], parts[1], parts[2]


class SignatureChecker:
    """Recomputes SigV4 signatures (header-signed and presigned) for known key pairs."""

    def __init__(self, keys: Mapping[str, str], clock: Callable[[], float] = time.time) -> None:
        self.keys = dict(keys)
        self.clock = clock
        self.temporary: dict[str, tuple[str, float]] = {}
        """Temporary keys (as STS hands out): access key -> (session token, expiry)."""

    def issue(self, seconds: float) -> dict[str, str | int]:
        """New temporary keys good for ``seconds``, as a credential_process prints them."""
        access = "ASIA" + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = secrets.token_urlsafe(48)
        expires_at = self.clock() + seconds
        self.keys[access] = secret
        self.temporary[access] = (token, expires_at)
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
        return {
            "Version": 1,
            "AccessKeyId": access,
            "SecretAccessKey": secret,
            "SessionToken": token,
            "Expiration": when,
        }

    def _check_session(self, access_key: str, token: str | None) -> None:
        """Temporary keys need their session token, and work only until they expire."""
        held = self.temporary.get(access_key)
        if held is None:
            return
        if token != held[0]:
            raise Rejection(
                403, "InvalidToken", "The provided token is malformed or otherwise invalid."
            )
        if self.clock() >= held[1]:
            raise Rejection(400, "ExpiredToken", "The provided token has expired.")

    def _secret(self, access_key: str) -> str:
        secret = self.keys.get(access_key)
        if secret is None:
            raise Rejection(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        return secret

    def check(
        self,
        method: str,
        url: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        """Raise Rejection unless the request is signed by a known key and still valid."""
        params = dict(query)
        authorization = headers.get("authorization", "")
        if "X-Amz-Signature" in params:
            self._check_presigned(method, url, params, headers)
        elif authorization.startswith("AWS4-HMAC-SHA256 "):
            self._check_header_signed(method, url, headers, body)
        elif authorization.startswith("AWS "):
            self._check_v2(method, url, headers, authorization)
        else:
            raise Rejection(403, "AccessDenied", "Access Denied")

    def _check_v2(
        self, method: str, url: str, headers: Mapping[str, str], authorization: str
    ) -> None:
        """SigV2 header auth (``AWS KEY:SIGNATURE``), as Wunderlist's part links use."""
        access_key, _, signature = authorization[len("AWS ") :].partition(":")
        date = headers.get("x-amz-date") or headers.get("date", "")
        try:
            signed_at = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise Rejection(
                403, "AccessDenied", "AWS authentication requires a valid Date"
            ) from None
        if abs(self.clock() - signed_at) > MAX_SKEW:
            raise Rejection(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        signed = HTTPHeaders()
        for name, value in headers.items():
            signed[name] = value
        # With x-amz-date, S3 signs an empty Date line; else the request's own Date.
        date_line = "" if "x-amz-date" in headers else headers.get("date", "")
        auth = SigV2Auth(Credentials(access_key, self._secret(access_key)), date_line)
        expected = auth.get_signature(method, urlsplit(url), signed)
        if not hmac.compare_digest(expected, signature):
            raise Rejection(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature "
                "you provided. Check your key and signing method.",
            )

    def _check_presigned(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> None:
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise Rejection(
                400, "AuthorizationQueryParametersError", "X-Amz-Algorithm must be AWS4-HMAC-SHA256"
            )
        access_key, _, region = _scope(params.get("X-Amz-Credential", ""))
        signed_at = _amz_time(params.get("X-Amz-Date", ""))
        try:
            expires = int(params.get("X-Amz-Expires", ""))
        except ValueError:
            raise Rejection(
                400, "AuthorizationQueryParametersError", "X-Amz-Expires must be a number"
            ) from None
        if not 1 <= expires <= 604_800:
            raise Rejection(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be between 1 and 604800 seconds",
            )
        if self.clock() > signed_at + expires:
            raise Rejection(403, "AccessDenied", "Request has expired")
        signed = params.get("X-Amz-SignedHeaders", "host").split(";")
        unsigned_url = _drop_query_param(url, "X-Amz-Signature")
        request = AWSRequest(
            method=method, url=unsigned_url, headers={h: headers.get(h, "") for h in signed}
        )
        request.context["timestamp"] = params["X-Amz-Date"]
        auth = S3SigV4QueryAuth(
            Credentials(access_key, self._secret(access_key)), "s3", region, expires=expires
        )
        expected = auth.signature(
            auth.string_to_sign(request, auth.canonical_request(request)), request
        )
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            raise Rejection(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature "
                "you provided. Check your key and signing method.",
            )
        self._check_session(access_key, params.get("X-Amz-Security-Token"))

    def _check_header_signed(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        fields = dict(
            item.strip().split("=", 1)
            for item in headers["authorization"][len("AWS4-HMAC-SHA256 ") :].split(",")
            if "=" in item
        )
        access_key, _, region = _scope(fields.get("Credential", ""))
        amz_date = headers.get("x-amz-date", "")
        if abs(self.clock() - _amz_time(amz_date)) > MAX_SKEW:
            raise Rejection(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        content_sha = headers.get("x-amz-content-sha256", "")
        if content_sha != "UNSIGNED-PAYLOAD" and content_sha != hashlib.sha256(body).hexdigest():
            raise Rejection(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        signed = fields.get("SignedHeaders", "host").split(";")
        request = AWSRequest(
            method=method, url=url, data=body, headers={h: headers.get(h, "") for h in signed}
        )
        request.context["timestamp"] = amz_date
        auth = S3SigV4Auth(Credentials(access_key, self._secret(access_key)), "s3", region)
        expected = auth.signature(
            auth.string_to_sign(request, auth.canonical_request(request)), request
        )
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            raise Rejection(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature "
                "you provided. Check your key and signing method.",
            )
        self._check_session(access_key, headers.get("x-amz-security-token"))


def _drop_query_param(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote(p.split("=", 1)[0]) != name]
    return f"{base}?{'&'.join(kept)}" if kept else base
