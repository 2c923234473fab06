"""A gateway in front of moto that checks requests the way S3 does.

moto accepts any signature, any expired presigned URL, any Content-MD5 and any checksum.
This gateway refuses them with S3's own status codes and XML errors (the digests and
checksums are checked in ``s3checks``), so expiry and tampering can be tested, then
forwards what passes to moto unchanged. Signatures are recomputed with
botocore's SigV4 signer, never by hand.
"""

from __future__ import annotations

import calendar
import contextlib
import email.utils
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import httpx
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.core import checksums
from tui.sandbox.backend import SigV2Auth
from tui.sandbox.faults import Faults, part_fault_response
from tui.sandbox.s3checks import FullObjectChecks, Rejection, check_digests

MAX_SKEW = 15 * 60
"""Seconds a header-signed request's date may be off, as on S3."""
NO_SUCH_UPLOAD = (
    404,
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may "
    "have been aborted or completed.",
)
"""S3's answer to UploadPart, ListParts, CompleteMultipartUpload and AbortMultipartUpload
for an upload it does not hold."""
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "date", "server"}
)


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


def _signature(query: Mapping[str, str], authorization: str) -> str:
    """The signature a request carries: presigned, SigV4 header or V2 header; or ''."""
    if "X-Amz-Signature" in query:
        return query["X-Amz-Signature"]
    if authorization.startswith("AWS "):
        return authorization.rpartition(":")[2]
    return authorization.rpartition("Signature=")[2] if "Signature=" in authorization else ""


def _drop_query_param(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and unquote(p.split("=", 1)[0]) != name]
    return f"{base}?{'&'.join(kept)}" if kept else base


def _part_number(method: str, query: Mapping[str, str]) -> int | None:
    """The part number of an UploadPart request, else None."""
    if method != "PUT" or "uploadId" not in query:
        return None
    try:
        return int(query.get("partNumber", ""))
    except ValueError:
        return None


def _is_put_object(method: str, raw_path: str, query: Mapping[str, str]) -> bool:
    """True for a PutObject: a PUT of a key (``/bucket/key``) with no sub-resource (a
    presigned URL's ``X-Amz-*`` parameters are not one)."""
    resources = [k for k in query if not k.startswith("X-Amz-")]
    return method == "PUT" and not resources and "/" in raw_path.strip("/")


async def _upload_missing(client: httpx.AsyncClient, raw_path: str, upload_id: str) -> bool:
    """True when the S3 server behind says it holds no upload ``upload_id`` at ``raw_path``."""
    query = urlencode({"uploadId": upload_id, "max-parts": 1})
    answer = await client.get(f"{raw_path}?{query}")
    return answer.status_code == 404 and b"NoSuchUpload" in answer.content


