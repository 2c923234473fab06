"""Wunderlist file uploads: an Upload resource over S3, with part credentials one at a time.

POST /uploads starts an S3 multipart upload and hands back the SigV2 credentials for
part 1; every later part's credentials come from GET /uploads/:id/parts when the engine
is about to send that part; PATCH /uploads/:id {"state": "finished"} assembles the file.
Part PUTs go to S3 with exactly the headers that were signed: an empty Content-Type, the
given Authorization and x-amz-date, and Content-MD5 when an md5sum was signed in. The API
cannot list parts and has no abort: the server garbage-collects unfinished uploads.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import mimetypes
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote

import httpx

from tui.core.errors import (
    CompleteUnknown,
    ConfigError,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, Session
from tui.core.plan import S3_LIMITS
from tui.core.ports import OpenedSession, PartTarget, Provider, Receipt
from tui.core.redact import redact
from tui.core.transfer import answer_text, check_transient, network_error
from tui.providers.account import DEFAULT_BASE_URLS, AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.s3xml import error_of, etag_receipt

SIGNATURE_SKEW = 15 * 60
"""Seconds S3 accepts a SigV2 request after its date: the life of part credentials
that come without ``expires_at``."""
CREDENTIAL_MARGIN = 60.0
"""Part 1's stored credentials are used only while they live at least this much longer."""
FINISH_TRIES = 2
"""A finish with no clear answer is repeated once, then left to the user (reference 7.3)."""
FINISH_PAUSE = 0.5
"""Seconds before the repeated finish."""
NO_PARTS = "There are no parts upload to finish it"
"""Wunderlist's own text when an upload is finished before any part landed."""
ABORT_NOTE = "Wunderlist has no abort; the server discards unfinished uploads by itself"
"""What abort tells people: nothing is sent, and the upload stays until the server's GC."""
MAX_TEXT = 200
"""Longest piece of server text quoted in a message."""
MAX_HEADER = 4096
"""Longest credential value accepted as a header."""

UPLOAD_GONE = (
    "Wunderlist has no such upload{said}; it discards unfinished uploads after a while, "
    "so upload the file again"
)
"""What a 404 means for calls on an upload, with its fix."""
USER_GONE = "Wunderlist has no /user{said}; check the account's base_url"

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")


# -- reading Wunderlist's answers ---------------------------------------------------------


