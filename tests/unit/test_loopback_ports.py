"""Test servers make sure the port that answers is their own: two xdist workers may pick
one free port at once, and a server that lost the race must not use the other's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.support.loopback import PortTaken, listens, served


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_listens_tells_whose_socket_it_is() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert listens(os.getpid(), port)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
        try:
            assert not listens(child.pid, port)
        finally:
            child.kill()
            child.wait()


def test_a_server_that_lost_its_port_is_told() -> None:
    other = HTTPServer(("127.0.0.1", 0), _Ok)  # someone else answers on the port
    threading.Thread(target=other.serve_forever, daemon=True).start()
    port = other.server_address[1]
    try:
        sleeper = [sys.executable, "-c", "import time; time.sleep(30)"]  # ours never binds
        with (
            pytest.raises(PortTaken, match=f"port {port} is held by another process"),
            served(sleeper, f"http://127.0.0.1:{port}/", "the test server", port=port),
        ):
            pass
    finally:
        other.shutdown()
        other.server_close()
