"""Hostile Wunderlist answers: the parsers return or raise a RemoteError, nothing else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.errors import RemoteError
from tui.providers.wunderlist import (
    PartCredentials,
    error_for,
    parse_finished,
    parse_time,
    parse_upload,
    read_json,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
texts = st.text(max_size=60) | st.sampled_from(
    [
        "",
        "https://s3.example.com/b/k?partNumber=2&uploadId=u",
        "https://s3.example.com/b/k?partNumber=3&uploadId=u",
        "http://[::1",
        "ftp://x/y",
        "Wed, 30 Apr 2014 14:44:48 GMT",
        "AWS KEY:SIG\r\nX-Evil: 1",
        "AWS KEY:SIGNATURE",
        "2014-04-30T14:44:48Z",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00-14:00",
    ]
)
parts = st.fixed_dictionaries(
    {},
    optional={"url": texts | json_values, "date": texts | json_values, "authorization": texts},
)
uploads = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | texts | json_values,
        "user_id": json_values,
        "state": texts | json_values,
        "type": texts,
        "expires_at": texts | json_values,
        "part": parts | json_values,
    },
)
errors = st.fixed_dictionaries(
    {},
    optional={
        "error": st.dictionaries(
            st.sampled_from(["type", "translation_key", "message", "file_size", "md5sum"]),
            json_values,
        )
        | json_values,
        "errors": st.lists(json_values, max_size=3) | json_values,
    },
)
md5s = st.none() | st.sampled_from(["900150983cd24fb0d6963f7d28e17f72"])


@settings(max_examples=300, deadline=None)
@given(body=uploads | json_values, number=st.integers(1, 10_000), md5=md5s)
def test_parse_upload_returns_usable_credentials_or_a_remote_error(
    body: Any, number: int, md5: str | None
) -> None:
    try:
        answer = parse_upload(body, "part credentials", number, md5)
    except RemoteError as exc:
        assert "\n" not in str(exc)
        return
    # Whatever passed can really be sent: a valid URL and valid header values.
    headers = answer.part.headers()
    httpx.Request("PUT", answer.part.url, headers=headers)
    assert all(32 <= ord(c) < 127 for value in headers.values() for c in value)
    assert answer.id
    assert answer.part.number == number


@settings(max_examples=200, deadline=None)
@given(body=uploads | json_values)
def test_parse_finished_accepts_only_finished(body: Any) -> None:
    try:
        parse_finished(body, "finish upload")
    except RemoteError as exc:
        assert "\n" not in str(exc)
        return
    assert body["state"] == "finished"


@settings(max_examples=300, deadline=None)
@given(
    body=errors | json_values,
    status=st.sampled_from([400, 401, 403, 404, 408, 409, 422, 429, 500, 503]),
)
def test_error_answers_become_one_line_remote_errors(body: Any, status: int) -> None:
    response = httpx.Response(status, content=json.dumps(body).encode())
    error = error_for(response, "create upload")
    assert isinstance(error, RemoteError)
    assert "\n" not in str(error)
    assert len(str(error)) < 700


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_read_json_raises_only_remote_errors(content: bytes) -> None:
    with contextlib.suppress(RemoteError):
        read_json(httpx.Response(200, content=content), "create upload")


def test_read_json_survives_deep_nesting_and_huge_numbers() -> None:
    for content in (b"[" * 100_000, b"9" * 10_000):
        with pytest.raises(RemoteError, match="not JSON"):
            read_json(httpx.Response(200, content=content), "create upload")


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_journal_copies_and_times_never_raise(value: Any) -> None:
    PartCredentials.from_remote(value)
    parse_time(value)


def test_a_link_for_another_part_is_refused() -> None:
    body = {
        "id": 2000,
        "part": {
            "url": "https://s3.example.com/b/k?partNumber=3&uploadId=u",
            "date": "Wed, 30 Apr 2014 14:44:48 GMT",
            "authorization": "AWS KEY:SIG",
        },
    }
    try:
        parse_upload(body, "part 2 credentials", 2)
    except RemoteError as exc:
        assert "the link is for part 3, not part 2" in str(exc)
    else:
        raise AssertionError("a link for part 3 was taken for part 2")


def test_expiry_falls_back_to_the_signature_date() -> None:
    body = {
        "id": 2000,
        "part": {
            "url": "https://s3.example.com/b/k?partNumber=1&uploadId=u",
            "date": "Wed, 30 Apr 2014 14:44:48 GMT",
            "authorization": "AWS KEY:SIG",
        },
    }
    answer = parse_upload(body, "create upload", 1)
    assert answer.part.expires_at == parse_time("2014-04-30T14:59:48Z")
    body["expires_at"] = "2014-04-30T14:50:00Z"
    assert parse_upload(body, "create upload", 1).part.expires_at == parse_time(
        "2014-04-30T14:50:00Z"
    )
