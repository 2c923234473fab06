"""What a sandbox provider holds for a completed session."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tui.core.model import Session
from tui.sandbox.backend import BackendError
from tui.sandbox.runner import Sandbox


def _sandbox_get(sandbox: Sandbox, provider: str, path: str) -> httpx.Response:
    answer = httpx.get(sandbox.contexts[provider].public_url + path, timeout=30)
    answer.raise_for_status()
    return answer


def s3_key(sandbox: Sandbox, session: Session) -> str:
    """The key of the object an S3-backed provider made for ``session`` (not Box)."""
    remote = session.remote
    if session.provider == "fileflare":
        assets = {a["id"]: a for a in _sandbox_get(sandbox, "fileflare", "/_sandbox/assets").json()}
        return str(assets[remote["asset_id"]]["key"])
    if session.provider == "wunderlist":
        record: dict[str, Any] = _sandbox_get(
            sandbox, "wunderlist", f"/_sandbox/uploads/{remote['upload_id']}"
        ).json()
        return str(record["key"])
    return str(remote["key"])


def landed_bytes(sandbox: Sandbox, session: Session) -> bytes | None:
    """The bytes the provider holds for ``session``'s file; None when it holds none."""
    if session.provider == "box":
        location = session.location or ""
        if not location.startswith("box file "):
            return None
        file_id = location.split()[2]
        return _sandbox_get(sandbox, "box", f"/_sandbox/files/{file_id}/content").content
    backend = sandbox.backends[session.provider]
    try:
        return asyncio.run(backend.read(s3_key(sandbox, session)))
    except BackendError as exc:
        if exc.code == "NoSuchKey":
            return None
        raise
