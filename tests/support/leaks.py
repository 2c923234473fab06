"""Search text for secrets: known values (tokens, keys, signatures) and secret shapes.

A ``Leaks`` holds the secrets a test harvested (each with a label that says what it is,
never the value) and searches every place it is given: each value literally, a long
value also by distinctive 16-character slices (a truncated or wrapped copy still counts),
and every place also for the shapes a secret has whoever minted it (a presigned
signature, a bearer token, an AWS secret key setting). A find is reported by place and
label with a redacted slice, so the report itself never prints a secret.

``echo_server`` is the worst server a provider can meet: every answer (401, 403, 500, or
a 200 of HTML garbage) quotes back the token, signature and URL its request carried.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SLICE = 16
"""Length of the distinctive slices searched for besides a whole long value."""
MIN_SECRET = 12
"""Values shorter than this are not harvested (they would match by chance)."""

SHAPES: dict[str, re.Pattern[str]] = {
    "an X-Amz-Signature value": re.compile(r"(?i)x-amz-signature=[0-9a-f]{8,}"),
    "a SigV4 header signature": re.compile(r"(?i)\bsignature=[0-9a-f]{16,}"),
    "a bearer token": re.compile(r"(?i)\bbearer\s+(?!…|\.\.\.)[A-Za-z0-9._~+/=-]{6,}"),
    "an aws_secret_access_key setting": re.compile(r"(?i)aws_secret_access_key"),
}
"""Shapes searched for in every place, whoever minted the secret."""

PUBLIC_QUERY_KEYS = frozenset(
    {
        "uploadid",
        "partnumber",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-id",
    }
)
"""Query keys of presigned links whose values are not secret (ids, dates, scopes)."""

_TOKEN_PREFIX = re.compile(r"^sandbox-[a-z0-9]+-")


def redacted(value: str) -> str:
    """Enough of a secret to tell which one it was, and no more."""
    return f"{value[:4]}…({len(value)} chars)"


def distinctive_slices(value: str) -> set[str]:
    """Slices of a long secret that no other text holds by chance: the first and last
    16 characters of its random part (a sandbox token's ``sandbox-NAME-`` is not)."""
    body = _TOKEN_PREFIX.sub("", value)
    if len(body) < SLICE + 8:
        return set()
    return {body[:SLICE], body[-SLICE:]}


def query_secrets(url: str) -> list[tuple[str, str]]:
    """(key, value) of a URL's query parameters that may be secret (signatures, tokens)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    return [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k.lower() not in PUBLIC_QUERY_KEYS and len(v) >= MIN_SECRET
    ]


def urls_in(value: Any) -> Iterable[str]:
    """Every http(s) URL found in a JSON-like value (dicts, lists, strings)."""
    if isinstance(value, str):
        yield from re.findall(r"https?://[^\s\"'<>]+", value)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from urls_in(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from urls_in(v)


def svg_text(svg: str) -> str:
    """The text a Textual SVG screenshot shows, tags dropped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg))


