"""Box chunked upload sessions (``upload.box.com``), as the Box API reference describes them.

Box picks the part size when the session opens; every part carries a SHA-1 ``Digest`` and
an inclusive ``Content-Range``; parts cannot be overwritten, so after an ambiguous
failure the engine asks ``list_parts`` before sending again; commit carries the SHA-1 of
the whole file and may answer 202 (still processing) any number of times before 201.
There are no part URLs: the session's endpoints live 7 days, called verbatim.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from tui.core.errors import (
    CompleteUnknown,
    RejectedError,
    RemoteError,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.model import Part, Session
from tui.core.plan import PartLimits, check_file_size
from tui.core.ports import OpenedSession, PartTarget, Receipt, RemotePart
from tui.core.redact import redact, url_for_people
from tui.core.transfer import answer_text, check_transient, network_error, retry_after
from tui.core.units import GiB, MiB, format_size
from tui.providers.account import DEFAULT_BASE_URLS, DEFAULT_BOX_UPLOAD_URL, AccountSettings
from tui.providers.base import BaseProvider

MIN_SIZE = 20 * MiB
"""Smallest file Box's chunked upload takes: "20MB", and Box's own SDK test uses 20 MiB."""
MAX_PARTS = 10_000
LIST_LIMIT = 1000
"""Parts asked for per list_parts page."""
LIST_MAX_OFFSET = 10_000
"""Box refuses list_parts with a larger offset (400)."""
MAX_JSON = 8 * 1024 * 1024
"""Larger JSON answers are refused as nonsense rather than parsed."""
COMMIT_TRIES = 3
"""Commits sent after server errors or network failures before looking in the folder."""
COMMIT_BACKOFF = 1.0
"""Seconds before the second commit after a failure; doubled for each further one."""
COMMIT_ACCEPTED_TRIES = 20
"""Commits answered 202 (parts still processing) before partdeck stops waiting."""
ACCEPTED_WAIT_DEFAULT = 5.0
"""Seconds to wait after a 202 that has no usable Retry-After."""
ACCEPTED_WAIT_CAP = 60.0
"""Longest single wait a 202's Retry-After may ask for."""

TOO_SMALL = (
    "Box's chunked upload needs files of at least 20 MiB (20,971,520 bytes); smaller files go "
    "through Box's plain upload (the web app or POST /files/content), which partdeck does not use"
)
EXPIRED = "the Box upload session expired (sessions last 7 days); start a new upload"
SESSION_GONE = "Box no longer has the upload session (it expired after 7 days or was aborted)"
"""What a 404 on a session endpoint means: the session and every part in it are gone."""
DIGEST_MISMATCH = (
    "the whole-file checksum differs from what Box received; did the file change? run "
    "partdeck verify"
)
STORAGE_FULL = "Box storage is full; free space in the account or raise its quota, then resume"

_SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")
_ENDPOINTS = ("upload_part", "commit", "abort", "list_parts")


