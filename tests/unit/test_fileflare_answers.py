"""Fileflare's answers judged without I/O: the signed answer, error bodies, link expiry."""

from __future__ import annotations

import calendar
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.errors import CallUnsupported, RejectedError, RemoteError, TransientError
from tui.providers.fileflare import (
    LINK_LIFETIME,
    UnusableAnswer,
    error_for,
    error_text,
    link_expiry,
    parse_signed,
)

SEED_SIZE = 303_287_472
SEED_URL = (
    "https://minio.massivemonkey.io/digital-assets/my-store.myshopify.com/8b0228e8?"
    "uploadId=56f30001&partNumber={n}&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=massivemonkey%2F20220629%2Fnyc3%2Fs3"
    "%2Faws4_request&X-Amz-Date=20220629T015644Z&X-Amz-SignedHeaders=host"
    "&X-Amz-Expires=43200&X-Amz-Signature=5145422d"
)
SIGNED_AT = calendar.timegm((2022, 6, 29, 1, 56, 44, 0, 0, 0))


def seed_answer(**changes: Any) -> dict[str, Any]:
    """The reference's own example answer (303,287,472 B in four parts)."""
    bounds = [(0, 100_000_000), (100_000_000, 200_000_000), (200_000_000, 300_000_000)]
    bounds.append((300_000_000, SEED_SIZE))
    answer: dict[str, Any] = {
        "chunk_size": 100_000_000,
        "upload_id": "56f30001-2548-489b-be0b-068be4b8102d",
        "urls": [
            {"start": a, "end": b, "part": n, "url": SEED_URL.format(n=n)}
            for n, (a, b) in enumerate(bounds, start=1)
        ],
        "id": "e784c8cb-7192-4c6c-9004-17fe31a859fc",
        "file_url": "https://app.digital-downloads.com/assets/e784c8cb-7192-4c6c-9004-17fe31a859fc",
    }
    answer.update(changes)
    return answer


def test_the_reference_example_parses_to_its_four_ranges() -> None:
    signed = parse_signed(seed_answer(), SEED_SIZE, now=0.0)
    assert signed.ranges == [
        (0, 100_000_000),
        (100_000_000, 200_000_000),
        (200_000_000, 300_000_000),
        (300_000_000, SEED_SIZE),
    ]
    assert signed.asset_id == "e784c8cb-7192-4c6c-9004-17fe31a859fc"
    assert signed.chunk_size == 100_000_000
    remote = signed.remote()
    assert remote["upload_id"] == "56f30001-2548-489b-be0b-068be4b8102d"
    assert remote["file_url"].endswith("/assets/e784c8cb-7192-4c6c-9004-17fe31a859fc")
    assert [p["expires_at"] for p in remote["parts"]] == [SIGNED_AT + 43_200.0] * 4
    assert json.loads(json.dumps(remote)) == remote  # the journal stores it as JSON


def test_parts_out_of_order_are_put_in_order() -> None:
    answer = seed_answer()
    answer["urls"].reverse()
    assert parse_signed(answer, SEED_SIZE, 0.0).ranges[0] == (0, 100_000_000)


def test_link_expiry_falls_back_to_twelve_hours_from_now() -> None:
    assert link_expiry("https://s3.example/k?partNumber=1", 1000.0) == 1000.0 + LINK_LIFETIME
    bad_date = "https://s3.example/k?X-Amz-Date=yesterday&X-Amz-Expires=60"
    assert link_expiry(bad_date, 5.0) == 5.0 + LINK_LIFETIME


def _mutate(answer: dict[str, Any], index: int, **fields: Any) -> dict[str, Any]:
    answer["urls"][index].update(fields)
    return answer


@pytest.mark.parametrize(
    ("answer", "size", "why"),
    [
        (seed_answer(urls=[]), SEED_SIZE, "no part URLs"),
        (seed_answer(id=None), SEED_SIZE, "no id or upload_id"),
        (seed_answer(upload_id=""), SEED_SIZE, "no id or upload_id"),
        (_mutate(seed_answer(), 1, start=100_000_001), SEED_SIZE, "part 2 covers bytes"),
        (_mutate(seed_answer(), 2, part=7), SEED_SIZE, "not numbered 1 to 4"),
        (_mutate(seed_answer(), 0, end=0), SEED_SIZE, "part 1 covers bytes 0-0"),
        (seed_answer(), SEED_SIZE + 1, "end at byte 303,287,472, the file has 303,287,473"),
        (_mutate(seed_answer(), 3, url="http://minio.example/k?x=1"), SEED_SIZE, "not https"),
        (_mutate(seed_answer(), 3, url="ftp://127.0.0.1/k"), SEED_SIZE, "not https"),
        (_mutate(seed_answer(), 0, start=True), SEED_SIZE, "lacks a whole-number"),
        (_mutate(seed_answer(), 0, url=None), SEED_SIZE, "lacks a whole-number"),
        (seed_answer(urls=[None]), SEED_SIZE, "urls[0] is not an object"),
        (seed_answer(urls=[{}] * 10_001), SEED_SIZE, "more than S3's 10,000"),
        ([], SEED_SIZE, "no id or upload_id"),
    ],
)
def test_unusable_answers_say_what_is_wrong(answer: Any, size: int, why: str) -> None:
    with pytest.raises(UnusableAnswer) as raised:
        parse_signed(answer, size, 0.0)
    assert why in str(raised.value)
    assert "\n" not in str(raised.value)


