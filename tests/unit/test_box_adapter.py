"""Tests for tui.providers.box without a server: parsers, error mapping, receipts, commit."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.errors import (
    CompleteUnknown,
    RejectedError,
    RemoteError,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.model import Part, Session
from tui.core.ports import RemotePart
from tui.core.units import GiB, MiB, TiB
from tui.providers import box
from tui.providers.box import commit as box_commit
from tui.sandbox.box import part_size_for

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
"""Any JSON value."""


SHA1 = hashlib.sha1(b"part bytes").hexdigest()


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value Box could send, sometimes any JSON at all: hostile, yet deep enough
    to reach every check behind the first."""
    return st.one_of(valid, valid, valid, JSON)


def obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A Box object whose fields are valid-looking or anything, all there or some missing."""
    values = {k: maybe(v) for k, v in fields.items()}
    return st.fixed_dictionaries(values) | st.fixed_dictionaries({}, optional=values)


def encoded(values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return values.map(lambda v: json.dumps(v).encode())


NUMBER = st.sampled_from([0, 1, 3, 5, 8 * MiB, 4 * MiB + 5, 16 * MiB]) | st.integers(-3, 2**70)
COUNT = st.integers(-1, 6)
"""Small totals: a listing that claims millions of parts is paged until Box's offset cap,
which is slow but bounded."""
URL = st.sampled_from(["http://u/s/S1", "https://u/s/S1/commit", "https://u/s/S1/parts"])
TEXT = st.text(min_size=1, max_size=8)
ENDPOINTS = obj(upload_part=URL, commit=URL, abort=URL, list_parts=URL, status=URL, log_event=URL)
SESSION = obj(
    id=TEXT,
    type=st.just("upload_session"),
    part_size=NUMBER,
    total_parts=NUMBER,
    num_parts_processed=st.sampled_from([0, 1]),
    session_expires_at=st.sampled_from(["2026-11-28T10:53:43-08:00", "2026-13-99", "x"]),
    session_endpoints=ENDPOINTS,
)
PART = obj(
    part_id=TEXT,
    offset=NUMBER,
    size=NUMBER,
    sha1=st.sampled_from([SHA1, SHA1.upper(), "0" * 40, "xyz"]),
)
LISTING = obj(entries=st.lists(PART, max_size=4), total_count=COUNT, offset=NUMBER)
COMMITTED = obj(total_count=COUNT, entries=st.lists(obj(id=TEXT, name=TEXT), max_size=2))
ITEMS = obj(
    total_count=COUNT,
    entries=st.lists(
        obj(type=st.just("file"), id=TEXT, name=st.just("f.bin"), sha1=st.just(SHA1)),
        max_size=3,
    ),
)
ERROR = obj(
    type=st.just("error"),
    status=NUMBER,
    code=st.sampled_from(
        ["digest_mismatch", "range_overlaps_existing_part", "not_found", "item_name_in_use"]
    ),
    message=st.text(max_size=400),
)
BODIES = st.one_of(
    st.binary(max_size=200),
    encoded(JSON),
    encoded(SESSION),
    encoded(obj(part=PART)),
    encoded(LISTING),
    encoded(COMMITTED),
    encoded(ITEMS),
    encoded(ERROR),
    st.just(b"[" * 5000 + b"]" * 5000),
)
"""Hostile answers: bytes, any JSON, and each of Box's shapes with hostile values inside."""


@pytest.fixture(scope="module")
def provider() -> Iterator[box.BoxProvider]:
    yield box.BoxProvider(
        httpx.AsyncClient(), token="secret-token", base_url="http://box", upload_url="http://up"
    )


def _session(**remote: Any) -> Session:
    base = {
        "upload_id": "S1",
        "part_size": 8 * MiB,
        "total_parts": 3,
        "folder_id": "0",
        "file_name": "f.bin",
        "session_endpoints": {
            "upload_part": "http://up/files/upload_sessions/S1",
            "commit": "http://up/files/upload_sessions/S1/commit",
            "abort": "http://up/files/upload_sessions/S1",
            "list_parts": "http://up/files/upload_sessions/S1/parts",
        },
    }
    return Session(
        id="abcdef0123456789",
        account="a",
        provider="box",
        path="/tmp/f.bin",
        size=20 * MiB + 5,
        mtime_ns=0,
        part_size=8 * MiB,
        remote={**base, **remote},
        digests={"sha1": SHA1},
    )


