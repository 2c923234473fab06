"""The data plane: stream one byte range from disk to one PartTarget with httpx.

A part is read from its file offset in bounded chunks in a worker thread and re-hashed
with xxh3 as it goes, so the bytes sent are proved to be the bytes planned. If they are
not (the file changed), the request is broken off before its last chunk, so the server
never receives a whole part of changed bytes.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import math
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import xxhash

from tui.core.bounded import MAX_ANSWER, AnswerRefused, bounded
from tui.core.digest import CHUNK, local_file_error, open_for_read, read_chunks
from tui.core.errors import (
    CallUnsupported,
    LocalChanged,
    RejectedError,
    RemoteError,
    TransientError,
)
from tui.core.ports import PartTarget

ProgressCallback = Callable[[int], None]

TIMEOUT = httpx.Timeout(connect=15.0, read=300.0, write=120.0, pool=None)
"""Connect fast or fail; allow slow servers to assemble (complete) and slow links to drain.
No pool timeout: the engine bounds parts in flight itself."""


def make_client(
    parts_in_flight: int,
    *,
    verify: bool = True,
    timeout: httpx.Timeout = TIMEOUT,
    max_answer: int = MAX_ANSWER,
) -> httpx.AsyncClient:
    """The one AsyncClient the engine shares, sized for ``parts_in_flight`` plus control
    calls; it reads no answer past ``max_answer`` bytes (see ``tui.core.bounded``)."""
    limits = httpx.Limits(
        max_connections=parts_in_flight + 8,
        max_keepalive_connections=parts_in_flight + 8,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        limits=limits,
        timeout=timeout,
        verify=verify,
        follow_redirects=False,
        headers={"User-Agent": "partdeck/0.1", "Accept-Encoding": "identity"},
        event_hooks={"response": [bounded(max_answer)]},
    )


class RateLimiter:
    """A token bucket shared by every transfer: ``rate`` bytes per second on average."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._clock = clock
        self._tokens = float(min(rate, CHUNK))
        self._last = clock()
        self._lock = asyncio.Lock()

    async def acquire(self, n: int) -> None:
        """Wait until ``n`` bytes may be sent."""
        async with self._lock:
            now = self._clock()
            self._tokens = min(float(self.rate), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            if self._tokens < 0:
                await asyncio.sleep(-self._tokens / self.rate)


@dataclass
class _Reader:
    """Reads one range chunk by chunk in a worker thread, hashing as it goes."""

    path: str
    start: int
    end: int
    expected_xxh3: str | None

    def __post_init__(self) -> None:
        self._fd = open_for_read(self.path)
        self._chunks = read_chunks(self._fd, self.start, self.end, CHUNK)
        self._hash = xxhash.xxh3_128()
        self._sent = 0

    def next_chunk(self) -> bytes | None:
        try:
            data = next(self._chunks, None)
        except OSError as exc:
            raise local_file_error(self.path, exc) from None
        if data is None:
            return None
        self._hash.update(data)
        self._sent += len(data)
        if self._sent == self.end - self.start:
            self._check()
        return data

    def _check(self) -> None:
        if self.expected_xxh3 is not None and self._hash.hexdigest() != self.expected_xxh3:
            raise LocalChanged(
                f"{self.path}: bytes {self.start:,}-{self.end:,} changed since they were "
                "fingerprinted; the part was not sent whole. Start a new upload of the file "
                "as it is now"
            )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


async def _body(
    reader: _Reader, limiter: RateLimiter | None, on_progress: ProgressCallback | None
) -> AsyncIterator[bytes]:
    try:
        if reader.start == reader.end:
            reader._check()
        while True:
            data = await asyncio.to_thread(reader.next_chunk)
            if data is None:
                return
            if limiter is not None:
                await limiter.acquire(len(data))
            yield data
            if on_progress is not None:
                on_progress(len(data))
    finally:
        reader.close()


async def send_part(
    client: httpx.AsyncClient,
    target: PartTarget,
    path: str,
    start: int,
    end: int,
    *,
    expected_xxh3: str | None,
    on_progress: ProgressCallback | None = None,
    limiter: RateLimiter | None = None,
) -> httpx.Response:
    """Send ``[start, end)`` of ``path`` to ``target``; return the response (body read).

    Network failures become TransientError; a changed file becomes LocalChanged. The
    status code is left to the provider to judge.
    """
    reader = _Reader(path, start, end, expected_xxh3)
    headers = dict(target.headers)
    headers["Content-Length"] = str(end - start)
    try:
        response = await client.request(
            target.method,
            target.url,
            content=_body(reader, limiter, on_progress),
            headers=headers,
        )
    except httpx.TransportError as exc:
        raise network_error(exc) from None
    finally:
        reader.close()  # the body may never have started (connect failed)
    return response


NOT_SENT = "not-sent"
"""TransientError code of a request that never reached the server (safe to repeat)."""
BAD_CERTIFICATE = "bad-certificate"
"""RejectedError code of a TLS certificate that could not be verified."""


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts TLS checks may be off for."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def network_error(exc: httpx.TransportError) -> RemoteError:
    """A one-line error for a connect error, timeout or broken connection.

    Every one is a TransientError, except a TLS certificate that cannot be verified: a
    RejectedError, since asking again gets the same certificate.
    """
    host = exc.request.url.host if _has_request(exc) else "the server"
    problem = _certificate_problem(exc)
    if problem is not None:
        if is_loopback(host):
            fix = (
                "if it is a test server of yours, set verify_tls = false in its account "
                "(allowed for loopback hosts only), else give it a certificate this machine "
                "trusts"
            )
        else:
            fix = f"check that {host} is the server you meant and that its certificate is valid"
        return RejectedError(
            f"the TLS certificate of {host} could not be verified ({problem}); {fix}",
            code=BAD_CERTIFICATE,
        )
    if isinstance(exc, AnswerRefused):
        return TransientError(f"{exc} ({host}); will retry")
    kind = {
        httpx.ConnectTimeout: "connection timed out",
        httpx.ConnectError: "could not connect",
        httpx.ReadTimeout: "no answer in time",
        httpx.WriteTimeout: "sending stalled",
        httpx.PoolTimeout: "no free connection",
        httpx.RemoteProtocolError: "the server broke the connection",
        httpx.ReadError: "the connection was reset",
        httpx.WriteError: "the connection was reset while sending",
    }.get(type(exc), "network error")
    unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    return TransientError(f"{kind} ({host}); will retry", code=NOT_SENT if unsent else None)


def _certificate_problem(exc: BaseException) -> str | None:
    """What the TLS library said of the server's certificate, when that is what failed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            said = current.verify_message or current.reason or "certificate verify failed"
            return str(said).rstrip(".")
        current = current.__cause__ or current.__context__
    return None


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when no request is attached
    except RuntimeError:
        return False
    return True


_SECRET_PARAMS = frozenset(
    {"x-amz-signature", "x-amz-security-token", "signature", "access_token", "token"}
)


def request_secrets(response: httpx.Response) -> list[str]:
    """What the request behind ``response`` carried that is secret: its bearer or access
    token, its signature, a session token. Empty when the response has no request."""
    try:
        request = response.request
    except RuntimeError:
        return []
    found: list[str] = []
    scheme, _, rest = request.headers.get("authorization", "").partition(" ")
    if "Signature=" in rest:  # AWS4-HMAC-SHA256 Credential=..., Signature=hex
        found.append(rest.rpartition("Signature=")[2].split(",")[0].strip())
    elif scheme == "AWS":  # SigV2: AWS KEY:SIGNATURE
        found.append(rest.rpartition(":")[2])
    elif rest or scheme:
        found.append(rest.strip() or scheme)
    found += [
        v for k, v in request.headers.items() if k in ("x-access-token", "x-amz-security-token")
    ]
    found += [v for k, v in request.url.params.multi_items() if k.lower() in _SECRET_PARAMS]
    return [s for s in found if len(s) >= 8]


def answer_text(response: httpx.Response) -> str:
    """The server's answer as text with every secret its request carried cut out, so a
    server that quotes a token or a signature back cannot put it into a message."""
    text = response.text
    for secret in request_secrets(response):
        text = text.replace(secret, "…")
    return text


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a Retry-After header asks for (delta or HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "inf" and "nan" parse as floats but ask for no wait a clock can keep
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


NOT_IMPLEMENTED = frozenset({405, 501})
"""Statuses that say the server lacks the call (Method Not Allowed, Not Implemented):
never transient, since asking again gets the same answer."""


def check_transient(response: httpx.Response, what: str) -> None:
    """Raise TransientError for 429, 408 and 5xx answers other than 501; CallUnsupported
    for 501 and 405 (never worth repeating); leave other statuses alone."""
    status = response.status_code
    if status in NOT_IMPLEMENTED:
        raise CallUnsupported(
            f"{what}: the server does not support this request (HTTP {status}); asking again "
            "will not help: check the account's base_url",
            status=status,
        )
    if status >= 500 or status in (408, 429):
        label = "rate limited" if status == 429 else f"server error {status}"
        raise TransientError(
            f"{what}: {label}; will retry",
            status=status,
            retry_after=retry_after(response),
        )