def test_loopback_http_is_allowed_for_the_sandbox() -> None:
    answer = seed_answer(
        urls=[{"start": 0, "end": 10, "part": 1, "url": "http://127.0.0.1:9000/b/k?p=1"}]
    )
    assert parse_signed(answer, 10, 0.0).ranges == [(0, 10)]


# -- hostile answers never escape as anything but RemoteError -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=30,
)
near_link = st.fixed_dictionaries(
    {},
    optional={
        "start": st.integers(-5, 30) | st.text(max_size=3) | st.none(),
        "end": st.integers(-5, 30) | st.booleans(),
        "part": st.integers(-1, 4) | st.just("1"),
        "url": st.sampled_from(
            ["https://s3.example/k?a=1", "http://10.0.0.1/k", "http://[::1", "", "https://"]
        )
        | json_values,
    },
)
near_answer = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=5) | st.integers() | json_values,
        "upload_id": st.text(max_size=5) | json_values,
        "urls": st.lists(near_link | json_values, max_size=5) | json_values,
        "file_url": json_values,
        "chunk_size": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(answer=near_answer | json_values, size=st.integers(0, 30))
def test_hostile_signed_answers_raise_only_remote_errors(answer: Any, size: int) -> None:
    try:
        signed = parse_signed(answer, size, 0.0)
    except RemoteError as exc:
        assert isinstance(exc, RejectedError)
        assert "\n" not in str(exc)
        return
    # Whatever passes is a true cover of the file.
    ranges = signed.ranges
    assert ranges[0][0] == 0 and ranges[-1][1] == size
    assert all(a < b for a, b in ranges)
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(len(ranges) - 1))


@settings(max_examples=300, deadline=None)
@given(
    status=st.integers(400, 599),
    body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    retry=st.none() | st.text(max_size=12),
)
def test_hostile_error_answers_become_one_line_remote_errors(
    status: int, body: bytes, retry: str | None
) -> None:
    headers = {"Retry-After": retry} if retry is not None and retry.isprintable() else {}
    try:
        response = httpx.Response(status, content=body, headers=headers)
    except (UnicodeEncodeError, ValueError):
        return  # httpx itself refuses such a header: no server could send it either
    error = error_for(response, "open")
    assert isinstance(error, RemoteError)
    assert "\n" not in str(error)
    assert str(error).startswith("open: ")
    transient = status != 501 and (status >= 500 or status in (408, 429))
    assert isinstance(error, TransientError) == transient
    assert isinstance(error, CallUnsupported) == (status in (405, 501))


def test_deeply_nested_json_is_not_a_crash() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert error_text(body) == (None, {})
    assert isinstance(error_for(httpx.Response(422, content=body), "open"), RejectedError)


def test_a_validation_error_names_its_fields_in_one_sentence() -> None:
    body = {
        "message": "The name field is required. (and 1 more error)",
        "errors": {"name": ["The name field is required."], "size": ["The size must be 1."]},
    }
    error = error_for(httpx.Response(422, json=body), "open")
    assert str(error) == (
        "open: Fileflare refused name (The name field is required) and size (The size must be 1)"
    )


def test_the_quota_answer_is_the_quota_sentence() -> None:
    error = error_for(httpx.Response(402, json={"message": "Storage limit reached."}), "open")
    assert str(error) == (
        "open: Fileflare storage quota is full: delete files or upgrade the plan "
        "(Fileflare said: Storage limit reached)"
    )
    assert isinstance(error, RejectedError)


def test_a_rate_limit_answer_carries_its_wait() -> None:
    response = httpx.Response(
        429, json={"message": "Too Many Attempts."}, headers={"Retry-After": "17"}
    )
    error = error_for(response, "complete")
    assert isinstance(error, TransientError)
    assert error.retry_after == 17.0
    assert str(error) == (
        "complete: rate limited by Fileflare (60 requests a minute); waiting 17s before "
        "trying again"
    )


def test_server_text_with_a_token_is_redacted() -> None:
    body = {"message": "bad Authorization: Bearer abc.def.ghi"}
    assert "abc.def" not in str(error_for(httpx.Response(401, json=body), "check"))
