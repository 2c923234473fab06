"""Tests for tui.core.transfer: Retry-After, transient statuses, the rate limiter, network
errors, and send_part against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import email.utils
import gc
import hashlib
import os
import random
import socket
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import xxhash

from tui.core import transfer
from tui.core.digest import CHUNK
from tui.core.errors import CallUnsupported, LocalChanged, LocalFileError, TransientError
from tui.core.ports import PartTarget
from tui.core.transfer import (
    RateLimiter,
    check_transient,
    network_error,
    retry_after,
    send_part,
)

# -- retry_after / check_transient -----------------------------------------------------------


def response(status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), (" 7 ", 7.0)],
)
def test_retry_after_seconds(value: str, expected: float) -> None:
    assert retry_after(response(503, **{"Retry-After": value})) == expected


def test_retry_after_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    now = 1_700_000_000.0
    monkeypatch.setattr(transfer.time, "time", lambda: now)
    value = email.utils.formatdate(now + 90, usegmt=True)
    assert retry_after(response(503, **{"Retry-After": value})) == pytest.approx(90.0)


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    assert retry_after(response(503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0


@pytest.mark.parametrize("value", ["soon", "tomorrow at noon", "12 parsecs", ""])
def test_retry_after_garbage_is_none(value: str) -> None:
    assert retry_after(response(503, **{"Retry-After": value})) is None


def test_retry_after_missing_is_none() -> None:
    assert retry_after(response(503)) is None


@pytest.mark.parametrize("status", [501, 405])
def test_check_transient_calls_a_missing_call_unsupported_never_transient(status: int) -> None:
    with pytest.raises(CallUnsupported) as info:
        check_transient(response(status), "list parts")
    assert not isinstance(info.value, TransientError)
    assert info.value.status == status
    assert str(info.value).startswith(
        f"list parts: the server does not support this request (HTTP {status})"
    )
    assert "will retry" not in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 408])
def test_check_transient_server_errors(status: int) -> None:
    with pytest.raises(TransientError) as info:
        check_transient(response(status), "part 3")
    assert info.value.status == status
    assert info.value.retry_after is None
    assert str(info.value) == f"part 3: server error {status}; will retry"


def test_check_transient_429_with_retry_after() -> None:
    with pytest.raises(TransientError) as info:
        check_transient(response(429, **{"Retry-After": "42"}), "part 1")
    assert info.value.status == 429
    assert info.value.retry_after == 42.0
    assert "rate limited" in str(info.value)


def test_check_transient_503_with_retry_after() -> None:
    with pytest.raises(TransientError) as info:
        check_transient(response(503, **{"Retry-After": "5"}), "complete")
    assert info.value.retry_after == 5.0


@pytest.mark.parametrize("status", [200, 201, 204, 301, 400, 403, 404, 409, 412])
def test_check_transient_leaves_other_statuses(status: int) -> None:
    check_transient(response(status), "part 1")  # no exception


# -- RateLimiter -----------------------------------------------------------------------------


@dataclass
class FakeTime:
    now: float = 1000.0
    delays: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    # Only transfer's view of asyncio is replaced; the test's event loop is untouched.
    shim = types.SimpleNamespace(sleep=fake.sleep, Lock=asyncio.Lock, to_thread=asyncio.to_thread)
    monkeypatch.setattr(transfer, "asyncio", shim)
    return fake


def test_rate_limiter_refuses_non_positive_rate() -> None:
    for rate in (0, -1):
        with pytest.raises(ValueError):
            RateLimiter(rate)


async def test_rate_limiter_burst_does_not_wait(fake_time: FakeTime) -> None:
    limiter = RateLimiter(1_000_000, clock=fake_time.clock)
    await limiter.acquire(500_000)
    await limiter.acquire(500_000)
    assert fake_time.delays == []
    await limiter.acquire(250_000)
    assert fake_time.delays == [pytest.approx(0.25)]


@pytest.mark.parametrize(("rate", "chunk"), [(1_000_000, 64 * 1024), (100_000, CHUNK)])
async def test_rate_limiter_average_rate(fake_time: FakeTime, rate: int, chunk: int) -> None:
    limiter = RateLimiter(rate, clock=fake_time.clock)
    start = fake_time.now
    burst = min(rate, CHUNK)
    total = 0
    for _ in range(300):
        await limiter.acquire(chunk)
        total += chunk
    elapsed = fake_time.now - start
    # Never faster than the rate plus the initial burst, and not needlessly slower.
    assert total <= rate * elapsed + burst + 1e-6
    assert total >= rate * elapsed + burst - chunk
    assert max(fake_time.delays) <= chunk / rate + 1e-9


async def test_rate_limiter_refills_while_idle(fake_time: FakeTime) -> None:
    limiter = RateLimiter(1000, clock=fake_time.clock)
    await limiter.acquire(1000)
    assert fake_time.delays == []
    fake_time.now += 10.0  # idle for 10 s: the bucket refills, but only to one second's worth
    await limiter.acquire(1000)
    assert fake_time.delays == []
    await limiter.acquire(500)
    assert fake_time.delays == [pytest.approx(0.5)]


# -- network_error ---------------------------------------------------------------------------

SIGNED = "https://bucket.example.com/up/key?partNumber=1&X-Amz-Signature=5ecret5ig"


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (httpx.ConnectTimeout, "connection timed out"),
        (httpx.ConnectError, "could not connect"),
        (httpx.ReadTimeout, "no answer in time"),
        (httpx.WriteTimeout, "sending stalled"),
        (httpx.PoolTimeout, "no free connection"),
        (httpx.RemoteProtocolError, "the server broke the connection"),
        (httpx.ReadError, "the connection was reset"),
        (httpx.WriteError, "the connection was reset while sending"),
        (httpx.ProxyError, "network error"),
        (httpx.UnsupportedProtocol, "network error"),
    ],
)
def test_network_error_messages(cls: type[httpx.TransportError], kind: str) -> None:
    request = httpx.Request("PUT", SIGNED)
    exc = cls(f"low-level detail about {SIGNED}\nsecond line", request=request)
    err = network_error(exc)
    assert isinstance(err, TransientError)
    message = str(err)
    assert message == f"{kind} (bucket.example.com); will retry"
    assert "\n" not in message
    assert "?" not in message
    assert "5ecret5ig" not in message


def test_network_error_without_request() -> None:
    err = network_error(httpx.ConnectError("refused"))
    assert str(err) == "could not connect (the server); will retry"


# -- send_part against a real loopback server ------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    declared: int | None
    body: bytes
    complete: bool


class Sink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.received: list[Received] = []
        self.arrived = threading.Condition()

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients break connections on purpose here; no traceback on stderr."""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, item: Received) -> None:
        with self.arrived:
            self.received.append(item)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


class SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Sink

    def do_PUT(self) -> None:
        length = self.headers.get("Content-Length")
        declared = int(length) if length is not None else None
        body = bytearray()
        if declared is not None:
            try:
                while len(body) < declared:
                    chunk = self.rfile.read(min(256 * 1024, declared - len(body)))
                    if not chunk:
                        break
                    body += chunk
            except OSError:
                pass
        complete = declared is not None and len(body) == declared
        self.server.record(
            Received(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                declared=declared,
                body=bytes(body),
                complete=complete,
            )
        )
        if not complete:
            self.close_connection = True
            if declared is None:
                self.send_response(411)
                self.send_header("Content-Length", "0")
                self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


FILE_SIZE = 2 * CHUNK + 54_321


@pytest.fixture(scope="module")
def file_data() -> bytes:
    return random.Random(99).randbytes(FILE_SIZE)


@pytest.fixture
def data_file(tmp_path: Path, file_data: bytes) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(file_data)
    return path


def fds_on(path: Path) -> set[str]:
    """This process's open file descriptors on ``path``."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found.add(fd)
        except OSError:
            pass  # closed meanwhile
    return found


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, FILE_SIZE), (CHUNK - 10, 2 * CHUNK + 10), (5, 17)],
)
async def test_send_part_sends_exactly_the_range(
    sink: Sink, data_file: Path, file_data: bytes, start: int, end: int
) -> None:
    progress: list[int] = []
    target = PartTarget(url=f"{sink.url}/bucket/key?partNumber=2", headers={"X-Test": "yes"})
    async with httpx.AsyncClient() as client:
        resp = await send_part(
            client,
            target,
            str(data_file),
            start,
            end,
            expected_xxh3=xxhash.xxh3_128_hexdigest(file_data[start:end]),
            on_progress=progress.append,
        )
    assert resp.status_code == 200
    [got] = sink.wait_for(1)
    assert got.method == "PUT"
    assert got.path == "/bucket/key?partNumber=2"
    assert got.body == file_data[start:end]
    assert got.headers["content-length"] == str(end - start)
    assert "transfer-encoding" not in got.headers
    assert got.headers["x-test"] == "yes"
    assert sum(progress) == end - start
    assert all(n <= CHUNK for n in progress)
    assert resp.headers["ETag"] == f'"{hashlib.md5(file_data[start:end]).hexdigest()}"'


async def test_send_part_without_fingerprint(sink: Sink, data_file: Path, file_data: bytes) -> None:
    async with httpx.AsyncClient() as client:
        resp = await send_part(
            client, PartTarget(url=f"{sink.url}/k"), str(data_file), 0, 1000, expected_xxh3=None
        )
    assert resp.status_code == 200
    assert sink.wait_for(1)[0].body == file_data[:1000]


async def test_send_part_empty_range(sink: Sink, data_file: Path) -> None:
    progress: list[int] = []
    async with httpx.AsyncClient() as client:
        resp = await send_part(
            client,
            PartTarget(url=f"{sink.url}/k"),
            str(data_file),
            0,
            0,
            expected_xxh3=xxhash.xxh3_128_hexdigest(b""),
            on_progress=progress.append,
        )
    assert resp.status_code == 200
    [got] = sink.wait_for(1)
    assert got.body == b""
    assert got.headers["content-length"] == "0"
    assert "transfer-encoding" not in got.headers
    assert sum(progress) == 0


async def test_send_part_wrong_fingerprint_is_broken_off(
    sink: Sink, data_file: Path, file_data: bytes
) -> None:
    progress: list[int] = []
    async with httpx.AsyncClient() as client:
        with pytest.raises(LocalChanged) as info:
            await send_part(
                client,
                PartTarget(url=f"{sink.url}/k"),
                str(data_file),
                0,
                FILE_SIZE,
                expected_xxh3="0" * 32,
                on_progress=progress.append,
            )
    message = str(info.value)
    assert "\n" not in message
    assert "not sent whole" in message
    [got] = sink.wait_for(1)
    assert not got.complete
    assert len(got.body) < FILE_SIZE
    assert got.body == file_data[: len(got.body)]
    assert sum(progress) < FILE_SIZE
    assert fds_on(data_file) == set()  # the file was closed


async def test_send_part_wrong_fingerprint_single_chunk(sink: Sink, data_file: Path) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(LocalChanged):
            await send_part(
                client,
                PartTarget(url=f"{sink.url}/k"),
                str(data_file),
                0,
                1000,
                expected_xxh3="0" * 32,
            )
    [got] = sink.wait_for(1)
    assert not got.complete
    assert got.body == b""


async def test_send_part_empty_range_wrong_fingerprint(sink: Sink, data_file: Path) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(LocalChanged) as info:
            await send_part(
                client,
                PartTarget(url=f"{sink.url}/k"),
                str(data_file),
                0,
                0,
                expected_xxh3="0" * 32,
            )
    # An empty PUT has no bytes to break off: its headers (Content-Length: 0) already make
    # a whole request, so only the client-side refusal can be checked here.
    assert "changed since they were fingerprinted" in str(info.value)


async def test_send_part_file_shrank_is_local_changed(
    sink: Sink, tmp_path: Path, file_data: bytes
) -> None:
    path = tmp_path / "short.bin"
    path.write_bytes(file_data[:1000])
    async with httpx.AsyncClient() as client:
        with pytest.raises(LocalChanged):
            await send_part(
                client, PartTarget(url=f"{sink.url}/k"), str(path), 0, 2000, expected_xxh3=None
            )
    [got] = sink.wait_for(1)
    assert not got.complete


async def test_send_part_missing_file(sink: Sink, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(LocalFileError) as info:
            await send_part(
                client,
                PartTarget(url=f"{sink.url}/k"),
                str(tmp_path / "missing"),
                0,
                10,
                expected_xxh3=None,
            )
    assert "no such file" in str(info.value)
    assert sink.received == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_send_part_connection_refused_is_transient(data_file: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/k?X-Amz-Signature=5ecret"
    async with httpx.AsyncClient() as client:
        with pytest.raises(TransientError) as info:
            await send_part(client, PartTarget(url=url), str(data_file), 0, 10, expected_xxh3=None)
    assert str(info.value) == "could not connect (127.0.0.1); will retry"


async def test_send_part_connection_refused_does_not_leak_fds(data_file: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/k"
    async with httpx.AsyncClient() as client:
        for _ in range(3):
            with pytest.raises(TransientError):
                await send_part(
                    client, PartTarget(url=url), str(data_file), 0, 10, expected_xxh3=None
                )
    gc.collect()
    assert fds_on(data_file) == set()


async def test_send_part_rate_limited(
    sink: Sink, data_file: Path, file_data: bytes, fake_time: FakeTime
) -> None:
    limiter = RateLimiter(CHUNK, clock=fake_time.clock)
    async with httpx.AsyncClient() as client:
        resp = await send_part(
            client,
            PartTarget(url=f"{sink.url}/k"),
            str(data_file),
            0,
            FILE_SIZE,
            expected_xxh3=None,
            limiter=limiter,
        )
    assert resp.status_code == 200
    assert sink.wait_for(1)[0].body == file_data
    # One chunk of burst, then the rest at CHUNK bytes per (fake) second.
    assert sum(fake_time.delays) == pytest.approx((FILE_SIZE - CHUNK) / CHUNK)