@dataclass(frozen=True)
class PartCredentials:
    """What Wunderlist hands out for one part: where to PUT it and the signed headers."""

    number: int
    url: str
    date: str
    """RFC 1123 date, sent as ``x-amz-date`` (it is signed)."""
    authorization: str
    """``AWS KEY:SIGNATURE`` (SigV2)."""
    expires_at: float | None
    md5: str | None = None
    """Hex MD5 signed in as Content-MD5, or None when the credentials sign none."""

    def headers(self) -> dict[str, str]:
        """The PUT headers, exactly as signed: SigV2 signs Content-Type and Content-MD5."""
        headers = {
            # Forced empty: any other value breaks the signature (Wunderlist's docs).
            "Content-Type": "",
            "Authorization": self.authorization,
            "x-amz-date": self.date,
        }
        if self.md5:
            headers["Content-MD5"] = base64.b64encode(bytes.fromhex(self.md5)).decode()
        return headers

    def as_remote(self) -> dict[str, Any]:
        """A JSON-ready copy for the journal."""
        return {
            "number": self.number,
            "url": self.url,
            "date": self.date,
            "authorization": self.authorization,
            "expires_at": self.expires_at,
            "md5": self.md5,
        }

    @classmethod
    def from_remote(cls, data: Any) -> PartCredentials | None:
        """The stored copy back, or None when the journal holds something else."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(
                number=int(data["number"]),
                url=str(data["url"]),
                date=str(data["date"]),
                authorization=str(data["authorization"]),
                expires_at=_float_or_none(data.get("expires_at")),
                md5=str(data["md5"]) if data.get("md5") else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class UploadAnswer:
    """An Upload resource as Wunderlist returns it from create and parts."""

    id: str
    user_id: str | None
    state: str | None
    part: PartCredentials


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _quote_text(value: Any) -> str:
    """Server text fit for a one-line message: no secrets, no line breaks, not too long."""
    text = " ".join(redact(str(value)).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def read_json(response: httpx.Response, what: str) -> Any:
    """The JSON body of a successful answer; TransientError when it is not JSON."""
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        raise TransientError(
            f"{what}: Wunderlist's answer is not JSON (status {response.status_code}); will retry"
        ) from None


def _odd(what: str, detail: str) -> RejectedError:
    return RejectedError(f"{what}: Wunderlist's answer is not what it sends ({detail})")


def _upload_id(value: Any, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _ID.match(value):
        return value
    raise _odd(what, "no usable upload id")


def parse_time(value: Any) -> float | None:
    """Unix time of an ISO-8601 ``expires_at`` (UTC when no zone is given), or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def _rfc1123(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


def _header_value(part: Mapping[str, Any], name: str, what: str) -> str:
    value = part.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_HEADER:
        raise _odd(what, f"part.{name} is missing")
    if not _PRINTABLE.match(value):
        raise _odd(what, f"part.{name} is not a valid header value")
    return value


def _part_url(part: Mapping[str, Any], number: int, what: str) -> str:
    value = part.get("url")
    if not isinstance(value, str) or not value or len(value) > 8192:
        raise _odd(what, "part.url is missing")
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise _odd(what, "part.url is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise _odd(what, "part.url is not an http(s) URL")
    # A link for another part would put these bytes in the wrong place of the file.
    given = parse_qs(url.query.decode("ascii", "replace")).get("partNumber")
    if given and given[0] != str(number):
        raise _odd(what, f"the link is for part {_quote_text(given[0])}, not part {number}")
    return value


def parse_upload(body: Any, what: str, number: int, md5: str | None = None) -> UploadAnswer:
    """An Upload answer with the credentials for part ``number`` (signed with ``md5``)."""
    if not isinstance(body, Mapping):
        raise _odd(what, "not a JSON object")
    upload_id = _upload_id(body.get("id"), what)
    part = body.get("part")
    if not isinstance(part, Mapping):
        raise _odd(what, "no part credentials")
    url = _part_url(part, number, what)
    date = _header_value(part, "date", what)
    authorization = _header_value(part, "authorization", what)
    expires_at = parse_time(body.get("expires_at"))
    if expires_at is None:
        # S3 refuses a SigV2 request dated more than 15 minutes off its clock.
        signed = _rfc1123(date)
        expires_at = signed + SIGNATURE_SKEW if signed is not None else None
    user = body.get("user_id")
    state = body.get("state")
    return UploadAnswer(
        id=upload_id,
        user_id=_quote_text(user) if isinstance(user, int | str) and str(user) else None,
        state=state if isinstance(state, str) else None,
        part=PartCredentials(number, url, date, authorization, expires_at, md5),
    )


def parse_finished(body: Any, what: str) -> None:
    """Return when the answer says the upload is finished; else RejectedError."""
    if not isinstance(body, Mapping):
        raise _odd(what, "not a JSON object")
    state = body.get("state")
    if state != "finished":
        shown = _quote_text(state) if isinstance(state, str) else "none"
        raise RejectedError(
            f"{what}: Wunderlist answered state {shown!r} instead of finished; run partdeck "
            "complete again, or upload the file again if it persists"
        )


def _error_detail(body: Any) -> tuple[str | None, str]:
    """(type, readable detail) from ``{"error": {...}}`` or ``{"errors": [...]}``."""
    if not isinstance(body, Mapping):
        return None, ""
    error = body.get("error")
    if isinstance(error, Mapping):
        kind = error.get("type")
        pieces = [str(error.get("message") or "")]
        for key, value in error.items():
            if key in ("type", "translation_key", "message"):
                continue
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            pieces.append(f"{key}: {value}")
        detail = "; ".join(p for p in pieces if p)
        return (_quote_text(kind) if isinstance(kind, str) else None), _quote_text(detail)
    errors = body.get("errors")
    if isinstance(errors, list):
        return None, _quote_text(": ".join(str(e) for e in errors))
    return None, ""


def error_for(response: httpx.Response, what: str, gone: str = UPLOAD_GONE) -> RemoteError:
    """The RemoteError for a failed Wunderlist answer: one line naming problem and fix.

    ``gone`` is what a 404 means for this call, with its fix.
    """
    try:
        check_transient(response, what)
    except RemoteError as exc:  # transient, or a call the server lacks (501, 405)
        return exc
    status = response.status_code
    try:
        body = json.loads(answer_text(response))  # the token cut out, should it be quoted
    except (ValueError, RecursionError):
        body = None
    kind, detail = _error_detail(body)
    shown = ": ".join(p for p in (kind, detail) if p)
    said = f" ({shown})" if shown else ""
    if status == 400 and NO_PARTS in detail:
        return RejectedError(
            "Wunderlist has no parts for this upload, so it cannot be finished; resume the "
            "session to send its parts, or upload the file again",
            status=status,
            code="no_parts",
        )
    if status == 401:
        message = (
            f"{what}: Wunderlist did not accept the access token or client id{said}; "
            "check the account's token and client_id"
        )
    elif status == 403:
        message = f"{what}: Wunderlist denied access{said}; check what the token may do"
    elif status == 404 and gone == UPLOAD_GONE:
        # The upload was collected: its parts went with it; only a new one carries the file.
        return UploadGone(f"{what}: {gone.format(said=said)}", status=status, code=kind)
    elif status == 404:
        message = f"{what}: {gone.format(said=said)}"
    elif kind == "missing_parameter":
        message = (
            f"{what}: Wunderlist refused a parameter{said}; this partdeck request does not "
            "fit the API, please report it"
        )
    else:
        message = f"{what}: Wunderlist refused the request with status {status}{said}"
    return RejectedError(message, status=status, code=kind)


# -- the adapter ---------------------------------------------------------------------------


class WunderlistProvider(BaseProvider):
    """A Wunderlist account: X-Access-Token + X-Client-ID, parts on S3 with SigV2."""

    name: ClassVar[str] = "wunderlist"
    title: ClassVar[str] = "Wunderlist"
    limits = S3_LIMITS
    digests = frozenset({"md5"})
    can_list_parts = False
    renewable_targets = True
    complete_repeatable = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        token: str,
        client_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._auth = {"X-Access-Token": token, "X-Client-ID": client_id}
        self._clock = clock
        self._stale: set[str] = set()
        """Sessions whose stored part 1 credentials S3 refused as out of date."""

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        gone: str = UPLOAD_GONE,
    ) -> Any:
        """Send one API call with auth; return its JSON, or raise the right RemoteError."""
        headers = dict(self._auth)
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        try:
            response = await self._client.request(
                method, self._base + path, params=params, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise network_error(exc) from None
        if not response.is_success:
            raise error_for(response, what, gone)
        return read_json(response, what)

    @staticmethod
    def _path(session: Session, tail: str = "") -> str:
        return f"/uploads/{quote(str(session.remote['upload_id']), safe='')}{tail}"

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """POST /uploads: the S3 upload starts and part 1's credentials come back."""
        file_name = os.path.basename(session.path)
        content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        request: dict[str, Any] = {
            "content_type": content_type,
            "file_name": file_name,
            "file_size": session.size,
        }
        # Create returns part 1's credentials, so its md5sum is part 1's (inferred).
        first_md5 = parts[0].md5 if parts and parts[0].number == 1 else None
        if first_md5:
            request["md5sum"] = first_md5
        what = "create upload"
        answer = parse_upload(
            await self._request("POST", "/uploads", what, body=request), what, 1, first_md5
        )
        return OpenedSession(
            remote={
                "upload_id": answer.id,
                "user_id": answer.user_id,
                "file_name": file_name,
                "part1": answer.part.as_remote(),
            },
            location=f"wunderlist upload {answer.id} ({file_name})",
        )

    def _stored(self, session: Session, part: Part) -> PartCredentials | None:
        """Part 1's credentials from create, while they still live and fit the part."""
        if part.number != 1 or session.id in self._stale:
            return None
        stored = PartCredentials.from_remote(session.remote.get("part1"))
        if stored is None or stored.number != 1 or stored.expires_at is None:
            return None
        if stored.md5 is not None and stored.md5 != part.md5:
            return None
        if stored.expires_at - self._clock() < CREDENTIAL_MARGIN:
            return None
        return stored

    async def target(self, session: Session, part: Part) -> PartTarget:
        """Part 1 from create while valid; any other part (or a renewal) fetched now."""
        credentials = self._stored(session, part)
        if credentials is None:
            credentials = await self._fetch(session, part)
        return PartTarget(
            url=credentials.url,
            method="PUT",
            headers=credentials.headers(),
            expires_at=credentials.expires_at,
        )

    async def _fetch(self, session: Session, part: Part) -> PartCredentials:
        """GET /uploads/:id/parts?part_number=N&md5sum=…: fresh credentials for one part."""
        params: dict[str, str | int] = {"part_number": part.number}
        md5 = part.md5 if part.md5 and _HEX32.match(part.md5) else None
        if md5:
            params["md5sum"] = md5
        what = f"part {part.number} credentials"
        body = await self._request("GET", self._path(session, "/parts"), what, params=params)
        answer = parse_upload(body, what, part.number, md5)
        if answer.id != str(session.remote["upload_id"]):
            raise _odd(what, f"credentials for upload {answer.id}")
        return answer.part

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """S3's answer to the PUT; out-of-date credentials are renewed, not failed."""
        what = f"part {part.number}"
        if response.status_code == 403:
            code, _ = error_of(response.content)
            if code == "RequestTimeTooSkewed":
                self._forget(session, part)
                raise TargetExpired(
                    f"{what}: Wunderlist's credentials for this part are more than 15 minutes "
                    "old (RequestTimeTooSkewed); fetching new ones",
                    status=403,
                    code=code,
                )
            if code == "SignatureDoesNotMatch":
                raise RejectedError(
                    f"{what}: S3 rejected Wunderlist's signature (SignatureDoesNotMatch): the "
                    "Content-Type or date sent is not the one signed; retry the part, and "
                    "check for a proxy that rewrites request headers if it fails again",
                    status=403,
                    code=code,
                )
        try:
            return etag_receipt(part, response, what)
        except TargetExpired:
            self._forget(session, part)
            raise

    def _forget(self, session: Session, part: Part) -> None:
        if part.number == 1:
            self._stale.add(session.id)

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """PATCH the upload to finished; an unclear answer is repeated once (it is safe)."""
        what = "finish upload"
        last: TransientError | None = None
        for attempt in range(FINISH_TRIES):
            if attempt:
                await asyncio.sleep(FINISH_PAUSE)
            try:
                body = await self._request(
                    "PATCH", self._path(session), what, body={"state": "finished"}
                )
            except TransientError as exc:
                last = exc
                continue
            parse_finished(body, what)
            return session.location
        reason = last.settled if last else "no answer"
        raise CompleteUnknown(
            f"{reason}; Wunderlist may or may not have finished the upload: run partdeck "
            f"complete {session.id[:8]} again (repeating it is safe)"
        )

    async def abort(self, session: Session) -> str | None:
        """Nothing to send: Wunderlist has no abort and collects the upload itself."""
        return ABORT_NOTE

    async def check(self) -> str:
        """GET /user: the token and client id work."""
        body = await self._request("GET", "/user", "check account", gone=USER_GONE)
        if not isinstance(body, Mapping):
            raise _odd("check account", "not a JSON object")
        name = body.get("name") or body.get("email") or body.get("id")
        shown = _quote_text(name) if isinstance(name, str | int) else "an unnamed user"
        return f"signed in to Wunderlist as {shown}"


def from_account(account: AccountSettings, client: httpx.AsyncClient) -> Provider:
    """The adapter for a ``provider = "wunderlist"`` account."""
    if not account.client_id:
        raise ConfigError(
            f"accounts.{account.name}.client_id is missing; wunderlist accounts send their "
            'app\'s client id, e.g. client_id = "abc123"'
        )
    return WunderlistProvider(
        client,
        base_url=account.base_url or DEFAULT_BASE_URLS["wunderlist"],
        token=account.token(),
        client_id=account.client_id,
    )
