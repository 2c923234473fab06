"""Fileflare / Digital Downloads: the server chunks the file and presigns every part.

``POST /assets/signed`` answers with the server's byte ranges and one SigV4 presigned
S3 (MinIO) URL per part, all minted at once for 12 hours with no way to renew them;
parts go straight to S3 with no Content-Type; ``POST /assets/{id}/uploaded`` completes
the upload and ``POST /assets/{id}/cancel`` aborts it. Reference: providers.md section 5.
"""

from __future__ import annotations

import asyncio
import calendar
import ipaddress
import json
import mimetypes
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from tui.core.errors import (
    AlreadyCompleted,
    CallUnsupported,
    CompleteUnknown,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, Session
from tui.core.plan import PartLimits, choose_part_size
from tui.core.ports import OpenedSession, PartTarget, Receipt
from tui.core.redact import redact, url_for_people
from tui.core.transfer import NOT_IMPLEMENTED, answer_text, network_error, retry_after
from tui.core.units import GiB, MiB, TiB
from tui.providers.account import DEFAULT_BASE_URLS, AccountSettings
from tui.providers.base import BaseProvider
from tui.providers.s3xml import etag_receipt

__all__ = [
    "FileflareProvider",
    "SignedUpload",
    "error_for",
    "from_account",
    "link_expiry",
    "parse_signed",
]

ESTIMATED_PART = 100_000_000
"""The server's chunk size in the reference example; only an estimate before open."""
LINK_LIFETIME = 43_200
"""Seconds a part URL lives (X-Amz-Expires=43200, 12 h); it cannot be renewed."""
MAX_PARTS = 10_000
"""S3's part-number ceiling: more parts could never be completed."""
MAX_JSON = 32 * MiB
"""Larger answers are refused as nonsense rather than parsed (10,000 URLs fit easily)."""
MAX_SHOWN = 160
"""Characters of the server's own error text kept in a message."""
COMPLETE_PAUSE = 1.0
"""Seconds before complete is repeated after an ambiguous failure."""
RATE_WAITS = 3
"""429 answers waited out inside complete and abort before giving up."""
RATE_WAIT_CAP = 120.0
"""Longest single wait on a 429, whatever Retry-After says."""
ABORT_TRIES = 4
ABORT_PAUSE = 1.0
"""Seconds between cancel calls after a server error; doubled each time."""

LIMITS = PartLimits(
    min_part=5 * MiB,
    max_part=5 * GiB,
    max_parts=MAX_PARTS,
    max_size=5 * TiB,
    min_size=1,
    default_part=ESTIMATED_PART,
)
"""S3's rules under Fileflare; the server picks the real part size at open."""


# -- the server's answers, judged without I/O ----------------------------------------------


NOT_FILEFLARE = "not-fileflare"
"""RemoteError code of a success status whose body is not Fileflare's answer."""


def _integer(value: Any) -> int | None:
    """An int from JSON (a bool is not one; a string of up to 19 digits is, PHP sends those)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


def _identifier(value: Any) -> str | None:
    """A non-empty id from JSON: a string, or an integer as text."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    number = _integer(value)
    return str(number) if number is not None else None


def _shown(text: str) -> str:
    """The server's own words, safe and short enough for a one-line message."""
    text = redact(" ".join(text.split())).rstrip(".")
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def load_json(body: bytes) -> Any:
    """Parse a JSON answer; None when it is too large, not JSON, or nested absurdly deep."""
    if len(body) > MAX_JSON:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def link_expiry(url: str, now: float) -> float:
    """When a presigned URL dies: X-Amz-Date + X-Amz-Expires, else ``now`` + 12 h."""
    query = parse_qs(urlsplit(url).query)
    signed_at = (query.get("X-Amz-Date") or [""])[0]
    expires = _integer((query.get("X-Amz-Expires") or [""])[0])
    if expires is None or not signed_at:
        return now + LINK_LIFETIME
    try:
        start = calendar.timegm(time.strptime(signed_at, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        return now + LINK_LIFETIME
    return float(start + expires)


def _loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (the sandbox's hosts)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable_url(url: Any) -> bool:
    """https, or http to a loopback host (the sandbox); never anything else."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(host)
    return parts.scheme == "http" and _loopback(host)


@dataclass(frozen=True)
class SignedUpload:
    """The parts of an ``/assets/signed`` answer partdeck uses."""

    asset_id: str
    upload_id: str
    file_url: str | None
    chunk_size: int | None
    links: list[dict[str, Any]]
    """``{"part", "start", "end", "url", "expires_at"}`` in part order."""

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The server's part boundaries, ``[start, end)``."""
        return [(link["start"], link["end"]) for link in self.links]

    def remote(self) -> dict[str, Any]:
        """What a resume needs, for the journal."""
        return {
            "asset_id": self.asset_id,
            "upload_id": self.upload_id,
            "file_url": self.file_url,
            "chunk_size": self.chunk_size,
            "parts": self.links,
        }


class UnusableAnswer(RejectedError):
    """The server's answer to ``/assets/signed`` cannot be used as it is."""


def signed_ids(data: Any) -> tuple[str, str] | None:
    """(asset id, upload id) of a signed answer, when both are there: enough to cancel it."""
    if not isinstance(data, dict):
        return None
    asset_id, upload_id = _identifier(data.get("id")), _identifier(data.get("upload_id"))
    return (asset_id, upload_id) if asset_id and upload_id else None


def _link(item: Any, index: int, now: float) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise UnusableAnswer(f"urls[{index}] is not an object")
    start, end, part = (_integer(item.get(k)) for k in ("start", "end", "part"))
    url = item.get("url")
    if start is None or end is None or part is None or not isinstance(url, str):
        raise UnusableAnswer(f"urls[{index}] lacks a whole-number start, end or part, or a url")
    if not _usable_url(url):
        raise UnusableAnswer(f"part {part}'s URL is not https ({url_for_people(url)[:80]})")
    return {
        "part": part,
        "start": start,
        "end": end,
        "url": url,
        "expires_at": link_expiry(url, now),
    }


def parse_signed(data: Any, size: int, now: float) -> SignedUpload:
    """Judge an ``/assets/signed`` answer for a file of ``size`` bytes.

    The parts must be numbered 1..N and cover ``[0, size)`` with no gap or overlap, each
    URL https (or loopback http); anything else raises UnusableAnswer saying what.
    """
    ids = signed_ids(data)
    if ids is None:
        raise UnusableAnswer("it has no id or upload_id")
    urls = data.get("urls")
    if not isinstance(urls, list) or not urls:
        raise UnusableAnswer("it has no part URLs")
    if len(urls) > MAX_PARTS:
        raise UnusableAnswer(f"{len(urls):,} parts is more than S3's {MAX_PARTS:,}")
    links = sorted((_link(item, i, now) for i, item in enumerate(urls)), key=lambda x: x["part"])
    position = 0
    for number, link in enumerate(links, start=1):
        if link["part"] != number:
            raise UnusableAnswer(f"its parts are not numbered 1 to {len(links)}")
        if link["start"] != position or link["end"] <= link["start"]:
            raise UnusableAnswer(
                f"part {number} covers bytes {link['start']}-{link['end']}, expected it to "
                f"start at {position} and not be empty"
            )
        position = link["end"]
    if position != size:
        raise UnusableAnswer(f"its parts end at byte {position:,}, the file has {size:,}")
    file_url = data.get("file_url")
    chunk = _integer(data.get("chunk_size"))
    return SignedUpload(
        asset_id=ids[0],
        upload_id=ids[1],
        file_url=file_url if isinstance(file_url, str) and file_url else None,
        chunk_size=chunk,
        links=links,
    )


def error_text(body: bytes) -> tuple[str | None, dict[str, list[str]]]:
    """(message, {field: [problems]}) of a Laravel-style JSON error answer."""
    data = load_json(body)
    if not isinstance(data, dict):
        return None, {}
    message = data.get("message")
    errors: dict[str, list[str]] = {}
    raw = data.get("errors")
    if isinstance(raw, dict):
        for field, problems in raw.items():
            items = problems if isinstance(problems, list) else [problems]
            errors[str(field)] = [p for p in items if isinstance(p, str)]
    return (message if isinstance(message, str) and message.strip() else None), errors


def _fields_sentence(message: str | None, errors: Mapping[str, list[str]]) -> str:
    """``name (The name field is required) and size (...)``, or the message alone."""
    named = [
        f"{_shown(field)} ({_shown(problems[0])})" if problems else _shown(field)
        for field, problems in list(errors.items())[:4]
    ]
    if len(errors) > 4:
        named.append(f"{len(errors) - 4} more")
    if not named:
        return f"the request ({_shown(message)})" if message else "the request"
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def error_for(response: httpx.Response, what: str) -> RemoteError:
    """The RemoteError for a failed Fileflare API answer; its message is one line."""
    status = response.status_code
    message, errors = error_text(answer_text(response).encode())  # a quoted token cut out
    said = f" (Fileflare said: {_shown(message)})" if message else ""
    if status == 429:
        wait = retry_after(response)
        limit = response.headers.get("X-RateLimit-Limit", "60")
        when = f"waiting {wait:.0f}s" if wait is not None else "waiting"
        return TransientError(
            f"{what}: rate limited by Fileflare ({_shown(limit)} requests a minute); {when} "
            "before trying again",
            status=status,
            retry_after=wait,
        )
    if status in NOT_IMPLEMENTED:
        return CallUnsupported(
            f"{what}: Fileflare does not support this request (HTTP {status}){said}; asking "
            "again will not help: check the account's base_url",
            status=status,
        )
    if status >= 500 or status == 408:
        return TransientError(
            f"{what}: Fileflare server error {status}{said}; will retry", status=status
        )
    if status == 401:
        return RejectedError(
            f"{what}: Fileflare rejected the API key{said}; check the account's token or make "
            "a new API key in Fileflare",
            status=status,
            code="unauthenticated",
        )
    if status == 402:
        return RejectedError(
            f"{what}: Fileflare storage quota is full: delete files or upgrade the plan{said}",
            status=status,
            code="quota",
        )
    if status == 403:
        return RejectedError(
            f"{what}: Fileflare denied access{said}; check the API key's permissions",
            status=status,
            code="forbidden",
        )
    if status == 404:
        return RejectedError(
            f"{what}: Fileflare no longer has this asset{said}; it was cancelled or never "
            "made, so upload the file again",
            status=status,
            code="not_found",
        )
    if status == 422:
        return RejectedError(
            f"{what}: Fileflare refused {_fields_sentence(message, errors)}",
            status=status,
            code="invalid",
        )
    return RejectedError(f"{what}: Fileflare said HTTP {status}{said}", status=status)


def _rate_wait(exc: TransientError) -> float:
    """Seconds to wait after a 429: its Retry-After (capped), else a guess of 5 s."""
    return min(exc.retry_after if exc.retry_after is not None else 5.0, RATE_WAIT_CAP)


_CALL_NAME = re.compile(r"^[a-z ]{1,20}: ")
"""The name of the call a network error's message starts with."""


def _cause(exc: RemoteError) -> str:
    """A few words on why a call had no clear answer, for a later message."""
    if exc.status == 429:
        return "rate limited"
    if exc.code == NOT_FILEFLARE:
        return f"an HTTP {exc.status} answer that is not Fileflare's"
    if exc.status:
        return f"HTTP {exc.status}"
    return _CALL_NAME.sub("", exc.settled)  # "complete: the connection was reset (host)"


# -- the adapter -----------------------------------------------------------------------------


class FileflareProvider(BaseProvider):
    """A Fileflare (Digital Downloads) store reached with an API key."""

    name: ClassVar[str] = "fileflare"
    title: ClassVar[str] = "Fileflare"
    limits = LIMITS
    digests = frozenset({"md5"})
    server_part_size = True
    renewable_targets = False
    target_lifetime = float(LINK_LIFETIME)
    overwrites_parts = True
    complete_repeatable = True
    open_repeatable = False

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        token: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._clock = clock

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        """Send one API call with the key; raise the right RemoteError unless it is 2xx."""
        try:
            response = await self._client.request(
                method,
                self._base + path,
                headers=self._headers,
                content=json.dumps(body).encode() if body is not None else None,
                params=params,
            )
        except httpx.TransportError as exc:
            error = network_error(exc)
            if not isinstance(error, TransientError):  # an untrusted certificate: no retry
                raise error from None
            raise TransientError(f"{what}: {error}") from None
        if not response.is_success:
            raise error_for(response, what)
        return response

    def part_size(self, size: int, requested: int | None) -> int:
        """Only an estimate: the server picks the part size at open."""
        return choose_part_size(size, self.limits, None)

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """``POST /assets/signed``: a new asset, its upload id and every part's URL."""
        name = os.path.basename(session.path)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = await self._request(
            "POST", "/assets/signed", "open", {"name": name, "size": session.size, "mime": mime}
        )
        data = load_json(response.content)
        try:
            signed = parse_signed(data, session.size, self._clock())
        except UnusableAnswer as exc:
            # Every part would go to the wrong place or not at all: undo the new asset.
            left = await self._cancel_unusable(data)
            raise RejectedError(
                f"open: Fileflare's answer cannot be used ({exc}); {left}; report this to "
                "Fileflare",
                code="unusable",
            ) from None
        location = signed.file_url or f"Fileflare asset {signed.asset_id}"
        return OpenedSession(
            remote=signed.remote(), location=url_for_people(location), ranges=signed.ranges
        )

    async def _cancel_unusable(self, data: Any) -> str:
        """Cancel an asset whose answer was unusable; say what is left behind."""
        ids = signed_ids(data)
        if ids is None:
            return "it names no asset, so nothing could be cancelled"
        try:
            await self._cancel(*ids)
        except RemoteError as exc:
            return f"the new asset {_shown(ids[0])} could not be cancelled ({_cause(exc)})"
        return "the new asset was cancelled, nothing is left behind"

    def _stored_link(self, session: Session, part: Part) -> dict[str, Any]:
        for link in session.remote.get("parts", []):
            if link.get("part") == part.number:
                if (link.get("start"), link.get("end")) != (part.start, part.end):
                    break
                return dict(link)
        raise RejectedError(
            f"part {part.number}: the journal holds no Fileflare link for bytes "
            f"{part.start:,}-{part.end:,}; abort with partdeck abort {session.id[:8]} and "
            "upload the file again"
        )

    async def target(self, session: Session, part: Part) -> PartTarget:
        """The part's URL from open, with no headers at all (the URL signs only ``host``)."""
        link = self._stored_link(session, part)
        expires_at = float(link["expires_at"])
        if self._clock() >= expires_at:
            raise TargetExpired(_expired_message(session, part))
        return PartTarget(url=link["url"], method="PUT", headers={}, expires_at=expires_at)

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """S3's answer: the ETag is the MD5 of the part, unless MinIO made it opaque."""
        what = f"part {part.number}"
        try:
            return etag_receipt(part, response, what)
        except TargetExpired:
            raise TargetExpired(_expired_message(session, part), status=403) from None
        except RejectedError as exc:
            if exc.code != "SignatureDoesNotMatch":
                raise
            raise RejectedError(
                f"{what}: the storage server refused Fileflare's signed link "
                f"(SignatureDoesNotMatch), which cannot be renewed; abort with partdeck abort "
                f"{session.id[:8]} and upload the file again",
                status=exc.status,
                code=exc.code,
            ) from None

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """``POST /assets/{id}/uploaded``; repeated once after an ambiguous failure."""
        remote = session.remote
        body = {
            "parts": [
                {"ETag": (p.etag or "").strip('"'), "PartNumber": p.number}
                for p in sorted(parts, key=lambda p: p.number)
            ],
            "upload_id": remote["upload_id"],
        }
        path = f"/assets/{quote(str(remote['asset_id']), safe='')}/uploaded"
        # The engine counts this call already: more than one means an earlier outcome is unknown.
        earlier = session.complete_sent > 1
        unknown: TransientError | None = None
        rate_waits = 0
        while True:
            try:
                response = await self._request("POST", path, "complete", body)
                if response.status_code == 201 or isinstance(load_json(response.content), dict):
                    return session.location
                # Fileflare answers 201; any other 2xx that is not its JSON (a page from
                # something in between) says nothing about whether the upload completed.
                raise TransientError(
                    "complete: the answer is not Fileflare's",
                    status=response.status_code,
                    code=NOT_FILEFLARE,
                )
            except TransientError as exc:
                if exc.status == 429 and rate_waits < RATE_WAITS:
                    rate_waits += 1
                    await asyncio.sleep(_rate_wait(exc))
                    continue
                if exc.status == 429 and unknown is None and not earlier:
                    # A 429 is refused before anything happens: nothing was completed.
                    raise RejectedError(
                        f"complete: rate limited by Fileflare {rate_waits + 1} times in a row, so "
                        f"nothing was completed; run partdeck complete {session.id[:8]} again in "
                        "a minute",
                        status=429,
                        code="rate_limited",
                    ) from None
                if unknown is None and exc.status != 429:
                    unknown = exc
                    await asyncio.sleep(COMPLETE_PAUSE)
                    if await self.find_completed(session):  # it took effect: no repeat
                        return session.location
                    continue
                raise self._unknown(session, unknown, exc) from None
            except RejectedError as exc:
                # After a complete that may have landed, a refusal proves nothing.
                if (unknown is not None or earlier) and exc.status != 401:
                    raise self._unknown(session, unknown, exc) from None
                if exc.status == 404:  # the asset was cancelled or removed: its parts too
                    raise UploadGone(exc.message, status=404, code=exc.code) from None
                raise

    def _unknown(
        self, session: Session, first: RemoteError | None, last: RemoteError
    ) -> CompleteUnknown:
        """Complete's outcome is unknown: say why, where to look, and what to run next."""
        if first is not None:
            why = f"{_cause(first)}, then {_cause(last)} on the repeat"
        else:
            why = f"{_cause(last)} on a repeat of an earlier complete"
        where = url_for_people(session.remote.get("file_url") or "") or "your Fileflare assets"
        short = session.id[:8]
        return CompleteUnknown(
            f"complete: Fileflare gave no clear answer ({why}); the file may already be there: "
            f"check {where}, then run partdeck complete {short} if it is missing or partdeck "
            f"abort {short} to cancel it"
        )

    async def find_completed(self, session: Session) -> str | None:
        """``GET /assets/{id}``: Fileflare shows an asset once its upload is complete."""
        asset_id = str(session.remote.get("asset_id", ""))
        path = f"/assets/{quote(asset_id, safe='')}"
        try:
            data = load_json((await self._request("GET", path, "look for the file")).content)
        except RemoteError:
            return None  # 404: not (or no longer) there; anything else: cannot say
        shown = data.get("data", data) if isinstance(data, dict) else None
        if isinstance(shown, dict) and _identifier(shown.get("id")) == asset_id:
            return session.location or f"Fileflare asset {asset_id}"
        return None

    async def abort(self, session: Session) -> str | None:
        """``POST /assets/{id}/cancel``: Fileflare removes the parts; 404 = already gone."""
        try:
            await self._cancel(str(session.remote["asset_id"]), str(session.remote["upload_id"]))
        except RejectedError as exc:
            # Refused (422, "already completed"): the asset may be complete after all.
            found = await self.find_completed(session) if exc.status == 422 else None
            if found is None:
                raise
            raise AlreadyCompleted(
                f"abort: Fileflare refused ({_cause(exc)})", location=found
            ) from None
        return None

    async def forget(self, session: Session) -> str | None:
        """Best effort: cancel the Fileflare asset a gone upload leaves (one call)."""
        asset_id, upload_id = session.remote.get("asset_id"), session.remote.get("upload_id")
        if asset_id is None or upload_id is None:
            return None
        shown = str(asset_id)[:64]
        path = f"/assets/{quote(str(asset_id), safe='')}/cancel"
        try:
            await self._request("POST", path, "cancel asset", {"upload_id": str(upload_id)})
        except RemoteError as exc:
            if exc.status == 404:
                return None  # cancelled already, or removed: nothing is left
            return f"Fileflare asset {shown} may remain: delete it in Fileflare"
        return f"Fileflare asset {shown} (never completed) was cancelled"

    async def _cancel(self, asset_id: str, upload_id: str) -> None:
        """Cancel one asset's upload, waiting out 429s and retrying server errors."""
        path = f"/assets/{quote(asset_id, safe='')}/cancel"
        failures = rate_waits = 0
        while True:
            try:
                response = await self._request("POST", path, "abort", {"upload_id": upload_id})
                if response.status_code == 204 or isinstance(load_json(response.content), dict):
                    return
                # Not Fileflare's answer (something in between may have sent it): ask
                # again; once cancelled, the asset answers 404.
                raise TransientError(
                    "abort: the answer is not Fileflare's",
                    status=response.status_code,
                    code=NOT_FILEFLARE,
                )
            except RejectedError as exc:
                if exc.status == 404:
                    return  # cancelled before, or never made: nothing is left either way
                raise
            except TransientError as exc:
                if exc.status == 429 and rate_waits < RATE_WAITS:
                    rate_waits += 1
                    await asyncio.sleep(_rate_wait(exc))
                    continue
                failures += 1
                if failures >= ABORT_TRIES or exc.status == 429:
                    raise TransientError(
                        f"abort: Fileflare did not confirm the cancel after {failures} "
                        f"tries ({_cause(exc)})",
                        status=exc.status,
                    ) from None
                await asyncio.sleep(ABORT_PAUSE * 2.0 ** (failures - 1))

    async def check(self) -> str:
        """``GET /assets?per_page=1``: proves the key works; counts the store's assets."""
        response = await self._request("GET", "/assets", "check", params={"per_page": 1})
        data = load_json(response.content)
        meta = data.get("meta") if isinstance(data, dict) else None
        total = _integer(meta.get("total")) if isinstance(meta, dict) else None
        counted = f" ({total:,} assets)" if total is not None else ""
        return f"Fileflare API key accepted{counted}"


def _expired_message(session: Session, part: Part) -> str:
    short = session.id[:8]
    return (
        f"part {part.number}: its Fileflare upload link expired (links last 12 h) and "
        f"cannot be renewed: abort with partdeck abort {short} and upload the file again"
    )


def from_account(account: AccountSettings, client: httpx.AsyncClient) -> FileflareProvider:
    """The adapter for a configured Fileflare account (reads its token once)."""
    return FileflareProvider(
        client,
        base_url=account.base_url or DEFAULT_BASE_URLS["fileflare"],
        token=account.token(),
    )
