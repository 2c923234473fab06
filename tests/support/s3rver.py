"""s3rver (an independent S3 implementation in Node) in a subprocess on loopback.

It stores multipart uploads and completes them byte for byte, but lacks ListParts and
AbortMultipartUpload (405 MethodNotAllowed) and ListMultipartUploads (501
NotImplemented): the S3-compatible store with a partial API that partdeck must live with.

It is installed, not vendored: ``npm install --prefix .cache/s3rver s3rver@3.7.1``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.loopback import served_on_a_free_port

VERSION = "3.7.1"
ROOT = Path(__file__).resolve().parents[2] / ".cache" / "s3rver"
"""The project-local, git-ignored install directory."""
SCRIPT = ROOT / "node_modules" / "s3rver" / "bin" / "s3rver.js"
INSTALL = f"npm install --prefix .cache/s3rver s3rver@{VERSION}"
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
"""s3rver's one built-in key pair (its DUMMY_ACCOUNT)."""


@dataclass(frozen=True)
class S3rver:
    """A running s3rver."""

    url: str
    directory: Path


def missing() -> str | None:
    """Why s3rver cannot be started here (with the fix), or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH; install Node.js 20, then " + INSTALL
    package = ROOT / "node_modules" / "s3rver" / "package.json"
    if not SCRIPT.is_file() or f'"version": "{VERSION}"' not in package.read_text("utf-8"):
        return f"s3rver {VERSION} is not installed in {ROOT}; run: {INSTALL}"
    return None


@contextmanager
def s3rver_server(directory: Path) -> Iterator[S3rver]:
    """Serve s3rver on 127.0.0.1 only, storing in ``directory``; stop it on exit."""
    problem = missing()
    if problem is not None:
        raise RuntimeError(problem)

    def argv(port: int) -> list[str]:
        # -a 127.0.0.1: its default binds "localhost", which may be more than loopback v4;
        # --no-vhost-buckets: a Host of 127.0.0.1 is never read as a bucket name.
        return ["node", str(SCRIPT), "-d", str(directory), "-a", "127.0.0.1", "-p", str(port),
                "--silent", "--no-vhost-buckets"]  # fmt: skip

    with served_on_a_free_port(argv, "http://127.0.0.1:{port}/", "s3rver") as port:
        yield S3rver(url=f"http://127.0.0.1:{port}", directory=directory)