def _part(number: int = 1, start: int = 0, end: int = 8 * MiB) -> Part:
    return Part(session_id="abcdef0123456789", number=number, start=start, end=end, sha1=SHA1)


def _response(status: int, body: Any = None, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode() if body else b""
    return httpx.Response(status, content=content, headers=headers)


# -- hostile answers ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(BODIES)
def test_hostile_answers_raise_only_remote_errors(body: bytes) -> None:
    for parse in (
        box.parse_session,
        lambda b: box.parse_uploaded_part(b, "part 1"),
        box.parse_parts_page,
        box.parse_committed,
    ):
        with contextlib.suppress(RemoteError):
            parse(body)
    code, message = box.error_of(body)
    assert code is None or isinstance(code, str)
    assert message is None or isinstance(message, str)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=100, max_value=599), BODIES)
def test_hostile_part_answers_give_a_receipt_or_a_remote_error(
    provider: box.BoxProvider, status: int, body: bytes
) -> None:
    try:
        receipt = provider.receipt(_session(), _part(), _response(status, body))
    except RemoteError as exc:
        assert "\n" not in str(exc)
        assert "secret-token" not in str(exc)
        return
    assert 200 <= status < 300 and receipt.verified


@settings(max_examples=300, deadline=None)
@given(SESSION)
def test_hostile_sessions_raise_only_remote_errors(data: dict[str, Any]) -> None:
    try:
        parsed = box.parse_session(json.dumps(data).encode())
    except RemoteError:
        return
    assert parsed.part_size >= 0 and parsed.total_parts >= 0
    assert set(parsed.endpoints) >= {"upload_part", "commit", "abort", "list_parts"}


def test_a_well_formed_session_is_read() -> None:
    endpoints = {name: f"https://up/x/{name}" for name in box._ENDPOINTS}
    body = {
        "id": "F97",
        "type": "upload_session",
        "session_expires_at": "2026-11-28T10:53:43-08:00",
        "part_size": 8 * MiB,
        "total_parts": 3,
        "num_parts_processed": 0,
        "session_endpoints": {**endpoints, "log_event": "https://up/x/log"},
    }
    parsed = box.parse_session(json.dumps(body).encode())
    assert parsed.id == "F97" and parsed.total_parts == 3
    assert parsed.expires_at == box.iso_time("2026-11-28T18:53:43Z")
    assert parsed.endpoints["log_event"] == "https://up/x/log"


# -- part size and planning -------------------------------------------------------------------


