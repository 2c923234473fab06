"""Fault injection for the sandbox: what to break, how often, and the live counts.

A spec is either a comma list (``part_500=0.1,part_reset=0.05,box.commit_202=2,seed=7``;
a ``provider.`` prefix limits a key to one provider) or the path of a TOML file whose
top-level keys apply to every provider and whose ``[gumroad]``-style tables override
them. Part faults hit part uploads (PUTs to the S3 gateway, or to Box's upload
endpoint); the counted faults hit one provider call per upload, the first N times.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import logging
import random
import threading
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tui.core.errors import UsageError

PROVIDERS = ("s3", "gumroad", "polar", "box", "fileflare", "wunderlist")


@dataclass(frozen=True)
class FaultSpec:
    """What one provider's emulator breaks on purpose."""

    part_500: float = 0.0
    """Share of part uploads answered 500 Internal Error."""
    part_reset: float = 0.0
    """Share of part uploads whose connection is cut before the answer ends."""
    part_stall: float = 0.0
    """Share of part uploads held ``stall_seconds`` without an answer, then cut."""
    stall_seconds: float = 20.0
    token_ttl: float = 3600.0
    """Box: seconds an access token from the OAuth endpoints works (Box: 60 minutes)."""
    expire_early: float = 0.0
    """Share of part uploads refused as if their link had expired (403 Request has expired)."""
    corrupt_etag: float = 0.0
    """Share of part uploads stored fine but answered with a wrong ETag (and, on an S3
    gateway, a wrong value for each checksum it echoes)."""
    part_corrupt: float = 0.0
    """S3 gateways: share of part uploads whose bytes arrive with one byte changed, as if
    damaged on the way; the store's check of the part's checksum (or Content-MD5) answers
    400 BadDigest."""
    refuse_checksums: int = 0
    """S3 gateways: 1 to refuse S3's flexible-checksum headers on every call, as Backblaze
    B2 does (400 InvalidArgument: Unsupported header)."""
    commit_202: int = 0
    """Box: commits per session answered 202 + Retry-After before the real answer."""
    abort_accepted: int = 0
    """Gumroad: aborts per upload answered ``accepted`` while the upload is kept."""
    complete_lost: int = 0
    """Completes per upload carried out on the server but answered 500."""
    upload_gone: int = 0
    """Part uploads per upload after which the upload is aborted on the server, as if by
    someone else (the next part meets S3's 404 NoSuchUpload); 0 for never."""
    abort_lost: int = 0
    """Aborts per upload carried out on the server but answered 500."""
    abort_stall: int = 0
    """Gumroad: aborts per upload carried out on the server, then held ``stall_seconds``
    without an answer and cut (a client that dies meanwhile never learns the outcome)."""
    view_500: int = 0
    """Looks at one upload's finished file (Fileflare's asset, Polar's file list by id,
    Box's folder listing) answered 500, per upload (Box: per folder)."""
    parts: tuple[int, ...] = ()
    """Only these part numbers get part faults; empty for every part."""
    limit: int | None = None
    """At most this many part faults in all; None for no limit."""
    seed: int | None = None
    """Seed for the random draws, so a run can be repeated."""

    @property
    def active(self) -> bool:
        """True when the spec breaks anything at all."""
        return dataclasses.replace(self, token_ttl=FaultSpec.token_ttl) != FaultSpec(seed=self.seed)


_FIELDS = {f.name: f for f in dataclasses.fields(FaultSpec)}
_SECONDS = ("stall_seconds", "token_ttl")
"""Float fields that are seconds, not shares."""
_PART_FAULTS = ("part_500", "part_reset", "part_stall", "expire_early", "part_corrupt")
"""The faults ``FaultSpec.limit`` counts."""


def _value(name: str, raw: Any) -> Any:
    kind = _FIELDS[name].type
    try:
        if name == "parts":
            items = raw if isinstance(raw, list) else str(raw).replace("+", " ").split()
            return tuple(int(x) for x in items)
        if name in ("limit", "seed"):
            return None if raw in (None, "", "none") else int(raw)
        if kind in ("float", float):
            value = float(raw)
            if value < 0.0 or (name not in _SECONDS and value > 1.0):
                raise ValueError
            return value
        value = int(raw)
        if value < 0:
            raise ValueError
        return value
    except (TypeError, ValueError):
        shape = (
            "a share from 0 to 1"
            if kind in ("float", float) and name not in _SECONDS
            else "a number"
        )
        raise UsageError(
            f"faults: {name} = {raw!r} is not valid; give {shape}, e.g. {name}="
            f"{'0.1' if 'share' in shape else '2'}"
        ) from None