@dataclass(repr=False)
class Leaks:
    """Secrets to look for, the places searched, and what was found where."""

    secrets: dict[str, str] = field(default_factory=dict)
    """Value -> label (what it is; the label never holds the value)."""
    texts: dict[str, str] = field(default_factory=dict)
    """Place -> the text searched there."""
    found: list[str] = field(default_factory=list)
    """One line per find: place, what was found, and a redacted slice."""

    def __repr__(self) -> str:  # pytest shows fixtures of a failed test: no secrets there
        return (
            f"Leaks({len(self.secrets)} secrets, {len(self.texts)} places, {len(self.found)} found)"
        )

    def add(self, label: str, value: str | None) -> None:
        """Look for ``value`` (a secret) from now on; short or empty values are skipped."""
        if value and len(value) >= MIN_SECRET and value not in self.secrets:
            self.secrets[value] = label

    def add_many(self, label: str, values: Iterable[str]) -> None:
        """Look for every one of ``values``, numbered under ``label``."""
        for i, value in enumerate(sorted(values), start=1):
            self.add(f"{label} #{i}", value)

    def add_link_secrets(self, label: str, remote: Any) -> int:
        """Look for the secret query values of every URL in a journal's ``remote`` JSON;
        returns how many there were (some may be known already, as signatures seen)."""
        values = [(k, v) for url in urls_in(remote) for k, v in query_secrets(url)]
        for key, value in values:
            self.add(f"{label} link {key}", value)
        return len(values)

    def search(self, place: str, text: str) -> None:
        """Search one place (kept for ``recheck``); record every secret or shape in it."""
        name, n = place, 1
        while name in self.texts:
            n += 1
            name = f"{place} ({n})"
        self.texts[name] = text
        self.found += self._finds(name, text)

    def _finds(self, place: str, text: str) -> list[str]:
        found: list[str] = []
        flat = html.unescape(text)
        for value, label in self.secrets.items():
            if value in flat:
                found.append(f"{place}: {label} {redacted(value)}")
                continue
            for piece in distinctive_slices(value):
                if piece in flat:
                    found.append(f"{place}: a slice of {label} {redacted(piece)}")
                    break
        for what, shape in SHAPES.items():
            match = shape.search(flat)
            if match is not None:
                found.append(f"{place}: {what} {redacted(match.group(0))}")
        return found

    def recheck(self) -> list[str]:
        """Every place searched so far, again, for every secret known now."""
        return [line for place, text in self.texts.items() for line in self._finds(place, text)]

    def report(self) -> str:
        """Every find, one per line (for an assertion message)."""
        return "\n".join(self.found)

    def assert_clean(self, start: int = 0) -> None:
        """Fail naming every find since ``start`` (a length of ``found``)."""
        new = self.found[start:]
        assert not new, f"{len(new)} secret(s) found:\n" + "\n".join(new)


@dataclass
class EchoServer:
    """A hostile server on loopback: every answer repeats the secrets the request carried."""

    url: str
    mode: str = "401"
    """``401``, ``403`` or ``500`` (an error answer), or ``garbage`` (200 with an HTML page)."""
    requests: int = 0
    seen: set[str] = field(default_factory=set)
    """Every secret a request carried (bearer tokens, access tokens, signatures)."""

    def api_url(self, url: str) -> str:
        """``url`` with its scheme and host replaced by this server's (the path kept)."""
        return self.url + urlsplit(url).path

    def answer(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request."""
        self.requests += 1
        auth = headers.get("authorization", "")
        access = headers.get("x-access-token", "")
        query = dict(parse_qsl(urlsplit(target).query))
        signature = query.get("X-Amz-Signature") or (
            auth.partition("Signature=")[2].split(",")[0] if "Signature=" in auth else ""
        )
        bare = signature or (auth.split()[-1] if auth else access)
        self.seen.update(v for v in (bare, access, signature) if v)
        said = (
            f"token {bare} is not valid; you sent Authorization: {auth}, X-Access-Token: "
            f"{access}, to {method} http://{headers.get('host', '')}{target}"
        )
        if self.mode == "garbage":
            return (
                200,
                "text/html",
                f"<html><body><p>{html.escape(said)}</p></body></html>".encode(),
            )
        status = int(self.mode)
        if signature or auth.startswith("AWS"):
            said_xml = html.escape(said)
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
                f"<Message>The request signature we calculated does not match. {said_xml}"
                f"</Message><StringToSign>AWS4-HMAC-SHA256 {html.escape(auth)}</StringToSign>"
                f"<SignatureProvided>{html.escape(signature)}</SignatureProvided>"
                f"<CanonicalRequest>{method} {html.escape(target)}</CanonicalRequest>"
                "<RequestId>0</RequestId></Error>"
            )
            return status, "application/xml", body.encode()
        fields = ("error", "message", "detail", "error_description", "type", "code", "title")
        document: dict[str, Any] = dict.fromkeys(fields, said)
        document["errors"] = [{"message": said, "code": said, "field": said}]
        document["context_info"] = {"errors": [{"reason": said, "message": said}]}
        return status, "application/json", json.dumps(document).encode()


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    """Serve an ``EchoServer`` on 127.0.0.1 from a thread while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    echo = EchoServer(f"http://127.0.0.1:{server.server_address[1]}")
    server.echo = echo  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield echo
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        echo: EchoServer = self.server.echo  # type: ignore[attr-defined]
        status, kind, body = echo.answer(self.command, self.path, headers)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the answers, not a request log."""