@given(st.integers(min_value=box.MIN_SIZE, max_value=50 * TiB))
def test_the_estimate_is_the_emulators_rule_and_fits_10000_parts(size: int) -> None:
    assert box.estimate_part_size(size) == part_size_for(size)
    assert -(-size // box.estimate_part_size(size)) <= 10_000


@pytest.mark.parametrize(
    ("size", "part"),
    [(box.MIN_SIZE, 8 * MiB), (512 * MiB - 1, 8 * MiB), (512 * MiB, 32 * MiB), (8 * GiB, 32 * MiB)],
)
def test_part_size_steps(provider: box.BoxProvider, size: int, part: int) -> None:
    assert provider.part_size(size, None) == part
    assert provider.part_size(size, 5 * MiB) == part  # Box picks; a request is ignored


def test_a_file_under_20_mib_is_refused_with_one_sentence(provider: box.BoxProvider) -> None:
    with pytest.raises(UsageError) as caught:
        provider.part_size(box.MIN_SIZE - 1, None)
    assert box.TOO_SMALL in str(caught.value)


async def test_the_target_carries_digest_and_an_inclusive_range(
    provider: box.BoxProvider,
) -> None:
    target = await provider.target(_session(), _part(2, 8 * MiB, 16 * MiB))
    assert target.method == "PUT"
    assert target.url.endswith("/upload_sessions/S1")
    assert target.headers["Content-Range"] == f"bytes {8 * MiB}-{16 * MiB - 1}/{20 * MiB + 5}"
    assert base64.b64decode(target.headers["Digest"].removeprefix("sha=")).hex() == SHA1
    assert target.headers["Content-Type"] == "application/octet-stream"
    assert target.headers["Authorization"] == "Bearer secret-token"


async def test_a_session_past_its_expiry_is_not_sent_to(provider: box.BoxProvider) -> None:
    with pytest.raises(UploadGone, match="sessions last 7 days"):
        await provider.target(_session(expires_at=1.0), _part())


def test_a_404_elsewhere_names_what_is_missing_and_is_no_gone_upload() -> None:
    with pytest.raises(RejectedError, match="Box folder 7 is gone") as caught:
        box.raise_for_box(_error(404, "not_found"), "look", gone="Box folder 7 is gone")
    assert type(caught.value) is RejectedError


# -- receipts and errors ----------------------------------------------------------------------


def _answer(**changes: Any) -> httpx.Response:
    part = {"part_id": "6F2D3486", "offset": 0, "size": 8 * MiB, "sha1": SHA1.upper()}
    return _response(200, {"part": {**part, **changes}})


def test_a_matching_answer_is_verified(provider: box.BoxProvider) -> None:
    receipt = provider.receipt(_session(), _part(), _answer())
    assert receipt.verified and receipt.etag == "6F2D3486"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"sha1": "0" * 40}, "Box reports SHA-1"),
        ({"offset": 8 * MiB}, "at offset"),
        ({"size": 5}, "Box stored 5 bytes"),
    ],
)
def test_a_mismatching_answer_is_rejected(
    provider: box.BoxProvider, changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(RejectedError, match=words):
        provider.receipt(_session(), _part(), _answer(**changes))


def test_a_garbled_200_is_transient_so_the_engine_checks_list_parts(
    provider: box.BoxProvider,
) -> None:
    with pytest.raises(TransientError, match="checking what Box holds"):
        provider.receipt(_session(), _part(), _response(200, {"part": {"part_id": 1}}))


def _error(status: int, code: str, message: str = "m", **headers: str) -> httpx.Response:
    body = {"type": "error", "status": status, "code": code, "message": message}
    return _response(status, body, **headers)


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (_error(409, "range_overlaps_existing_part"), TransientError, "already holds a part"),
        (_error(400, "bad_digest"), TransientError, "sending it again"),
        (_error(416, "requested_range_not_satisfiable"), RejectedError, "a bug"),
        (_error(404, "not_found"), UploadGone, re.escape(box.SESSION_GONE)),
        (_error(403, "storage_limit_exceeded"), RejectedError, "Box storage is full"),
        (_error(400, "digest_mismatch"), RejectedError, re.escape(box.DIGEST_MISMATCH)),
        (_error(400, "file_size_too_small"), RejectedError, re.escape(box.TOO_SMALL)),
        (_response(401), RejectedError, "Box refused the access token"),
        (_error(503, "unavailable"), TransientError, "will retry"),
        (_error(400, "bad_request", "x\ny"), RejectedError, r"Box said 400 \(bad_request: x y\)"),
    ],
)
def test_box_errors_map_to_one_sentence(
    response: httpx.Response, kind: type[RemoteError], words: str
) -> None:
    with pytest.raises(kind, match=words) as caught:
        box.raise_for_box(response, "part 1")
    assert type(caught.value) is kind
    assert "\n" not in str(caught.value)


def test_429_keeps_retry_after() -> None:
    with pytest.raises(TransientError) as caught:
        box.raise_for_box(_error(429, "rate_limit_exceeded", **{"Retry-After": "7"}), "x")
    assert caught.value.retry_after == 7.0


def test_a_name_conflict_names_the_file() -> None:
    with pytest.raises(RejectedError, match=r"a file named f\.bin already exists in the folder"):
        box.raise_for_box(_error(409, "item_name_in_use"), "commit", file_name="f.bin")


def test_remote_parts_match_on_size_and_sha1(provider: box.BoxProvider) -> None:
    part = _part()
    ours = RemotePart(1, 8 * MiB, "P1", SHA1)
    assert provider.remote_receipt(part, ours) is not None
    assert provider.remote_receipt(part, RemotePart(1, 8 * MiB, "P1", "0" * 40)) is None
    assert provider.remote_receipt(part, RemotePart(1, 5, "P1", SHA1)) is None


# -- commit against a scripted server ---------------------------------------------------------


LISTED = {
    "entries": [
        {"part_id": f"P{n}", "offset": (n - 1) * 8 * MiB, "size": size, "sha1": SHA1}
        for n, size in ((1, 8 * MiB), (2, 8 * MiB), (3, 4 * MiB + 5))
    ],
    "total_count": 3,
}
"""What Box lists for the three parts of ``_parts()``."""


def _scripted(commit: Callable[[httpx.Request], httpx.Response]) -> box.BoxProvider:
    listed = LISTED

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/parts"):
            return _response(200, listed)
        if request.url.path.endswith("/commit"):
            return commit(request)
        return _response(200, {"total_count": 0, "entries": []})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return box.BoxProvider(client, token="t", base_url="http://box", upload_url="http://up")


