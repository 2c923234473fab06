"""A gateway in front of moto that checks requests the way S3 does.

moto accepts any signature, any expired presigned URL, any Content-MD5 and any checksum.
This gateway refuses them with S3's own status codes and XML errors (the digests and
checksums are checked in ``s3checks``, the signatures in ``s3signatures``), so expiry and
tampering can be tested, then forwards what passes to moto unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.core import checksums
from tui.sandbox.faults import Faults, part_fault_response
from tui.sandbox.s3checks import FullObjectChecks, Rejection, check_digests
from tui.sandbox.s3signatures import SignatureChecker

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


def _signature(query: Mapping[str, str], authorization: str) -> str:
    """The signature a request carries: presigned, SigV4 header or V2 header; or ''."""
    if "X-Amz-Signature" in query:
        return query["X-Amz-Signature"]
    if authorization.startswith("AWS "):
        return authorization.rpartition(":")[2]
    return authorization.rpartition("Signature=")[2] if "Signature=" in authorization else ""


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
