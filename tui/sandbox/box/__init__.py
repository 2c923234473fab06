"""Box's chunked upload API on loopback, with its own in-memory store (no S3 behind it).

Two roots, as on Box: ``/api/2.0`` (users/me, folders, files) and ``/upload/api/2.0``
(upload sessions). What it checks, as the Box reference says Box does: the Bearer token;
every part's ``Digest: sha=`` against its bytes; an inclusive ``Content-Range`` that
starts at a multiple of the session's part size, is exactly one part long (the last may
be shorter) and stays inside the file; parts that overlap a stored one (409); the
commit's part list and whole-file SHA-1; names already taken in the folder (409); the
20 MiB minimum; sessions that expire after 7 days (404), all on ``ctx.clock``.

The part size rule (Box does not publish one; these match what Box was seen to pick):
8 MiB below 512 MiB, 32 MiB up to 8 GiB, 64 MiB above, grown in whole MiB so no
session needs more than 10,000 parts.

Faults: part uploads are counted and broken like the S3 gateway's (``part_500``,
``part_reset``, ``part_stall``; ``expire_early`` answers as an expired session, since
Box has no part links); ``corrupt_etag`` stores the part but answers a wrong sha1.
``ctx.options["part_faults_after_store"] = True`` makes a part fault strike after the
part is stored (the answer is lost, the part landed). Counted faults per session:
``commit_202`` (202 + Retry-After: 1), ``complete_lost`` (committed, answered 500) and
``abort_lost`` (the session deleted, answered 500); ``upload_gone`` deletes the session
when a part arrives after that many, as if aborted elsewhere (the part meets 404); per
folder, ``view_500`` (its item listing answered 500).
``ctx.options["storage_quota"]`` (bytes) makes sessions that would pass it fail with
403 storage_limit_exceeded.

Test aids, without auth: ``GET /_sandbox/stats``, ``/_sandbox/files``,
``/_sandbox/files/{id}/content`` and ``/_sandbox/sessions/{id}``.

Modules: ``store`` (what it holds, the part size rule), ``auth`` (the token check),
``checks`` (digests, ranges, names, commit lists), ``errors`` (Box's error answers),
``api`` (``/api/2.0``), ``uploads`` (``/upload/api/2.0``), ``aids`` (``/_sandbox``) and
``app`` (the routes).
"""

from __future__ import annotations

from tui.sandbox.box.app import create_app
from tui.sandbox.box.auth import BoxAuth
from tui.sandbox.box.errors import HELP_URL, box_error
from tui.sandbox.box.store import (
    MAX_PARTS,
    MIN_SIZE,
    ROOT_FOLDER,
    SESSION_LIFETIME,
    BoxFile,
    BoxStore,
    StoredPart,
    UploadSession,
    iso,
    part_size_for,
)

__all__ = [
    "HELP_URL",
    "MAX_PARTS",
    "MIN_SIZE",
    "ROOT_FOLDER",
    "SESSION_LIFETIME",
    "BoxAuth",
    "BoxFile",
    "BoxStore",
    "StoredPart",
    "UploadSession",
    "box_error",
    "create_app",
    "iso",
    "part_size_for",
]
