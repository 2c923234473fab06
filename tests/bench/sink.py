"""A minimal, fast S3-like multipart sink: keeps nothing, answers just enough.

Runs as its own process (``python -m tests.bench.sink``), prints its port on stdout, and
serves HTTP/1.1 with keep-alive on 127.0.0.1, one thread per connection. Part bodies are
read with ``recv_into`` into one reusable buffer and discarded. ETags are opaque
(``"sink-N"``), so clients cannot check them against an MD5 and neither side pays for one;
the checksums a part carries are echoed, unchecked, as S3 echoes the ones it checked.
``GET /__stats`` answers with the bytes and parts received so far, as JSON.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx

RECV = 1024 * 1024
"""Bytes received at a time from a part body."""
MAX_HEAD = 64 * 1024
"""A request head larger than this is refused."""

_XMLNS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


class Stats:
    """Counters shared by every connection."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bytes = 0
        self.parts = 0
        self.uploads = 0
        self.aborted: set[str] = set()

    def add_part(self, size: int) -> None:
        with self.lock:
            self.bytes += size
            self.parts += 1

    def new_upload(self) -> str:
        with self.lock:
            self.uploads += 1
            return f"sink-upload-{self.uploads}"

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"bytes": self.bytes, "parts": self.parts}).encode()


class Connection:
    """One keep-alive client connection, served request by request."""

    def __init__(self, sock: socket.socket, stats: Stats) -> None:
        self.sock = sock
        self.stats = stats
        self.pending = bytearray()
        self.buffer = memoryview(bytearray(RECV))

    def serve(self) -> None:
        """Answer requests until the client closes the connection."""
        try:
            while self._one():
                pass
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            self.sock.close()

    def _read_head(self) -> bytes | None:
        while True:
            end = self.pending.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.pending[:end])
                del self.pending[: end + 4]
                return head
            if len(self.pending) > MAX_HEAD:
                raise ValueError("request head too large")
            data = self.sock.recv(65536)
            if not data:
                return None
            self.pending += data

    def _discard(self, length: int) -> None:
        """Read and drop ``length`` body bytes."""
        taken = min(length, len(self.pending))
        del self.pending[:taken]
        remaining = length - taken
        while remaining:
            n = self.sock.recv_into(self.buffer, min(remaining, RECV))
            if not n:
                raise ConnectionError("client closed mid-body")
            remaining -= n

    def _one(self) -> bool:
        head = self._read_head()
        if head is None:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._send(411, b"", close=True)
            return False
        length = int(headers.get("content-length", "0"))
        self._discard(length)
        status, extra, body = self._answer(method, target, length)
        if method == "PUT" and status == 200:
            # As S3 does, it echoes the checksums a part carried (unchecked: it is a sink).
            extra.update({k: v for k, v in headers.items() if k.startswith("x-amz-checksum-")})
        close = headers.get("connection", "").lower() == "close"
        self._send(status, body, extra, close=close)
        return not close

    def _answer(self, method: str, target: str, length: int) -> tuple[int, dict[str, str], bytes]:
        """(status, extra headers, body) for one request."""
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        upload_id = query.get("uploadId", [""])[0]
        key = url.path.lstrip("/")
        if method == "PUT" and "partNumber" in query:
            self.stats.add_part(length)
            return 200, {"ETag": f'"sink-{query["partNumber"][0]}"'}, b""
        if method == "POST" and "uploads" in query:
            new_id = self.stats.new_upload()
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult {_XMLNS}>'
                f"<Bucket>bench</Bucket><Key>{key}</Key><UploadId>{new_id}</UploadId>"
                "</InitiateMultipartUploadResult>"
            )
            return 200, {"Content-Type": "application/xml"}, xml.encode()
        if method == "POST" and upload_id:
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult {_XMLNS}>'
                f"<Location>/{key}</Location><Key>{key}</Key><ETag>&quot;sink-done&quot;</ETag>"
                "</CompleteMultipartUploadResult>"
            )
            return 200, {"Content-Type": "application/xml"}, xml.encode()
        if method == "DELETE":
            self.stats.aborted.add(upload_id)
            return 204, {}, b""
        if method == "GET" and url.path == "/__stats":
            return 200, {"Content-Type": "application/json"}, self.stats.as_json()
        if method == "GET" and upload_id:
            return self._list_parts(key, upload_id)
        return 200, {}, b""

    def _list_parts(self, key: str, upload_id: str) -> tuple[int, dict[str, str], bytes]:
        if upload_id in self.stats.aborted:
            xml = "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>"
            return 404, {"Content-Type": "application/xml"}, xml.encode()
        xml = (
            f"<ListPartsResult {_XMLNS}><Key>{key}</Key><UploadId>{upload_id}</UploadId>"
            "<IsTruncated>false</IsTruncated></ListPartsResult>"
        )
        return 200, {"Content-Type": "application/xml"}, xml.encode()

    def _send(
        self, status: int, body: bytes, extra: dict[str, str] | None = None, *, close: bool = False
    ) -> None:
        reason = {200: "OK", 204: "No Content", 404: "Not Found", 411: "Length Required"}
        lines = [f"HTTP/1.1 {status} {reason.get(status, 'OK')}"]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        if status != 204:
            lines.append(f"Content-Length: {len(body)}")
        lines.append(f"Connection: {'close' if close else 'keep-alive'}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def serve(port: int = 0) -> None:
    """Listen on 127.0.0.1:``port`` (0 for any), print the port, serve forever."""
    stats = Stats()
    listener = socket.create_server(("127.0.0.1", port), backlog=128)
    print(listener.getsockname()[1], flush=True)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=Connection(sock, stats).serve, daemon=True).start()


@contextmanager
def sink_server() -> Iterator[str]:
    """Run the sink in its own process; yield its base URL; stop it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.sink"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        if not port:
            raise RuntimeError("the sink did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stats(url: str) -> dict[str, int]:
    """The sink's byte and part counters."""
    result: dict[str, int] = httpx.get(f"{url}/__stats", timeout=10).json()
    return result


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
