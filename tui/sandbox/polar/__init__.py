"""Polar's Files API (``/v1/files/``), emulated on the sandbox's S3 back end.

It does what Polar's server does (polarsource/polar ``file`` and ``integrations/aws/s3``):
create starts an S3 multipart upload under ``<service>/<org id>/<file uuid>/<name>`` and
presigns one UploadPart URL per part the client describes, for 600 s, with the part's
SHA-256 signed in; ``/uploaded`` completes the S3 upload with each part's ETag and
checksum plus the composite checksum; DELETE soft-deletes the record and deletes the
object but leaves the multipart upload (and its parts) to the bucket's lifecycle rules;
the list shows uploaded files only. Errors have Polar's shapes: ``{"type", "detail"}``
for its own errors, ``{"detail": [{"type", "loc", "msg", "input"}]}`` for validation,
and the bare 500 of an S3 failure Polar does not catch.

Switches (``ctx.options``): ``scopes`` (the token's scopes, default ``files:read
files:write``), ``token_kind`` (``organization``, the default, or ``user``: then
``organization_id`` is required), ``repeat_complete`` (``succeed`` answers a repeated
``/uploaded`` as AWS does, ``nosuchupload`` with the 500 a MinIO NoSuchUpload gives;
unset, the S3 back end decides: moto completes again, like AWS),
``abort_incomplete_after`` (seconds: the lifecycle rule that aborts older multipart
uploads).

Modules: ``records`` (the emulated files table), ``validation`` (the request schemas),
``auth`` (token, scopes, organization), ``storage`` (part URLs, complete, lifecycle),
``errors`` (Polar's error answers) and ``emulator`` (the handlers and the app).
"""

from __future__ import annotations

from tui.sandbox.polar.auth import DEFAULT_SCOPES, WRITE_SCOPE
from tui.sandbox.polar.emulator import PolarEmulator, create_app
from tui.sandbox.polar.errors import Invalid, internal_error, polar_error, validation_error
from tui.sandbox.polar.records import PUBLIC_SERVICES, FileRecord, human_readable_size, iso
from tui.sandbox.polar.storage import PRESIGN_TTL, multipart_checksum
from tui.sandbox.polar.validation import (
    MAX_PARTS,
    SERVICE_RULES,
    SERVICES,
    parse_create,
    parse_uploaded,
    parse_uuid,
)

__all__ = [
    "DEFAULT_SCOPES",
    "MAX_PARTS",
    "PRESIGN_TTL",
    "PUBLIC_SERVICES",
    "SERVICES",
    "SERVICE_RULES",
    "WRITE_SCOPE",
    "FileRecord",
    "Invalid",
    "PolarEmulator",
    "create_app",
    "human_readable_size",
    "internal_error",
    "iso",
    "multipart_checksum",
    "parse_create",
    "parse_uploaded",
    "parse_uuid",
    "polar_error",
    "validation_error",
]
