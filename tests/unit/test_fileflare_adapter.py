"""The Fileflare adapter against scripted answers (httpx.MockTransport): calls and outcomes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.errors import (
    AlreadyCompleted,
    CompleteUnknown,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, PartState, Session
from tui.core.transfer import send_part
from tui.providers import fileflare
from tui.providers.fileflare import FileflareProvider
from tui.providers.fileflare import api as fileflare_api
from tui.providers.fileflare import provider as fileflare_provider

BASE = "https://app.digital-downloads.com/api/v1"
TOKEN = "ff-secret-key"
PART_URL = "https://minio.example/b/k?partNumber={n}&uploadId=u1&X-Amz-Signature=s"

Script = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileflare_provider, "COMPLETE_PAUSE", 0.0)
    monkeypatch.setattr(fileflare_api, "ABORT_PAUSE", 0.0)


class Recorder:
    """A MockTransport that answers from a list, recording every request."""

    def __init__(self, *answers: httpx.Response | Script) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def run(recorder: Recorder, call: Callable[[FileflareProvider], Any], now: float = 1000.0) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
            provider = FileflareProvider(client, base_url=BASE, token=TOKEN, clock=lambda: now)
            return await call(provider)

    return asyncio.run(go())


def session(size: int = 12, **remote: Any) -> Session:
    return Session(
        id="0123456789abcdef",
        account="ff",
        provider="fileflare",
        path="/data/My Album.zip",
        size=size,
        mtime_ns=0,
        part_size=fileflare.ESTIMATED_PART,
        remote=remote,
        location="https://app.digital-downloads.com/assets/a1",
    )


def opened_session() -> Session:
    links = [
        {"part": 1, "start": 0, "end": 5, "url": PART_URL.format(n=1), "expires_at": 2000.0},
        {"part": 2, "start": 5, "end": 12, "url": PART_URL.format(n=2), "expires_at": 2000.0},
    ]
    return session(
        asset_id="a1",
        upload_id="u1",
        file_url="https://app.digital-downloads.com/assets/a1",
        parts=links,
    )


def parts() -> list[Part]:
    return [
        Part("0123456789abcdef", 1, 0, 5, PartState.VERIFIED, etag='"aa"'),
        Part("0123456789abcdef", 2, 5, 12, PartState.VERIFIED, etag="bb"),
    ]


def signed_answer(size: int = 12) -> dict[str, Any]:
    return {
        "chunk_size": 5,
        "upload_id": "u1",
        "id": "a1",
        "file_url": "https://app.digital-downloads.com/assets/a1",
        "urls": [
            {"start": 0, "end": 5, "part": 1, "url": PART_URL.format(n=1)},
            {"start": 5, "end": size, "part": 2, "url": PART_URL.format(n=2)},
        ],
    }


# -- open ------------------------------------------------------------------------------------


def test_open_sends_the_metadata_with_the_key_and_takes_the_servers_ranges() -> None:
    recorder = Recorder(httpx.Response(200, json=signed_answer()))
    opened = run(recorder, lambda p: p.open(session(), []))
    request = recorder.requests[0]
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/assets/signed")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert recorder.bodies()[0] == {"name": "My Album.zip", "size": 12, "mime": "application/zip"}
    assert opened.ranges == [(0, 5), (5, 12)]
    assert opened.location == "https://app.digital-downloads.com/assets/a1"
    assert opened.remote["asset_id"] == "a1" and opened.remote["upload_id"] == "u1"
    assert [p["expires_at"] for p in opened.remote["parts"]] == [1000.0 + 43_200] * 2


def test_an_unusable_answer_is_cancelled_and_refused() -> None:
    recorder = Recorder(
        httpx.Response(200, json=signed_answer(size=11)),
        httpx.Response(200, json={"message": "Upload cancelled."}),
    )
    with pytest.raises(RejectedError) as raised:
        run(recorder, lambda p: p.open(session(), []))
    assert str(raised.value) == (
        "open: Fileflare's answer cannot be used (its parts end at byte 11, the file has 12); "
        "the new asset was cancelled, nothing is left behind; report this to Fileflare"
    )
    cancel = recorder.requests[1]
    assert str(cancel.url) == f"{BASE}/assets/a1/cancel"
    assert recorder.bodies()[1] == {"upload_id": "u1"}


def test_a_full_quota_refuses_the_open() -> None:
    recorder = Recorder(httpx.Response(402, json={"message": "Plan storage exceeded."}))
    with pytest.raises(RejectedError) as raised:
        run(recorder, lambda p: p.open(session(), []))
    assert "open: Fileflare storage quota is full: delete files or upgrade the plan" in str(
        raised.value
    )
    assert len(recorder.requests) == 1


def test_a_network_failure_is_transient_and_names_the_call() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError) as raised:
        run(Recorder(broken), lambda p: p.open(session(), []))
    assert str(raised.value).startswith("open: could not connect (app.digital-downloads.com)")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 20) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(
    status=st.sampled_from([200, 201, 400, 401, 402, 404, 422, 429, 500, 502]),
    body=json_values | st.builds(signed_answer, st.integers(6, 14)),
    cancel_status=st.sampled_from([200, 404, 500]),
)
def test_hostile_open_answers_raise_only_remote_errors(
    status: int, body: Any, cancel_status: int
) -> None:
    recorder = Recorder(
        httpx.Response(status, content=json.dumps(body).encode()),
        httpx.Response(cancel_status, json={}),
    )
    try:
        opened = run(recorder, lambda p: p.open(session(), []))
    except RemoteError as exc:
        assert "\n" not in str(exc) and TOKEN not in str(exc)
        return
    assert opened.ranges == [(0, 5), (5, 12)]


# -- parts -----------------------------------------------------------------------------------


def test_the_target_is_the_stored_link_with_no_headers() -> None:
    target = run(Recorder(httpx.Response(500)), lambda p: _target(p, opened_session(), 2))
    assert target.url == PART_URL.format(n=2)
    assert target.method == "PUT"
    assert target.headers == {}
    assert target.expires_at == 2000.0


async def _target(provider: FileflareProvider, s: Session, n: int) -> Any:
    return await provider.target(s, parts()[n - 1])


def test_a_link_past_its_expiry_cannot_be_renewed() -> None:
    with pytest.raises(TargetExpired) as raised:
        run(Recorder(httpx.Response(500)), lambda p: _target(p, opened_session(), 1), now=2000.0)
    assert str(raised.value) == (
        "part 1: its Fileflare upload link expired (links last 12 h) and cannot be renewed: "
        "abort with partdeck abort 01234567 and upload the file again"
    )


def test_a_part_whose_bytes_differ_from_the_link_is_refused() -> None:
    s = opened_session()
    s.remote["parts"][1]["end"] = 13
    with pytest.raises(RejectedError, match="holds no Fileflare link for bytes 5-12"):
        run(Recorder(httpx.Response(500)), lambda p: _target(p, s, 2))


def _part_with_md5(data: bytes) -> Part:
    return Part("s", 1, 0, len(data), PartState.UPLOADED, md5=hashlib.md5(data).hexdigest())


@pytest.fixture
def provider() -> Iterator[FileflareProvider]:
    client = httpx.AsyncClient()
    yield FileflareProvider(client, base_url=BASE, token=TOKEN)
    asyncio.run(client.aclose())


def test_an_md5_etag_is_verified(provider: FileflareProvider) -> None:
    part = _part_with_md5(b"hello")
    answer = httpx.Response(200, headers={"ETag": f'"{part.md5}"'})
    receipt = provider.receipt(opened_session(), part, answer)
    assert receipt.verified and receipt.etag == part.md5


def test_a_minio_etag_is_unverifiable_not_failed(provider: FileflareProvider) -> None:
    part = _part_with_md5(b"hello")
    answer = httpx.Response(200, headers={"ETag": '"a6b2c0e3-opaque-minio"'})
    receipt = provider.receipt(opened_session(), part, answer)
    assert not receipt.verified and receipt.etag == "a6b2c0e3-opaque-minio"


def test_an_expired_answer_from_s3_says_the_link_cannot_be_renewed(
    provider: FileflareProvider,
) -> None:
    body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    with pytest.raises(TargetExpired, match="cannot be renewed: abort with partdeck abort"):
        provider.receipt(opened_session(), _part_with_md5(b"x"), httpx.Response(403, content=body))


def test_a_signature_refusal_is_not_blamed_on_the_users_keys(provider: FileflareProvider) -> None:
    body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>"
    with pytest.raises(RejectedError) as raised:
        provider.receipt(opened_session(), _part_with_md5(b"x"), httpx.Response(403, content=body))
    assert "refused Fileflare's signed link" in str(raised.value)
    assert "keys" not in str(raised.value)


# -- complete --------------------------------------------------------------------------------


async def _complete(provider: FileflareProvider, s: Session) -> str | None:
    return await provider.complete(s, list(reversed(parts())))


def test_complete_sends_bare_etags_in_order() -> None:
    recorder = Recorder(httpx.Response(201, json={"id": "a1"}))
    location = run(recorder, lambda p: _complete(p, opened_session()))
    assert location == "https://app.digital-downloads.com/assets/a1"
    assert str(recorder.requests[0].url) == f"{BASE}/assets/a1/uploaded"
    assert recorder.requests[0].method == "POST"
    assert recorder.bodies() == [
        {
            "parts": [{"ETag": "aa", "PartNumber": 1}, {"ETag": "bb", "PartNumber": 2}],
            "upload_id": "u1",
        }
    ]


NOT_SHOWN = httpx.Response(404, json={"message": "No query results for model."})
"""``GET /assets/{id}`` of an asset whose upload is not complete."""


def test_complete_is_repeated_once_after_an_ambiguous_failure() -> None:
    recorder = Recorder(httpx.Response(500), NOT_SHOWN, httpx.Response(201, json={}))
    assert run(recorder, lambda p: _complete(p, opened_session())) is not None
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("POST", "/api/v1/assets/a1/uploaded"),
        ("GET", "/api/v1/assets/a1"),
        ("POST", "/api/v1/assets/a1/uploaded"),
    ]


def test_a_lost_complete_answer_is_looked_up_not_repeated() -> None:
    shown = httpx.Response(200, json={"data": {"id": "a1", "filename": "x", "is_file": True}})
    recorder = Recorder(httpx.Response(500), shown)
    location = run(recorder, lambda p: _complete(p, opened_session()))
    assert location == "https://app.digital-downloads.com/assets/a1"
    assert [r.method for r in recorder.requests] == ["POST", "GET"]


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        (httpx.Response(200, json={"data": {"id": "a1"}}), True),
        (httpx.Response(200, json={"data": {"id": "other"}}), False),
        (httpx.Response(200, text="<html>"), False),
        (NOT_SHOWN, False),
        (httpx.Response(500), False),
    ],
)
def test_find_completed_trusts_only_this_asset_shown(answer: httpx.Response, found: bool) -> None:
    location = run(Recorder(answer), lambda p: p.find_completed(opened_session()))
    assert (location is not None) == found


def test_two_ambiguous_failures_leave_the_outcome_to_the_user() -> None:
    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    recorder = Recorder(httpx.Response(503), NOT_SHOWN, reset)
    with pytest.raises(CompleteUnknown) as raised:
        run(recorder, lambda p: _complete(p, opened_session()))
    assert [r.method for r in recorder.requests] == ["POST", "GET", "POST"]
    assert str(raised.value) == (
        "complete: Fileflare gave no clear answer (HTTP 503, then the connection was reset "
        "(app.digital-downloads.com) on the repeat); the file may already be there: check "
        "https://app.digital-downloads.com/assets/a1, then run partdeck complete 01234567 if "
        "it is missing or partdeck abort 01234567 to cancel it"
    )


def test_a_refusal_after_an_ambiguous_complete_proves_nothing() -> None:
    refused = httpx.Response(422, json={"message": "x", "errors": {"parts": ["InvalidPart"]}})
    recorder = Recorder(httpx.Response(500), NOT_SHOWN, refused)
    with pytest.raises(CompleteUnknown):
        run(recorder, lambda p: _complete(p, opened_session()))


def test_a_first_refusal_is_a_clear_failure() -> None:
    refused = httpx.Response(422, json={"message": "x", "errors": {"parts": ["InvalidPart"]}})
    with pytest.raises(RejectedError) as raised:
        run(Recorder(refused), lambda p: _complete(p, opened_session()))
    assert not isinstance(raised.value, CompleteUnknown)
    assert str(raised.value) == "complete: Fileflare refused parts (InvalidPart)"


def test_a_rate_limited_complete_waits_and_is_not_counted_as_ambiguous() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "0"}, json={})
    recorder = Recorder(
        limited, limited, httpx.Response(500), NOT_SHOWN, httpx.Response(201, json={})
    )
    assert run(recorder, lambda p: _complete(p, opened_session())) is not None
    assert len(recorder.requests) == 5


def test_a_second_complete_by_the_user_is_already_a_repeat() -> None:
    s = opened_session()
    s.complete_sent = 2
    refused = httpx.Response(422, json={"message": "x", "errors": {"parts": ["gone"]}})
    with pytest.raises(CompleteUnknown) as raised:
        run(Recorder(refused), lambda p: _complete(p, s))
    assert str(raised.value).startswith(
        "complete: Fileflare gave no clear answer (HTTP 422 on a repeat of an earlier complete);"
    )


def test_a_complete_rate_limited_throughout_is_refused_not_unknown() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "0"}, json={})
    recorder = Recorder(limited)
    with pytest.raises(RejectedError) as raised:
        run(recorder, lambda p: _complete(p, opened_session()))
    assert not isinstance(raised.value, CompleteUnknown)
    assert len(recorder.requests) == fileflare.RATE_WAITS + 1
    assert str(raised.value) == (
        "complete: rate limited by Fileflare 4 times in a row, so nothing was completed; run "
        "partdeck complete 01234567 again in a minute"
    )


@settings(max_examples=60, deadline=None)
@given(
    statuses=st.lists(st.sampled_from([200, 201, 400, 401, 404, 422, 500, 503]), min_size=2),
    body=json_values,
)
def test_hostile_complete_answers_raise_only_remote_errors(statuses: list[int], body: Any) -> None:
    answers = [httpx.Response(s, content=json.dumps(body).encode()) for s in statuses]
    recorder = Recorder(*answers)
    try:
        run(recorder, lambda p: _complete(p, opened_session()))
    except RemoteError as exc:
        assert "\n" not in str(exc)
    assert sum(r.method == "POST" for r in recorder.requests) <= 2


# -- abort and check -------------------------------------------------------------------------


def test_abort_cancels_with_the_upload_id() -> None:
    recorder = Recorder(httpx.Response(200, json={"message": "Upload cancelled."}))
    assert run(recorder, lambda p: p.abort(opened_session())) is None
    assert str(recorder.requests[0].url) == f"{BASE}/assets/a1/cancel"
    assert recorder.bodies() == [{"upload_id": "u1"}]


def test_abort_of_an_asset_already_gone_is_done() -> None:
    recorder = Recorder(httpx.Response(404, json={"message": "No query results"}))
    assert run(recorder, lambda p: p.abort(opened_session())) is None


def test_abort_refused_as_completed_finds_the_asset() -> None:
    done = {"message": "The upload has already been completed.", "errors": {"upload_id": ["x"]}}
    shown = httpx.Response(200, json={"data": {"id": "a1"}})
    recorder = Recorder(httpx.Response(422, json=done), shown)
    with pytest.raises(AlreadyCompleted) as raised:
        run(recorder, lambda p: p.abort(opened_session()))
    assert raised.value.location == "https://app.digital-downloads.com/assets/a1"
    refused = Recorder(httpx.Response(422, json=done), NOT_SHOWN)
    with pytest.raises(RejectedError) as plain:
        run(refused, lambda p: p.abort(opened_session()))
    assert not isinstance(plain.value, AlreadyCompleted)


def test_abort_gives_up_after_a_few_server_errors() -> None:
    recorder = Recorder(httpx.Response(500))
    with pytest.raises(TransientError) as raised:
        run(recorder, lambda p: p.abort(opened_session()))
    assert len(recorder.requests) == fileflare.ABORT_TRIES
    assert (
        str(raised.value) == "abort: Fileflare did not confirm the cancel after 4 tries (HTTP 500)"
    )


def test_check_lists_one_asset() -> None:
    recorder = Recorder(httpx.Response(200, json={"data": [], "meta": {"total": 1234}}))
    assert run(recorder, lambda p: p.check()) == "Fileflare API key accepted (1,234 assets)"
    assert str(recorder.requests[0].url) == f"{BASE}/assets?per_page=1"


def test_check_with_a_bad_key() -> None:
    recorder = Recorder(httpx.Response(401, json={"message": "Unauthenticated."}))
    with pytest.raises(RejectedError, match="rejected the API key"):
        run(recorder, lambda p: p.check())


def test_traits_match_the_reference(provider: FileflareProvider) -> None:
    p = provider
    assert p.server_part_size and not p.renewable_targets
    assert p.target_lifetime == 43_200
    assert p.digests == frozenset({"md5"}) and not p.can_list_parts
    assert p.part_size(303_287_472, 8 * 1024 * 1024) == 100_000_000


def test_a_part_goes_out_with_no_content_type(tmp_path: Path) -> None:
    data = tmp_path / "part.bin"
    data.write_bytes(b"0123456789ab")
    recorder = Recorder(httpx.Response(200, headers={"ETag": '"x"'}))

    async def send(provider: FileflareProvider) -> None:
        target = await provider.target(opened_session(), parts()[1])
        async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
            await send_part(client, target, str(data), 5, 12, expected_xxh3=None)

    run(Recorder(httpx.Response(500)), send)
    request = recorder.requests[0]
    assert request.method == "PUT" and str(request.url) == PART_URL.format(n=2)
    assert "content-type" not in request.headers
    assert "authorization" not in request.headers
    assert request.content == b"56789ab"


# -- a gone upload -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (httpx.Response(200, json={"message": "Upload cancelled."}), "was cancelled"),
        (httpx.Response(404, json={"message": "Not found."}), None),
        (httpx.Response(500, json={"message": "Server Error"}), "may remain: delete it"),
    ],
    ids=["cancelled", "already gone", "cannot say"],
)
def test_forget_cancels_the_asset_once_and_says_what_is_left(
    answer: httpx.Response, note: str | None
) -> None:
    recorder = Recorder(answer)
    said = run(recorder, lambda p: p.forget(opened_session()))
    assert len(recorder.requests) == 1  # best effort: one call, no retries
    assert recorder.requests[0].url.path.endswith("/assets/a1/cancel")
    assert recorder.bodies() == [{"upload_id": "u1"}]
    if note is None:
        assert said is None
    else:
        assert said is not None and note in said and "a1" in said and TOKEN not in said


def test_a_first_complete_meeting_a_missing_asset_is_a_gone_upload() -> None:
    recorder = Recorder(httpx.Response(404, json={"message": "Not found."}))
    s = opened_session()
    s.complete_sent = 1
    with pytest.raises(UploadGone, match="Fileflare no longer has this asset"):
        run(recorder, lambda p: p.complete(s, parts()))