def _check_name(name: str) -> None:
    if name not in _FIELDS:
        close = difflib.get_close_matches(name, _FIELDS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"faults: unknown fault {name!r}{hint}; known: {', '.join(_FIELDS)}")


def parse_faults(text: str) -> dict[str, FaultSpec]:
    """Parse a ``--faults`` value (a comma list or a TOML file) into a spec per provider."""
    common: dict[str, Any] = {}
    per: dict[str, dict[str, Any]] = {p: {} for p in PROVIDERS}
    path = Path(text).expanduser()
    if text.endswith(".toml") or path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"faults file {path}: {exc.strerror}; check the path") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"faults file {path}: invalid TOML ({exc}); fix it") from None
        for key, value in data.items():
            if isinstance(value, dict):
                if key not in per:
                    raise UsageError(
                        f"faults file {path}: [{key}] is not a provider; use one of "
                        f"{', '.join(PROVIDERS)}"
                    )
                for name, raw in value.items():
                    _check_name(name)
                    per[key][name] = _value(name, raw)
            else:
                _check_name(key)
                common[key] = _value(key, value)
    else:
        for item in filter(None, (i.strip() for i in text.split(","))):
            key, sep, raw = item.partition("=")
            if not sep:
                raise UsageError(
                    f"faults: {item!r} is not name=value; e.g. part_500=0.1,box.commit_202=2"
                )
            provider, dot, name = key.strip().rpartition(".")
            _check_name(name)
            if dot and provider not in per:
                raise UsageError(
                    f"faults: {provider!r} in {key!r} is not a provider; use one of "
                    f"{', '.join(PROVIDERS)}"
                )
            target = per[provider] if dot else common
            target[name] = _value(name, raw.strip())
    return {p: FaultSpec(**{**common, **per[p]}) for p in PROVIDERS}


