"""The Box emulator's Starlette app: one store, one token check, the routes of both roots
and of the OAuth endpoints."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from tui.sandbox.box.aids import SandboxAids
from tui.sandbox.box.api import ContentApi
from tui.sandbox.box.auth import BoxAuth
from tui.sandbox.box.oauth import BoxTokens
from tui.sandbox.box.store import BoxStore
from tui.sandbox.box.uploads import UploadApi
from tui.sandbox.context import EmulatorContext


def create_app(ctx: EmulatorContext) -> Starlette:
    """The Box emulator for ``ctx``: its token, faults, clock and options."""
    store = BoxStore()
    tokens = BoxTokens(ctx)
    auth = BoxAuth(ctx, tokens)
    upload_root = f"{ctx.public_url}/upload/api/2.0"
    api = ContentApi(ctx, store, auth)
    uploads = UploadApi(ctx, store, auth, upload_root)
    aids = SandboxAids(ctx, store, upload_root, tokens)
    sessions = "/upload/api/2.0/files/upload_sessions"
    return Starlette(
        routes=[
            Route("/api/2.0/users/me", api.users_me, methods=["GET"]),
            Route("/api/2.0/folders/{folder_id}", api.folder, methods=["GET"]),
            Route("/api/2.0/folders/{folder_id}/items", api.folder_items, methods=["GET"]),
            Route("/api/2.0/files/{file_id}", api.file_info, methods=["GET"]),
            Route(sessions, uploads.create_session, methods=["POST"]),
            Route(f"{sessions}/{{session_id}}", uploads.session_status, methods=["GET"]),
            Route(f"{sessions}/{{session_id}}", uploads.upload_part, methods=["PUT"]),
            Route(f"{sessions}/{{session_id}}", uploads.abort, methods=["DELETE"]),
            Route(f"{sessions}/{{session_id}}/parts", uploads.list_parts, methods=["GET"]),
            Route(f"{sessions}/{{session_id}}/commit", uploads.commit, methods=["POST"]),
            Route(f"{sessions}/{{session_id}}/log", uploads.log_event, methods=["POST"]),
            Route("/oauth2/token", tokens.token, methods=["POST"]),
            Route("/oauth2/revoke", tokens.revoke, methods=["POST"]),
            Route("/api/oauth2/authorize", tokens.authorize, methods=["GET"]),
            Route("/_sandbox/stats", aids.stats, methods=["GET"]),
            Route("/_sandbox/files", aids.files, methods=["GET"]),
            Route("/_sandbox/files/{file_id}/content", aids.content, methods=["GET"]),
            Route("/_sandbox/sessions/{session_id}", aids.session, methods=["GET"]),
        ]
    )
