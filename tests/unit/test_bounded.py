"""Tests for tui.core.bounded: the engine's client reads no answer past its limit.

Every answer comes from a real HTTP server on loopback, over a real socket: an endless
chunked body, a declared length past the limit, a gzip bomb, and honest answers at the
limit, which must still be read whole.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tui.core.bounded import MAX_ANSWER, AnswerRefused
from tui.core.errors import TransientError
from tui.core.transfer import make_client, network_error

LIMIT = 256 * 1024
"""The limit these tests give the client: small, so that a test reads little."""

sent: dict[str, int] = {}
"""Bytes the endless answer managed to write before its client went away."""
gave_up = threading.Event()
"""Set when the endless answer stops writing."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, body: bytes, **headers: str) -> None:
        self.send_response(200)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"%x\r\n%s\r\n" % (16 * 1024, b"x" * 16 * 1024)
            sent["/endless"] = 0
            gave_up.clear()
            try:
                while sent["/endless"] < 64 * 1024 * 1024:  # a safety stop for a failing test
                    self.wfile.write(chunk)
                    sent["/endless"] += 16 * 1024
            except OSError:
                pass
            gave_up.set()
            self.close_connection = True
        elif self.path == "/declared":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024**3))
            self.end_headers()
            self.wfile.write(b"x" * 1024)
            time.sleep(2)  # the rest never comes: a reader that waits for it hangs
            self.close_connection = True
        elif self.path == "/bomb":
            self._answer(gzip.compress(bytes(8 * LIMIT)), **{"Content-Encoding": "gzip"})
        elif self.path == "/identity":
            self._answer(b"{}", **{"Content-Encoding": "identity"})
        elif self.path == "/at-limit":
            self._answer(b"y" * LIMIT)
        elif self.path == "/chunked-at-limit":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(4):
                self.wfile.write(b"%x\r\n%s\r\n" % (LIMIT // 4, b"z" * (LIMIT // 4)))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/accept-encoding":
            self._answer(self.headers.get("Accept-Encoding", "").encode())
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def _get(url: str) -> httpx.Response:
    async with make_client(2, max_answer=LIMIT) as client:
        return await client.get(url)


async def test_an_endless_answer_is_read_no_further_than_the_limit(server: str) -> None:
    with pytest.raises(AnswerRefused) as refused:
        await _get(f"{server}/endless")
    assert str(refused.value) == "the server's answer ran past 256 KiB, so it was not read"
    assert await asyncio.to_thread(gave_up.wait, 30), "the server never noticed"
    # What it wrote past the limit sat in socket buffers: nowhere near the 64 MiB it tried.
    assert LIMIT < sent["/endless"] < 16 * 1024 * 1024


async def test_a_declared_length_past_the_limit_is_refused_before_reading(server: str) -> None:
    # Reading would end in a broken connection (the rest never comes), not this refusal.
    with pytest.raises(AnswerRefused, match="ran past 256 KiB"):
        await _get(f"{server}/declared")


async def test_a_compressed_answer_is_refused_unread(server: str) -> None:
    with pytest.raises(AnswerRefused) as refused:
        await _get(f"{server}/bomb")
    assert str(refused.value) == (
        "the server's answer came compressed (gzip) though none was asked for, so it was not read"
    )


async def test_the_client_asks_for_no_compression(server: str) -> None:
    assert (await _get(f"{server}/accept-encoding")).text == "identity"
    assert (await _get(f"{server}/identity")).json() == {}


@pytest.mark.parametrize("path", ["/at-limit", "/chunked-at-limit"])
async def test_an_answer_at_the_limit_is_read_whole(server: str, path: str) -> None:
    answer = await _get(f"{server}{path}")
    assert len(answer.content) == LIMIT


async def test_a_refused_answer_is_a_one_line_transient_error(server: str) -> None:
    with pytest.raises(AnswerRefused) as refused:
        await _get(f"{server}/endless")
    error = network_error(refused.value)
    assert isinstance(error, TransientError)
    assert error.code is None  # it reached the server: what the server did is unknown
    assert str(error) == (
        "the server's answer ran past 256 KiB, so it was not read (127.0.0.1); will retry"
    )
    assert error.settled.endswith("(127.0.0.1)")


def test_the_engine_limit_fits_the_largest_real_answer() -> None:
    """Polar hands out every part link of a file at once: 10,000 of them, each well under
    1 KiB of JSON, must fit with room to spare."""
    assert MAX_ANSWER >= 10_000 * 1024 * 4
