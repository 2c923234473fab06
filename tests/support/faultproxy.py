"""A loopback HTTP proxy in front of an S3 server that logs requests and injects faults.

A real server over real sockets, for the answers moto never gives by itself: 500s,
connection resets, stalls, corrupted ETags, a 200 whose body is an ``<Error>``.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "date", "server"}


def s3_operation(method: str, query: dict[str, list[str]]) -> str:
    """Name the S3 operation a request is (create, upload_part, complete, ...)."""
    if method == "PUT" and "partNumber" in query:
        return "upload_part"
    if "uploads" in query:
        return "create" if method == "POST" else "list_uploads"
    if "uploadId" in query:
        return {"POST": "complete", "DELETE": "abort", "GET": "list_parts"}.get(method, "other")
    return {"HEAD": "head", "PUT": "put", "GET": "get"}.get(method, "other")


@dataclass
class Rule:
    """When a request matches ``op`` (and ``part``), do ``action`` instead of or to it.

    Actions: ``status`` (answer ``status`` with ``body``), ``reset`` (drop the connection),
    ``stall`` (wait ``delay`` seconds, then forward), ``corrupt_etag`` (forward, then change
    the ETag), ``corrupt_checksum`` (forward, then change every ``x-amz-checksum-*``
    value the server echoes), ``error_200`` (forward, then answer 200 with an S3 ``<Error>`` body).
    """

    op: str
    action: str
    part: int | None = None
    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    """How many matching requests it applies to; -1 for all."""
    delay: float = 0.0

    def matches(self, op: str, part: int | None) -> bool:
        return self.times != 0 and self.op == op and (self.part is None or self.part == part)


@dataclass(frozen=True)
class Seen:
    """One request the proxy saw."""

    method: str
    op: str
    part: int | None
    upload_id: str | None
    status: int | None
    action: str | None
    time: float


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients break connections on purpose in these tests; no traceback on stderr."""


class FaultProxy:
    """A running proxy; ``url`` goes in the account's endpoint_url."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def add(self, rule: Rule) -> Rule:
        """Add a fault rule."""
        with self._lock:
            self.rules.append(rule)
        return rule

    def ops(self, op: str) -> list[Seen]:
        """The requests seen of one operation."""
        with self._lock:
            return [s for s in self.seen if s.op == op]

    def _take(self, op: str, part: int | None) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(op, part):
                    if rule.times > 0:
                        rule.times -= 1
                    return rule
        return None

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _any(self) -> None:
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
                op = s3_operation(self.command, query)
                part = int(query["partNumber"][0]) if "partNumber" in query else None
                upload_id = query.get("uploadId", [None])[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy._take(op, part)
                action = rule.action if rule else None
                status: int | None = None
                try:
                    if rule is not None and rule.action == "reset":
                        self._reset()
                        return
                    if rule is not None and rule.action == "status":
                        status = rule.status
                        self._answer(rule.status, rule.body, rule.headers)
                        return
                    if rule is not None and rule.action == "stall":
                        time.sleep(rule.delay)
                    status, headers, payload = self._forward(body)
                    if rule is not None and rule.action == "corrupt_etag":
                        headers = [
                            (k, '"0123456789abcdef0123456789abcdef"')
                            if k.lower() == "etag"
                            else (k, v)
                            for k, v in headers
                        ]
                    if rule is not None and rule.action == "corrupt_checksum":
                        headers = [
                            (k, "AAAAAAAAAAA=")
                            if k.lower().startswith("x-amz-checksum-")
                            and k.lower() != "x-amz-checksum-type"
                            else (k, v)
                            for k, v in headers
                        ]
                    if rule is not None and rule.action == "error_200":
                        payload = (
                            b"<?xml version='1.0'?>\n<Error><Code>InternalError</Code>"
                            b"<Message>We encountered an internal error.</Message></Error>"
                        )
                        status = 200
                    self._answer(status, payload, dict(headers))
                finally:
                    proxy._record(
                        Seen(self.command, op, part, upload_id, status, action, time.monotonic())
                    )

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                conn.close()
                out = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
                return response.status, out, payload

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _reset(self) -> None:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        return Handler

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """A FaultProxy in front of ``upstream`` for the length of a block."""
    proxy = FaultProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