def estimate_part_size(size: int) -> int:
    """The part size Box is expected to pick for ``size`` bytes (the sandbox's rule).

    8 MiB below 512 MiB, 32 MiB up to 8 GiB, 64 MiB above, grown (in whole MiB) so a
    session never needs more than 10,000 parts. Seen on Box: 8 MiB for files of ~160 MB,
    32 MiB for a 1 GB file; the server's ``part_size`` is what counts.
    """
    if size < 512 * MiB:
        part = 8 * MiB
    elif size <= 8 * GiB:
        part = 32 * MiB
    else:
        part = 64 * MiB
    fitting = -(-size // MAX_PARTS)
    if part < fitting:
        part = -(-fitting // MiB) * MiB
    return part


# -- Box's JSON, read defensively --------------------------------------------------------------


def load_json(body: bytes, what: str) -> Any:
    """Parse a JSON answer; not JSON at all is a TransientError (a proxy page, a cut)."""
    if len(body) > MAX_JSON:
        raise RejectedError(f"{what}: Box's answer is too large to be Box JSON")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise TransientError(f"{what}: Box's answer is not JSON; will retry") from None


def _obj(value: Any, what: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RejectedError(f"{what}: Box's answer has no {name} object")
    return value


def _text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise RejectedError(f"{what}: Box's answer has no valid {key}")
    return value


def _count(obj: Mapping[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RejectedError(f"{what}: Box's answer has no valid {key}")
    return value


def _sha1(obj: Mapping[str, Any], what: str) -> str:
    value = obj.get("sha1")
    if not isinstance(value, str) or not _SHA1_HEX.match(value):
        raise RejectedError(f"{what}: Box's answer has no valid sha1")
    return value.lower()


def iso_time(value: Any) -> float | None:
    """Unix time of an ISO 8601 timestamp (``2026-11-28T10:53:43-08:00``), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@dataclass(frozen=True)
class UploadSession:
    """The fields of Box's UploadSession that partdeck relies on."""

    id: str
    part_size: int
    total_parts: int
    num_parts_processed: int
    session_expires_at: str | None
    expires_at: float | None
    endpoints: dict[str, str]


def parse_session(body: bytes, what: str = "create upload session") -> UploadSession:
    """Read an UploadSession answer; RemoteError when it is not one."""
    data = _obj(load_json(body, what), what, "upload session")
    if data.get("type", "upload_session") != "upload_session":
        raise RejectedError(f"{what}: Box's answer is not an upload session")
    raw = _obj(data.get("session_endpoints"), what, "session_endpoints")
    endpoints: dict[str, str] = {}
    for name in (*_ENDPOINTS, "status", "log_event"):
        value = raw.get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            endpoints[name] = value
        elif name in _ENDPOINTS:
            raise RejectedError(f"{what}: Box's answer has no valid {name} endpoint")
    expires = data.get("session_expires_at")
    return UploadSession(
        id=_text(data, "id", what),
        part_size=_count(data, "part_size", what),
        total_parts=_count(data, "total_parts", what),
        num_parts_processed=_count(data, "num_parts_processed", what),
        session_expires_at=expires if isinstance(expires, str) and len(expires) <= 64 else None,
        expires_at=iso_time(expires),
        endpoints=endpoints,
    )


@dataclass(frozen=True)
class BoxPart:
    """A part as Box reports it: id, byte offset, size and hex SHA-1."""

    part_id: str
    offset: int
    size: int
    sha1: str


def parse_part(value: Any, what: str) -> BoxPart:
    """Read one UploadPart object."""
    obj = _obj(value, what, "part")
    return BoxPart(
        part_id=_text(obj, "part_id", what),
        offset=_count(obj, "offset", what),
        size=_count(obj, "size", what),
        sha1=_sha1(obj, what),
    )


def parse_uploaded_part(body: bytes, what: str) -> BoxPart:
    """Read the answer to a part PUT: ``{"part": {...}}``."""
    data = _obj(load_json(body, what), what, "answer")
    return parse_part(data.get("part"), what)


def parse_parts_page(body: bytes, what: str = "list parts") -> tuple[list[BoxPart], int]:
    """Read one list_parts page: its parts and the total count."""
    data = _obj(load_json(body, what), what, "part list")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise RejectedError(f"{what}: Box's answer has no entries list")
    return [parse_part(e, what) for e in entries], _count(data, "total_count", what)


def parse_committed(body: bytes, what: str = "commit") -> tuple[str, str]:
    """(file id, name) of the file a 201 commit answer names."""
    data = _obj(load_json(body, what), what, "file list")
    entries = data.get("entries")
    if not isinstance(entries, list) or not entries:
        raise RejectedError(f"{what}: Box's answer names no file")
    file = _obj(entries[0], what, "file")
    return _text(file, "id", what), _text(file, "name", what)


def error_of(body: bytes) -> tuple[str | None, str | None]:
    """(code, message) of Box's ClientError body, or (None, None)."""
    try:
        data = json.loads(body[:MAX_JSON]) if body else None
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    code, message = data.get("code"), data.get("message")
    code = code[:80] if isinstance(code, str) and code else None
    message = message[:300] if isinstance(message, str) and message else None
    return code, message


def _said(status: int, code: str | None, message: str | None) -> str:
    """``409 (code: message)`` for a message; a token or signature Box quotes is redacted."""
    detail = redact(": ".join(x for x in (code, message) if x))
    return f"{status} ({detail})" if detail else str(status)


def raise_for_box(
    response: httpx.Response,
    what: str,
    *,
    gone: str | None = None,
    file_name: str | None = None,
) -> None:
    """Raise the right RemoteError for a failed Box answer; return on 2xx.

    ``gone`` is the sentence for a 404 where the caller says what is missing; without
    it the call was on a session endpoint, and a 404 there is UploadGone: the session
    expired or was aborted, and only a new one can carry the file.
    """
    if response.is_success:
        return
    status = response.status_code
    code, message = error_of(answer_text(response).encode())  # a quoted token cut out
    said = _said(status, code, message)
    check_transient(response, what)
    if status == 401:
        raise RejectedError(
            f"{what}: Box refused the access token ({said}); get a new token for the account",
            status=status,
            code=code,
        )
    if code == "storage_limit_exceeded":
        raise RejectedError(f"{what}: {STORAGE_FULL} ({said})", status=status, code=code)
    if code == "file_size_too_small":
        raise RejectedError(f"{what}: {TOO_SMALL}", status=status, code=code)
    if code == "digest_mismatch":
        raise RejectedError(f"{what}: {DIGEST_MISMATCH} ({said})", status=status, code=code)
    if status == 400 and code == "bad_digest":
        raise TransientError(
            f"{what}: Box received bytes that do not match the part's SHA-1 ({said}); sending "
            "it again",
            status=status,
            code=code,
        )
    if status == 409 and code == "range_overlaps_existing_part":
        raise TransientError(
            f"{what}: Box already holds a part at this offset ({said}); checking what it holds",
            status=status,
            code=code,
        )
    if status == 409 and file_name is not None and code in ("item_name_in_use", "conflict", None):
        raise RejectedError(
            f"{what}: a file named {file_name} already exists in the folder ({said}); rename "
            "it or upload a new version",
            status=status,
            code=code,
        )
    if (
        status == 400
        and file_name is not None
        and code in ("item_name_invalid", "item_name_too_long")
    ):
        raise RejectedError(
            f'{what}: Box does not take the file name "{file_name}" ({said}); Box names have '
            "no / or \\, no leading or trailing spaces and at most 255 characters: rename "
            "the file (or copy it under another name) and upload that",
            status=status,
            code=code,
        )
    if status == 416:
        raise RejectedError(
            f"{what}: Box refused the byte range ({said}); the parts were cut wrong, a bug: "
            "please report it",
            status=status,
            code=code,
        )
    if status == 404 and gone is None:
        raise UploadGone(f"{what}: {SESSION_GONE} ({said})", status=status, code=code)
    if status == 404:
        raise RejectedError(f"{what}: {gone} ({said})", status=status, code=code)
    if status == 403:
        raise RejectedError(
            f"{what}: Box denied access ({said}); check the token's scopes and the folder's "
            "permissions",
            status=status,
            code=code,
        )
    raise RejectedError(
        f"{what}: Box said {said}; fix the request or the account and try again",
        status=status,
        code=code,
    )


def _b64_sha1(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


# -- the adapter -------------------------------------------------------------------------------


class BoxProvider(BaseProvider):
    """A Box account: chunked upload sessions into one folder."""

    name: ClassVar[str] = "box"
    title: ClassVar[str] = "Box"
    limits = PartLimits(
        min_part=8 * MiB,
        max_parts=MAX_PARTS,
        max_size=None,  # plan-dependent on Box; the server refuses what it cannot take
        min_size=MIN_SIZE,
        default_part=8 * MiB,
        align=MiB,
    )
    digests = frozenset({"sha1"})
    can_list_parts = True
    file_digests = frozenset({"sha1"})
    server_part_size = True
    renewable_targets = True
    overwrites_parts = False
    complete_repeatable = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token: str,
        base_url: str,
        upload_url: str,
        folder_id: str = "0",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.upload_url = upload_url.rstrip("/")
        self.folder_id = folder_id
        self._clock = clock

    # -- plumbing --------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request with auth; network failures become TransientError."""
        try:
            return await self._client.request(
                method,
                url,
                params=params,
                json=json_body,
                headers={**self._auth(), **(headers or {})},
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None

    async def _request(
        self,
        method: str,
        url: str,
        what: str,
        *,
        gone: str | None = None,
        file_name: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send, then raise the mapped RemoteError unless Box said yes."""
        response = await self._send(method, url, **kwargs)
        raise_for_box(response, what, gone=gone, file_name=file_name)
        return response

    @staticmethod
    def _endpoint(session: Session, name: str) -> str:
        endpoints = session.remote.get("session_endpoints")
        url = endpoints.get(name) if isinstance(endpoints, dict) else None
        if not isinstance(url, str):
            raise RejectedError(
                f"the journal has no Box {name} endpoint for session {session.id[:12]}; "
                "abort it and upload again"
            )
        return url

    # -- planning and opening -------------------------------------------------------------

    def part_size(self, size: int, requested: int | None) -> int:
        """Box picks the part size at open; this is the estimate the plan shows until then."""
        if size < MIN_SIZE:
            have = format_size(size)
            if have == format_size(MIN_SIZE):
                have = f"{size:,} bytes"  # "20 MiB is too small" would read as nonsense
            raise UsageError(f"file of {have} is too small for Box: {TOO_SMALL}")
        check_file_size(size, self.limits)
        part = estimate_part_size(size)
        if part > self.limits.max_part:
            raise UsageError(
                f"file of {format_size(size)} is too big for Box: it would need parts larger "
                f"than {format_size(self.limits.max_part)} to fit in {MAX_PARTS:,} parts; "
                "split it or use another account"
            )
        return part

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """POST /files/upload_sessions; the server's part_size sets the part boundaries."""
        file_name = os.path.basename(session.path)
        response = await self._request(
            "POST",
            f"{self.upload_url}/files/upload_sessions",
            "create upload session",
            gone=f"Box folder {self.folder_id} does not exist or this user cannot see it; "
            "check the account's folder_id",
            file_name=file_name,
            json_body={
                "folder_id": self.folder_id,
                "file_size": session.size,
                "file_name": file_name,
            },
        )
        box = parse_session(response.content)
        await self._check_session(box, session.size)
        remote = {
            "upload_id": box.id,
            "session_endpoints": box.endpoints,
            "part_size": box.part_size,
            "total_parts": box.total_parts,
            "session_expires_at": box.session_expires_at,
            "expires_at": box.expires_at,
            "folder_id": self.folder_id,
            "file_name": file_name,
        }
        ranges = [
            (start, min(start + box.part_size, session.size))
            for start in range(0, session.size, box.part_size)
        ]
        return OpenedSession(
            remote=remote,
            location=f"box folder {self.folder_id}: {file_name}",
            ranges=ranges,
        )

    async def _check_session(self, box: UploadSession, size: int) -> None:
        """The SDK's sanity checks; a session that fails them is aborted, not left behind."""
        problem = None
        if box.part_size <= 0 or box.part_size * box.total_parts < size:
            problem = f"part_size {box.part_size} x total_parts {box.total_parts} < {size} bytes"
        elif box.total_parts != -(-size // box.part_size):
            problem = f"total_parts {box.total_parts} does not fit part_size {box.part_size}"
        elif box.num_parts_processed != 0:
            problem = f"a new session already has {box.num_parts_processed} parts"
        if problem is None:
            return
        with contextlib.suppress(TransientError):  # else it expires by itself in 7 days
            await self._send("DELETE", box.endpoints["abort"])
        raise RejectedError(
            f"create upload session: Box's session does not add up ({problem}); it was "
            "aborted, try again later"
        )

    # -- parts -----------------------------------------------------------------------------

    async def target(self, session: Session, part: Part) -> PartTarget:
        """The session's upload_part endpoint with this part's Digest and Content-Range."""
        expires_at = session.remote.get("expires_at")
        if isinstance(expires_at, int | float) and self._clock() >= expires_at:
            raise UploadGone(f"part {part.number}: {EXPIRED}")
        if part.sha1 is None:
            raise RejectedError(f"part {part.number} has no SHA-1 yet; a bug: please report it")
        headers = {
            **self._auth(),
            "Digest": f"sha={_b64_sha1(part.sha1)}",
            "Content-Range": f"bytes {part.start}-{part.end - 1}/{session.size}",
            "Content-Type": "application/octet-stream",
        }
        return PartTarget(
            url=self._endpoint(session, "upload_part"),
            method="PUT",
            headers=headers,
            expires_at=float(expires_at) if isinstance(expires_at, int | float) else None,
        )

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """Box's part answer must name our offset, size and SHA-1 (hex)."""
        what = f"part {part.number}"
        raise_for_box(response, what)
        try:
            got = parse_uploaded_part(response.content, what)
        except RejectedError as exc:
            # Box said 200, so the part may well be there: the engine checks list_parts.
            raise TransientError(f"{exc}; checking what Box holds") from None
        if got.offset != part.start or got.size != part.size:
            raise RejectedError(
                f"{what}: Box stored {got.size:,} bytes at offset {got.offset:,}, not "
                f"{part.size:,} at {part.start:,}; abort and upload again"
            )
        if got.sha1 != part.sha1:
            raise RejectedError(
                f"{what}: Box reports SHA-1 {got.sha1} but the bytes sent have {part.sha1}; "
                f"run partdeck retry {session.id[:8]} to check what Box holds, or abort"
            )
        return Receipt(etag=got.part_id, verified=True)

    async def _list(self, session: Session) -> list[BoxPart]:
        """Every part Box holds for the session, page by page."""
        url = self._endpoint(session, "list_parts")
        found: list[BoxPart] = []
        offset = 0
        while offset <= LIST_MAX_OFFSET:
            response = await self._request(
                "GET", url, "list parts", params={"offset": offset, "limit": LIST_LIMIT}
            )
            page, total = parse_parts_page(response.content)
            found.extend(page)
            offset += len(page)
            if not page or offset >= total:
                break
        return found

    async def remote_parts(self, session: Session) -> list[RemotePart] | None:
        """list_parts, numbered by offset / part_size; misaligned entries are not ours."""
        part_size = session.remote.get("part_size")
        if not isinstance(part_size, int) or part_size <= 0:
            part_size = session.part_size
        return [
            RemotePart(number=p.offset // part_size + 1, size=p.size, etag=p.part_id, digest=p.sha1)
            for p in await self._list(session)
            if p.offset % part_size == 0
        ]

    def remote_receipt(self, part: Part, remote: RemotePart) -> Receipt | None:
        """A listed part is ours when its size and SHA-1 match."""
        if remote.size == part.size and part.sha1 is not None and remote.digest == part.sha1:
            return Receipt(etag=remote.etag, verified=True)
        return None

    # -- commit and abort ------------------------------------------------------------------

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """Check list_parts, then commit, waiting out 202s; a lost answer is looked up."""
        sha1 = session.digests.get("sha1")
        if not sha1 or not _SHA1_HEX.match(sha1):
            raise RejectedError(
                f"commit: the whole-file SHA-1 is missing; run partdeck complete "
                f"{session.id[:8]} again"
            )
        try:
            body = await self._commit_body(session, parts)
        except RejectedError as exc:
            if exc.status == 404 and session.complete_sent > 1:
                # An earlier commit may have landed and closed the session.
                found = await self._look(session, sha1)
                if found is not None:
                    return found
                raise self._gone_after_commit(session) from None
            raise
        return await self._commit(session, body, sha1)

    async def _commit_body(self, session: Session, parts: Sequence[Part]) -> dict[str, Any]:
        """The commit's part list, from what Box lists: it must hold exactly our parts."""
        listed = await self._list(session)
        total = session.remote.get("total_parts", len(parts))
        by_offset = {p.offset: p for p in listed}
        entries: list[dict[str, Any]] = []
        missing: list[int] = []
        for part in sorted(parts, key=lambda p: p.start):
            held = by_offset.get(part.start)
            if held is None or held.size != part.size or held.sha1 != part.sha1:
                missing.append(part.number)
                continue
            entries.append(
                {
                    "part_id": held.part_id,
                    "offset": held.offset,
                    "size": held.size,
                    "sha1": held.sha1,
                }
            )
        if len(listed) != total or missing:
            shown = ", ".join(map(str, missing[:8])) + (" …" if len(missing) > 8 else "")
            lacking = f" and lacks part(s) {shown}" if missing else ""
            raise RejectedError(
                f"commit: Box holds {len(listed)} of the {total} parts{lacking}; run partdeck "
                f"resume {session.id[:8]} to send what is missing"
            )
        return {"parts": entries}

    async def _commit(self, session: Session, body: dict[str, Any], sha1: str) -> str:
        url = self._endpoint(session, "commit")
        file_name = str(session.remote.get("file_name", os.path.basename(session.path)))
        headers = {"Digest": f"sha={_b64_sha1(sha1)}"}
        failures = accepted = 0
        sent_before = session.complete_sent > 1
        last: RemoteError | None = None
        while True:
            try:
                response = await self._send("POST", url, json_body=body, headers=headers)
            except TransientError as exc:
                response, last = None, exc
            if response is not None and response.status_code == 202:
                accepted += 1
                if accepted >= COMMIT_ACCEPTED_TRIES:
                    raise CompleteUnknown(
                        f"commit: Box was still processing the parts after {accepted} tries; "
                        f"run partdeck complete {session.id[:8]} again later"
                    )
                wait = retry_after(response)
                wait = ACCEPTED_WAIT_DEFAULT if wait is None else wait
                await asyncio.sleep(min(ACCEPTED_WAIT_CAP, wait))
                continue
            if response is not None and response.status_code in (200, 201):
                try:
                    file_id, name = parse_committed(response.content)
                    return f"box file {file_id[:64]} ({name[:255]})"
                except RemoteError as exc:
                    # A success status without Box's file in the body may come from
                    # something in between: only the folder can say if the file is there.
                    found = await self._look(session, sha1)
                    if found is not None:
                        return found
                    last = exc
            if response is not None and response.status_code == 404 and (failures or sent_before):
                # An earlier commit may have landed and closed the session: look for the file.
                found = await self._look(session, sha1)
                if found is not None:
                    return found
                raise self._gone_after_commit(session)
            if response is not None:
                try:
                    raise_for_box(response, "commit", file_name=file_name)
                except TransientError as exc:
                    last = exc
            failures += 1
            if failures >= COMMIT_TRIES:
                break
            await asyncio.sleep(COMMIT_BACKOFF * 2.0 ** (failures - 1))
        found = await self._look(session, sha1)
        if found is not None:
            return found
        folder = session.remote.get("folder_id", self.folder_id)
        said = last.settled if last else "no answer"
        raise CompleteUnknown(
            f"commit: no clear answer from Box ({said}); look for the file {file_name} in "
            f"folder {folder}, then run partdeck complete {session.id[:8]} again if it is not there"
        )

    def _gone_after_commit(self, session: Session) -> RejectedError:
        """Box closed the session after a commit whose answer was lost, yet no such file."""
        folder = session.remote.get("folder_id", self.folder_id)
        name = session.remote.get("file_name", os.path.basename(session.path))
        return RejectedError(
            f"commit: Box no longer has the upload session and folder {folder} holds no file "
            f"{name} with this content; if it was moved or renamed it is there, else the "
            f"session expired: close it with partdeck abort {session.id[:8]} and upload the "
            "file again",
            status=404,
        )

    async def _look(self, session: Session, sha1: str) -> str | None:
        """``_find_committed``, where a folder that cannot be listed leaves it unknown."""
        try:
            return await self._find_committed(session, sha1)
        except RemoteError as exc:
            folder = session.remote.get("folder_id", self.folder_id)
            raise CompleteUnknown(
                f"commit: Box may already have the file, but folder {folder} could not be "
                f"listed ({exc.settled}); run partdeck complete {session.id[:8]} again to look "
                "once more"
            ) from None

    async def _find_committed(self, session: Session, sha1: str) -> str | None:
        """The location of a file in the folder with this name and SHA-1, if Box has one."""
        folder = str(session.remote.get("folder_id", self.folder_id))
        file_name = session.remote.get("file_name", os.path.basename(session.path))
        offset = 0
        try:
            while offset <= LIST_MAX_OFFSET:
                response = await self._request(
                    "GET",
                    f"{self.base_url}/folders/{folder}/items",
                    "look for the file",
                    gone=f"Box folder {folder} is gone",
                    params={"fields": "name,size,sha1", "offset": offset, "limit": LIST_LIMIT},
                )
                data = _obj(load_json(response.content, "folder items"), "folder", "items")
                entries = data.get("entries")
                if not isinstance(entries, list) or not entries:
                    return None
                for entry in entries:
                    if (
                        isinstance(entry, dict)
                        and entry.get("type") == "file"
                        and entry.get("name") == file_name
                        and str(entry.get("sha1", "")).lower() == sha1
                        and isinstance(entry.get("id"), str)
                    ):
                        return f"box file {entry['id'][:64]} ({file_name})"
                offset += len(entries)
                total = data.get("total_count")
                if not isinstance(total, int) or offset >= total:
                    return None
        except RejectedError as exc:
            if exc.status == 404:  # the folder is gone, and the file with it
                return None
            raise
        return None

    async def find_completed(self, session: Session) -> str | None:
        """The committed file in the folder (same name and SHA-1), if Box has it."""
        sha1 = session.digests.get("sha1")
        if not sha1 or not _SHA1_HEX.match(sha1):
            return None
        try:
            return await self._find_committed(session, sha1)
        except RemoteError:
            return None

    async def abort(self, session: Session) -> str | None:
        """DELETE the session (204); a session Box no longer has (404) is already gone.

        Any other success status is not Box's answer (something in between may have sent
        it), so the DELETE is sent once more: only 204 or 404 confirm the session is gone.
        """
        url = self._endpoint(session, "abort")
        for _ in range(2):
            response = await self._send("DELETE", url)
            if response.status_code in (204, 404):
                return None
            raise_for_box(response, "abort")
        raise TransientError(
            f"abort: Box did not confirm it (an HTTP {response.status_code} answer that is not "
            "Box's)",
            status=response.status_code,
        )

    async def check(self) -> str:
        """GET /users/me and the target folder."""
        response = await self._request(
            "GET", f"{self.base_url}/users/me", "check account", gone="Box has no such user"
        )
        user = _obj(load_json(response.content, "check account"), "check account", "user")
        who = user.get("login") or user.get("name") or user.get("id")
        folder = await self._request(
            "GET",
            f"{self.base_url}/folders/{self.folder_id}",
            "check folder",
            gone=f"Box folder {self.folder_id} does not exist or this user cannot see it; "
            "check the account's folder_id",
            params={"fields": "id,name"},
        )
        info = _obj(load_json(folder.content, "check folder"), "check folder", "folder")
        name = info.get("name") if isinstance(info.get("name"), str) else self.folder_id
        return (
            f"Box user {str(who)[:80]} at {url_for_people(self.base_url)}; uploads go to folder "
            f"{self.folder_id} ({str(name)[:80]})"
        )


def from_account(account: AccountSettings, client: httpx.AsyncClient) -> BoxProvider:
    """The Box adapter for a configured account (reads its token once)."""
    return BoxProvider(
        client,
        token=account.token(),
        base_url=account.base_url or DEFAULT_BASE_URLS["box"],
        upload_url=account.upload_url or DEFAULT_BOX_UPLOAD_URL,
        folder_id=account.folder_id,
    )


def describe(remote: Mapping[str, Any]) -> str:
    """A short, secret-free description of a Box remote session."""
    return (
        f"box folder {remote.get('folder_id')}: {remote.get('file_name')} "
        f"(upload session {remote.get('upload_id')})"
    )