@dataclass
class Faults:
    """The live fault state of one emulator: its spec, random draws and counts."""

    spec: FaultSpec = field(default_factory=FaultSpec)
    injected: Counter[str] = field(default_factory=Counter)
    """Faults injected so far, by name."""
    part_puts: Counter[tuple[str, int]] = field(default_factory=Counter)
    """Part uploads received, by (upload id, part number), faulted or not."""
    corrupted: set[str] = field(default_factory=set)
    """The wrong ETags (or Box sha1s) answered by ``corrupt_etag``."""
    signatures: set[str] = field(default_factory=set)
    """Every request signature the gateway was shown; kept in memory (never served) so
    tests can prove none of them leaks into logs, events or the screen."""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.spec.seed)
        self._taken: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def reset(self, spec: FaultSpec | None = None) -> None:
        """Start again with ``spec`` (or the same one): counts and draws cleared."""
        with self._lock:
            self.spec = spec or self.spec
            self._rng = random.Random(self.spec.seed)
            self._taken.clear()
            self.injected.clear()
            self.part_puts.clear()
            self.signatures.clear()
            self.corrupted.clear()

    def count_put(self, upload_id: str, number: int) -> None:
        """Record one part upload."""
        with self._lock:
            self.part_puts[(upload_id, number)] += 1

    def gone_now(self, upload_id: str) -> bool:
        """True once per upload, when the part upload just counted is the one that finds it
        aborted (``upload_gone``): the caller aborts it on the S3 server first."""
        limit = self.spec.upload_gone
        with self._lock:
            received = sum(c for (u, _), c in self.part_puts.items() if u == upload_id)
            if not limit or received <= limit or self._taken[("upload_gone", upload_id)]:
                return False
            self._taken[("upload_gone", upload_id)] += 1
            self.injected["upload_gone"] += 1
            return True

    def saw_signature(self, signature: str) -> None:
        """Record a signature a request carried."""
        if signature:
            with self._lock:
                self.signatures.add(signature)

    def part_fault(self, number: int) -> str | None:
        """The fault for this part upload: ``500``, ``reset``, ``stall``, ``expired`` or None."""
        spec = self.spec
        with self._lock:
            if spec.parts and number not in spec.parts:
                return None
            if spec.limit is not None and sum(self.injected[f] for f in _PART_FAULTS) >= spec.limit:
                return None
            draw = self._rng.random()
            for name, share in (
                ("part_500", spec.part_500),
                ("part_reset", spec.part_reset),
                ("part_stall", spec.part_stall),
                ("expire_early", spec.expire_early),
            ):
                if draw < share:
                    self.injected[name] += 1
                    return {"part_500": "500", "part_reset": "reset", "part_stall": "stall"}.get(
                        name, "expired"
                    )
                draw -= share
            return None

    def damage(self, number: int) -> bool:
        """True when this part upload's bytes should arrive changed (``part_corrupt``)."""
        spec = self.spec
        with self._lock:
            if not spec.part_corrupt or (spec.parts and number not in spec.parts):
                return False
            if spec.limit is not None and sum(self.injected[f] for f in _PART_FAULTS) >= spec.limit:
                return False
            if self._rng.random() < spec.part_corrupt:
                self.injected["part_corrupt"] += 1
                return True
            return False

    def refuses(self, headers: Iterable[str]) -> str | None:
        """The first flexible-checksum header of a request, when they are refused."""
        if not self.spec.refuse_checksums:
            return None
        for name in headers:
            if name.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum-")):
                with self._lock:
                    self.injected["refuse_checksums"] += 1
                return name.lower()
        return None

    def corrupt(self, number: int, wrong: str) -> str | None:
        """``wrong`` when this part's ETag (or sha1) should be answered wrong, else None."""
        spec = self.spec
        with self._lock:
            if spec.parts and number not in spec.parts:
                return None
            if self._rng.random() < spec.corrupt_etag:
                self.injected["corrupt_etag"] += 1
                self.corrupted.add(wrong)
                return wrong
            return None

    def take(self, name: str, key: str) -> bool:
        """True for the first N calls of counted fault ``name`` for upload ``key``."""
        limit = int(getattr(self.spec, name))
        with self._lock:
            if self._taken[(name, key)] >= limit:
                return False
            self._taken[(name, key)] += 1
            self.injected[name] += 1
            return True

    def puts_for(self, upload_id: str) -> dict[int, int]:
        """Part uploads received for one upload, by part number."""
        with self._lock:
            return {n: c for (u, n), c in self.part_puts.items() if u == upload_id}

    def stats(self) -> dict[str, Any]:
        """Counts for people and tests: faults injected and part uploads received."""
        with self._lock:
            return {
                "injected": dict(self.injected),
                "part_puts": sum(self.part_puts.values()),
            }


class ConnectionCut(Exception):
    """Raised inside a response on purpose: the server drops the connection mid-answer."""


class CutResponse(Response):
    """Starts an answer, then drops the connection (a reset, as the client sees it)."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1024")],
            }
        )
        raise ConnectionCut("sandbox fault: connection cut")


def s3_error(status: int, code: str, message: str) -> Response:
    """An S3-style XML error answer."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


async def part_fault_response(faults: Faults, number: int) -> Response | None:
    """Draw a part fault and build its answer; None to let the upload through."""
    fault = faults.part_fault(number)
    if fault is None:
        return None
    if fault == "500":
        return s3_error(500, "InternalError", "We encountered an internal error. Please try again.")
    if fault == "expired":
        return s3_error(403, "AccessDenied", "Request has expired")
    if fault == "stall":
        await asyncio.sleep(faults.spec.stall_seconds)
    return CutResponse()


class _DropCuts(logging.Filter):
    """Keep connection cuts out of uvicorn's error log: the deliberate ones, and clients
    that went away mid-request (a killed or interrupted upload is not a server error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionCut | ClientDisconnect)


def quiet_cuts(loggers: Iterable[str] = ("uvicorn.error",)) -> None:
    """Install the filter that hides deliberate cuts (idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropCuts) for f in logger.filters):
            logger.addFilter(_DropCuts())


def describe(specs: Mapping[str, FaultSpec]) -> list[str]:
    """One line per provider with active faults, for the sandbox's banner."""
    lines = []
    for provider, spec in specs.items():
        changed = {
            k: v
            for k, v in dataclasses.asdict(spec).items()
            if v != getattr(FaultSpec(), k) and k != "seed"
        }
        if changed:  # token_ttl too: it breaks nothing, but tokens run out
            lines.append(f"{provider}: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    return lines