def _parts() -> list[Part]:
    sizes = [(0, 8 * MiB), (8 * MiB, 16 * MiB), (16 * MiB, 20 * MiB + 5)]
    return [_part(n, a, b) for n, (a, b) in enumerate(sizes, start=1)]


async def test_commit_sends_the_listed_parts_and_the_file_digest() -> None:
    seen: list[httpx.Request] = []

    def commit(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _response(201, {"total_count": 1, "entries": [{"id": "42", "name": "f.bin"}]})

    location = await _scripted(commit).complete(_session(), _parts())
    assert location == "box file 42 (f.bin)"
    body = json.loads(seen[0].content)
    assert [p["offset"] for p in body["parts"]] == [0, 8 * MiB, 16 * MiB]
    assert body["parts"][0] == {"part_id": "P1", "offset": 0, "size": 8 * MiB, "sha1": SHA1}
    assert seen[0].headers["Digest"] == "sha=" + base64.b64encode(bytes.fromhex(SHA1)).decode()


async def test_commit_stops_waiting_after_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(box_commit, "COMMIT_ACCEPTED_TRIES", 3)
    calls: list[int] = []

    def accepted(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return _response(202, **{"Retry-After": "0"})

    with pytest.raises(CompleteUnknown, match="still processing the parts after 3 tries"):
        await _scripted(accepted).complete(_session(), _parts())
    assert len(calls) == 3


async def test_commit_without_a_clear_answer_says_where_to_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(box_commit, "COMMIT_BACKOFF", 0.0)

    def broken(request: httpx.Request) -> httpx.Response:
        return _error(500, "internal_server_error")

    with pytest.raises(CompleteUnknown, match=r"look for the file f\.bin in folder 0"):
        await _scripted(broken).complete(_session(), _parts())


async def test_a_closed_session_without_the_file_says_where_to_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(box_commit, "COMMIT_BACKOFF", 0.0)
    answers = iter([_error(500, "internal_server_error"), _error(404, "not_found")])

    with pytest.raises(RejectedError, match="no longer has the upload session") as caught:
        await _scripted(lambda r: next(answers)).complete(_session(), _parts())
    assert "folder 0 holds no file f.bin" in str(caught.value)


async def test_commit_refuses_when_box_lacks_a_part() -> None:
    provider = _scripted(lambda r: _response(201, {}))
    parts = _parts()
    parts[1].sha1 = "1" * 40
    with pytest.raises(RejectedError, match="lacks part\\(s\\) 2; run partdeck resume abcdef01"):
        await provider.complete(_session(), parts)


def answers(shape: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[int, bytes]]:
    """A status (mostly success) and a body (mostly the right shape, hostile inside)."""
    status = st.sampled_from([200, 201]) | st.sampled_from([202, 400, 404, 409, 416, 500])
    return st.tuples(status, encoded(shape) | BODIES)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    session=answers(SESSION),
    listing=answers(st.just(LISTED) | LISTING),
    commit=answers(COMMITTED),
    items=answers(ITEMS),
)
def test_hostile_servers_never_raise_anything_but_remote_errors(
    monkeypatch: pytest.MonkeyPatch,
    session: tuple[int, bytes],
    listing: tuple[int, bytes],
    commit: tuple[int, bytes],
    items: tuple[int, bytes],
) -> None:
    monkeypatch.setattr(box_commit, "COMMIT_BACKOFF", 0.0)
    monkeypatch.setattr(box_commit, "ACCEPTED_WAIT_DEFAULT", 0.0)
    monkeypatch.setattr(box_commit, "COMMIT_ACCEPTED_TRIES", 2)

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/files/upload_sessions"):
            status, body = session
        elif path.endswith("/parts"):
            status, body = listing
        elif path.endswith("/commit"):
            status, body = commit
        elif "/folders/" in path:
            status, body = items
        else:
            status, body = 204, b""
        return httpx.Response(status, content=body)

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
            provider = box.BoxProvider(
                client, token="t", base_url="http://b", upload_url="http://u"
            )
            plan = _session()
            plan.remote = {}
            for step in (
                lambda: provider.open(plan, _parts()),
                lambda: provider.remote_parts(_session()),
                lambda: provider.complete(_session(), _parts()),
                lambda: provider.abort(_session()),
                provider.check,
            ):
                with contextlib.suppress(RemoteError):
                    await step()

    asyncio.run(run())