def create_gateway(
    upstream: str,
    keys: Mapping[str, str],
    *,
    clock: Callable[[], float] = time.time,
    faults: Faults | None = None,
) -> Starlette:
    """The gateway app: check, then forward to the S3 server at ``upstream``.

    With ``faults``, part uploads are counted and broken as its spec says, and
    ``GET /_sandbox/stats`` reports the counts.
    """
    checker = SignatureChecker(keys, clock)
    full_object = FullObjectChecks()
    client = httpx.AsyncClient(base_url=upstream, timeout=httpx.Timeout(300.0))

    async def stats(request: Request) -> Response:
        return JSONResponse(faults.stats() if faults is not None else {})

    async def temporary_keys(request: Request) -> Response:
        """POST /_sandbox/temporary-keys?seconds=N: keys that expire, as STS's would."""
        seconds = float(request.query_params.get("seconds", "3600"))
        return JSONResponse(checker.issue(seconds))

    async def handle(request: Request) -> Response:
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode()
        raw_query = request.scope.get("query_string", b"").decode()
        host = request.headers.get("host", "")
        url = f"http://{host}{raw_path}" + (f"?{raw_query}" if raw_query else "")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        part = _part_number(request.method, query)
        single = part is None and _is_put_object(request.method, raw_path, query)
        if single:
            part = 1  # a PutObject is the one part of its upload: part faults hit it too
        if faults is not None:
            faults.saw_signature(_signature(query, request.headers.get("authorization", "")))
        if faults is not None and part is not None:
            faults.count_put(query.get("uploadId", raw_path), part)
            if not single and faults.gone_now(query["uploadId"]):
                await client.delete(raw_path, params={"uploadId": query["uploadId"]})
            broken = await part_fault_response(faults, part)
            if broken is not None:
                return broken
        body = await request.body()
        if faults is not None and part is not None and body and faults.damage(part):
            body = bytes([body[0] ^ 0xFF]) + body[1:]  # one byte changed on the way
        headers = {k.lower(): v for k, v in request.headers.items()}
        upload_id = query.get("uploadId")
        completing = request.method == "POST" and upload_id is not None
        try:
            checker.check(
                request.method, url, parse_qsl(raw_query, keep_blank_values=True), headers, body
            )
            refused = faults.refuses(headers) if faults is not None else None
            if refused is not None:
                raise Rejection(
                    400,
                    "InvalidArgument",
                    f"Unsupported header '{refused}' received for this API call.",
                )
            found = check_digests(headers, body, data=not completing)
            whole = (
                full_object.check_complete(upload_id, headers, body)
                if completing and upload_id is not None
                else None
            )
        except Rejection as rejection:
            return rejection.response()
        forwarded = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        upstream_response = await client.request(
            request.method,
            raw_path + (f"?{raw_query}" if raw_query else ""),
            content=body,
            headers=forwarded,
        )
        if (
            upstream_response.status_code == 500
            and request.method in ("PUT", "POST")
            and "uploadId" in query
            and await _upload_missing(client, raw_path, query["uploadId"])
        ):
            # moto answers a part or a complete for an upload it no longer holds with a
            # bare 500; S3 says 404 NoSuchUpload (ListParts and Abort already do on moto).
            return Rejection(*NO_SUCH_UPLOAD).response()
        out = {k: v for k, v in upstream_response.headers.items() if k.lower() not in _HOP_HEADERS}
        content = upstream_response.content
        if upstream_response.is_success and request.method == "PUT":
            # S3 echoes the checksums it checked (UploadPart and PutObject alike).
            out.update({checksums.algorithm(n).header: v for n, v in found.items()})
        if upstream_response.is_success and upload_id is not None:
            if part is not None and not single:
                full_object.took_part(upload_id, part, found, len(body))
            elif completing or request.method == "DELETE":
                full_object.forget(upload_id)
            if request.method == "GET" and part is None:  # ListParts
                content = full_object.list_parts(upload_id, content)
            if completing and whole is not None:  # S3 says the object's value too
                content = content.replace(
                    b"</CompleteMultipartUploadResult>",
                    f"{whole}<ChecksumType>FULL_OBJECT</ChecksumType>"
                    "</CompleteMultipartUploadResult>".encode(),
                )
        if faults is not None and part is not None and upstream_response.is_success:
            wrong = faults.corrupt(part, hashlib.md5(b"corrupted" + body[:64]).hexdigest())
            if wrong is not None:  # a garbled answer: the checksums it echoes too
                out = {k: v for k, v in out.items() if k.lower() != "etag"}
                out["ETag"] = f'"{wrong}"'
                for name in found:
                    out[checksums.algorithm(name).header] = checksums.checksum(name, wrong.encode())
        return Response(content, status_code=upstream_response.status_code, headers=out)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "PUT", "POST", "DELETE", "HEAD"]
    return Starlette(
        routes=[
            Route("/_sandbox/stats", stats, methods=["GET"]),
            Route("/_sandbox/temporary-keys", temporary_keys, methods=["POST"]),
            Route("/", handle, methods=methods),
            Route("/{path:path}", handle, methods=methods),
        ],
        lifespan=lifespan,
    )
