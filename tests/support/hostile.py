"""A loopback proxy that answers chosen calls with hostile replies, over real sockets.

It sits in front of one sandbox server (an emulator, or an S3 gateway), forwards every
request as it came (the Host header too, so SigV4 signatures still hold) and, for a
request that matches a rule (method + path, optionally a query key), answers what the
rule says instead: an HTML page, an empty body, the real answer cut in half, the real
answer with every value of the wrong type, a huge body, a body that never ends, or a small
gzip body that inflates to hundreds of megabytes. The emulator's own URL is
rewritten to the proxy's in every answer, so the URLs a server hands out (Box's session
endpoints) lead back through the proxy.
"""

from __future__ import annotations

import functools
import http.client
import json
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

KINDS = ("html", "empty", "truncated", "retyped", "huge", "endless", "gzipped")
"""Every hostile reply a rule can give."""
FORWARDED = frozenset({"empty", "truncated", "retyped"})
"""Replies made from the real answer: the server did act, then its answer was mangled.
The others come from something in front that never asked it."""

HUGE = 8 * 1024 * 1024
"""Bytes of a ``huge`` reply."""
INFLATED = 256 * 1024 * 1024
"""Bytes a ``gzipped`` reply inflates to (it is about 250 KB on the wire)."""

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}
_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body>\n"
    b"<h1>We'll be back soon</h1>\n<p>Our engineers are working on it.</p>\n"
    b"<script>window.location='/status'</script>\n</body></html>\n"
)


def retype_json(value: Any) -> Any:
    """The same shape with every leaf of another type: text becomes a number, numbers and
    booleans become text, a null becomes an object, a list becomes an object."""
    if isinstance(value, dict):
        return {k: retype_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): retype_json(v) for i, v in enumerate(value)}
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value} bytes"
    if isinstance(value, str):
        return -1
    return {"unexpected": True}


