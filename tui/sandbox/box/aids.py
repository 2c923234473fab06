"""Test aids outside Box's API, without auth: counts, committed files, raw sessions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui.sandbox.box.errors import not_found
from tui.sandbox.box.oauth import BoxTokens
from tui.sandbox.box.store import BoxStore
from tui.sandbox.context import EmulatorContext


class SandboxAids:
    """The handlers under ``/_sandbox``."""

    def __init__(
        self, ctx: EmulatorContext, store: BoxStore, upload_root: str, tokens: BoxTokens
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.upload_root = upload_root
        self.tokens = tokens

    async def stats(self, request: Request) -> Response:
        """GET /_sandbox/stats: the fault counts, sessions and files held, and the OAuth
        counts (``oauth``: tokens issued, refreshes, refresh tokens sent twice...)."""
        return JSONResponse(
            {
                **self.ctx.faults.stats(),
                "oauth": dict(self.tokens.counts),
                "sessions": len(self.store.sessions),
                "files": len(self.store.files),
            }
        )

    async def files(self, request: Request) -> Response:
        """GET /_sandbox/files: every committed file, without its bytes."""
        return JSONResponse(
            [
                {
                    "id": f.id,
                    "name": f.name,
                    "folder_id": f.folder_id,
                    "size": len(f.data),
                    "sha1": f.sha1,
                }
                for f in self.store.files.values()
            ]
        )

    async def content(self, request: Request) -> Response:
        """GET /_sandbox/files/{file_id}/content: a committed file's bytes."""
        f = self.store.files.get(request.path_params["file_id"])
        if f is None:
            return not_found()
        return Response(f.data, media_type="application/octet-stream")

    async def session(self, request: Request) -> Response:
        """GET /_sandbox/sessions/{session_id}: a session, expired or not, and its part count."""
        s = self.store.sessions.get(request.path_params["session_id"])
        if s is None:
            return not_found()
        return JSONResponse(
            {
                **s.as_json(self.upload_root),
                "expired": self.ctx.clock() >= s.expires_at,
                "parts": len(s.parts),
            }
        )