def retype_xml(body: bytes) -> bytes:
    """An S3 answer with every leaf's text of the wrong kind: numbers become words, words
    become empty."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return b"<Error/>"
    for element in root.iter():
        if len(element) == 0:
            text = (element.text or "").strip()
            element.text = "NaN" if text.strip('"').isdigit() else ""
    return ElementTree.tostring(root)


def hostile_body(
    kind: str, status: int, content_type: str, body: bytes, *, xml: bool
) -> tuple[int, str, bytes]:
    """(status, content type, body) of a ``kind`` reply made from the real answer (S3's
    answers are XML, every other provider's JSON)."""
    if kind == "html":
        return 200, "text/html; charset=utf-8", _HTML
    if kind == "empty":
        return status, content_type, b""
    if kind == "truncated":
        return status, content_type, body[: max(1, len(body) // 2)]
    if kind == "retyped":
        if xml:
            return status, content_type, retype_xml(body)
        try:
            parsed = json.loads(body)
        except ValueError:
            return status, content_type, b'{"id": [], "upload_id": {}}'
        return status, "application/json", json.dumps(retype_json(parsed)).encode()
    if kind == "gzipped":
        return 200, content_type or "application/json", _bomb()
    if kind == "huge":
        if xml:
            filler = b"<Filler>" + b"A" * HUGE + b"</Filler>"
            return 200, "application/xml", b"<?xml version='1.0'?><Junk>" + filler + b"</Junk>"
        return 200, "application/json", b"[" + b"0," * (HUGE // 2) + b"0]"
    raise ValueError(f"unknown hostile reply {kind!r}")


@functools.cache
def _bomb() -> bytes:
    """A gzip body of INFLATED zero bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    block = bytes(1024 * 1024)
    return b"".join(
        [*(packer.compress(block) for _ in range(INFLATED // len(block))), packer.flush()]
    )


def _endless(wfile: Any) -> None:
    """Write a chunked body that never ends, until the client goes away."""
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"0" * 64 * 1024)
    try:
        while True:
            wfile.write(chunk)
    except OSError:  # the client stopped reading and closed the connection
        pass


@dataclass
class Rule:
    """Answer a ``kind`` reply to requests of ``method`` whose path matches ``path``."""

    method: str
    path: str
    """A regular expression the whole path (without the query) must match."""
    kind: str
    query: str | None = None
    """A query key the request must carry (``uploads``, ``uploadId``, ``partNumber``)."""
    hits: int = 0
    """How many requests it answered."""

    def matches(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        """True when a request of ``method`` to ``path`` with ``query`` is this rule's."""
        return (
            method == self.method
            and re.fullmatch(self.path, path) is not None
            and (self.query is None or self.query in query)
        )


@dataclass
class HostileProxy:
    """A running proxy in front of ``upstream``; ``url`` goes in the account's config."""

    upstream: str
    xml: bool = False
    """True in front of S3, whose answers are XML."""
    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, rule: Rule) -> Rule:
        """Start answering with ``rule``."""
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forward everything again."""
        with self._lock:
            self.rules.clear()

    def take(self, method: str, path: str, query: dict[str, list[str]]) -> Rule | None:
        """The first rule that matches a request, counted as used."""
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path, query):
                    rule.hits += 1
                    return rule
        return None

    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on unchanged; the answer with the upstream URL made ours."""
        conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            status, answer_headers = response.status, response.getheaders()
        finally:
            conn.close()
        payload = payload.replace(self.upstream.encode(), self.url.encode())
        out = [
            (k, v.replace(self.upstream, self.url))
            for k, v in answer_headers
            if k.lower() not in _HOP
        ]
        return status, out, payload

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients give up on hostile answers; no traceback on the test's stderr."""


def _handler(proxy: HostileProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _any(self) -> None:
            split = urlsplit(self.path)
            query = parse_qs(split.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            rule = proxy.take(self.command, split.path, query)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            kind = rule.kind if rule is not None else None
            if kind is None or kind in FORWARDED:
                status, answer, payload = proxy.forward(self.command, self.path, headers, body)
            else:
                status, answer, payload = 200, [], b""
            if kind == "endless":
                self.send_response(200)
                self.send_header("Content-Type", "application/xml" if proxy.xml else "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                _endless(self.wfile)
                self.close_connection = True
                return
            if kind is not None:
                content_type = next((v for k, v in answer if k.lower() == "content-type"), "")
                status, content_type, payload = hostile_body(
                    kind, status, content_type, payload, xml=proxy.xml
                )
                if status in (204, 304):  # these carry no body: a 200 with the junk instead
                    status = 200
                answer = [
                    (k, v)
                    for k, v in answer
                    if k.lower() not in ("content-type", "etag", "content-md5")
                ]
                answer.append(("Content-Type", content_type))
                if kind == "gzipped":
                    answer.append(("Content-Encoding", "gzip"))
            self.send_response(status)
            for k, v in answer:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _any

    return Handler


@contextmanager
def hostile_proxy(upstream: str, *, xml: bool = False) -> Iterator[HostileProxy]:
    """A HostileProxy in front of ``upstream`` for the length of a block."""
    proxy = HostileProxy(upstream, xml=xml)
    try:
        yield proxy
    finally:
        proxy.stop()


# -- hostile text: names and messages that try to drive the terminal ---------------------

HOSTILE_NAMES: dict[str, str] = {
    "osc-title-and-colour": "esc\x1b]0;PWNED\x07\x1b[31mred.bin",
    "csi-clear-screen": "\x1b[2J\x1b[Hwiped.bin",
    "c1-csi": "c1\x9b31mred.bin",
    "bidi-override": "invoice-\u202egnp.exe",
    "bidi-isolate-and-mark": "a\u2066b\u2069c\u200fd.bin",
    "newline": "line one\nline two.bin",
    "carriage-return-and-del": "over\rwrite\x7f.bin",
    "rich-markup": "[bold]loud [reverse]x.bin",
}
"""File names that would retitle, recolour, clear or reorder a terminal, split a line, or
be read as Rich markup, if shown as they are."""

TERMINAL_CONTROLS = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
"""What no human-readable output may hold: C0 but the line feed, DEL, C1, bidi controls
and Unicode line separators."""


def hidden_characters(text: str, *, live: bool = False) -> list[str]:
    """Terminal controls in ``text`` (line feeds end lines; a live progress line may also
    use carriage returns), each as its escape, for an assertion message."""
    found = [m.group(0) for m in TERMINAL_CONTROLS.finditer(text)]
    if live:
        found = [c for c in found if c != "\r"]
    return [c.encode("unicode_escape").decode() for c in found]
