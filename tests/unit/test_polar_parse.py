"""Hostile answers from Polar: whatever comes back, the adapter raises only RemoteError."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.errors import RemoteError
from tui.core.model import Part, Session
from tui.providers.polar import (
    PolarProvider,
    listed_uploaded,
    parse_file_upload,
    polar_error_text,
)

FILE_ID = "3f1c2b1e-0000-4000-8000-000000000001"
CHECKSUMS = {1: "AAAA", 2: "BBBB"}
PARTS = [Part("s", 1, 0, 10, sha256="00" * 32), Part("s", 2, 10, 15, sha256="11" * 32)]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)


def _valid_answer(checksums: dict[int, str] | None = None) -> dict[str, Any]:
    sums = checksums or CHECKSUMS
    return {
        "id": FILE_ID,
        "organization_id": "org",
        "name": "x.bin",
        "upload": {
            "id": "u1",
            "path": "downloadable/org/f/x.bin",
            "parts": [
                {
                    "number": p.number,
                    "chunk_start": p.start,
                    "chunk_end": p.end,
                    "checksum_sha256_base64": sums[p.number],
                    "url": f"https://s3.example/k?partNumber={p.number}",
                    "expires_at": "2030-01-01T00:00:00+00:00",
                    "headers": {"x-amz-checksum-sha256": sums[p.number]},
                }
                for p in PARTS
            ],
        },
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@st.composite
def near_valid_answers(draw: st.DrawFn) -> Any:
    """A valid FileUpload with one value (anywhere) replaced by something hostile."""
    answer = _valid_answer()
    path = draw(st.sampled_from(_paths(answer)))
    hostile = draw(json_values)
    if not path:
        return hostile
    target: Any = answer
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = hostile
    return answer


def test_the_valid_answer_parses() -> None:
    remote = parse_file_upload(_valid_answer(), PARTS, CHECKSUMS)
    assert [link["number"] for link in remote["parts"]] == [1, 2]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, near_valid_answers()))
def test_hostile_create_answers_raise_only_remote_errors(answer: Any) -> None:
    try:
        remote = parse_file_upload(copy.deepcopy(answer), PARTS, CHECKSUMS)
    except RemoteError as exc:
        assert "\n" not in str(exc)
        assert len(str(exc)) < 600
        return
    json.dumps(remote)  # what it accepted is journal-ready
    assert [link["number"] for link in remote["parts"]] == [1, 2]


@settings(max_examples=200)
@given(json_values)
def test_hostile_lists_never_raise(data: Any) -> None:
    assert listed_uploaded(data, FILE_ID) in (True, False)


@settings(max_examples=200)
@given(st.integers(min_value=400, max_value=599), json_values | st.binary(max_size=60))
def test_hostile_error_bodies_become_short_lines(status: int, body: Any) -> None:
    if isinstance(body, bytes):
        response = httpx.Response(status, content=body)
    else:
        response = httpx.Response(status, text=json.dumps(body))
    kind, detail = polar_error_text(response)
    assert "\n" not in detail and len(detail) < 800
    assert kind is None or "\n" not in kind


def _provider(answers: dict[str, httpx.Response]) -> tuple[PolarProvider, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.path}"
        seen.append(key)
        return answers.get(key, httpx.Response(204))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PolarProvider(client, base_url="https://api.polar.sh", token="t"), seen


def _response(status: int, body: Any) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.Response(status, content=body)
    return httpx.Response(status, text=json.dumps(body))


bodies = st.one_of(json_values, near_valid_answers(), st.binary(max_size=40))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 503]), bodies)
def test_open_with_hostile_answers_raises_only_remote_errors(status: int, body: Any) -> None:
    provider, _ = _provider({"POST /v1/files/": _response(status, body)})
    session = Session("s" * 32, "polar", "polar", "/tmp/x.bin", 15, 0, 10)
    parts = [
        Part("s", 1, 0, 10, sha256="00" * 32),
        Part("s", 2, 10, 15, sha256="11" * 32),
    ]
    try:
        asyncio.run(provider.open(session, parts))
    except RemoteError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([200, 400, 404, 422, 500, 502]),
    bodies,
    st.sampled_from([200, 500]),
    bodies,
)
def test_complete_with_hostile_answers_raises_only_remote_errors(
    status: int, body: Any, list_status: int, listing: Any
) -> None:
    provider, _ = _provider(
        {
            f"POST /v1/files/{FILE_ID}/uploaded": _response(status, body),
            "GET /v1/files/": _response(list_status, listing),
        }
    )
    session = Session("s" * 32, "polar", "polar", "/tmp/x.bin", 15, 0, 10)
    session.remote = {
        "file_id": FILE_ID,
        "upload_id": "u1",
        "key": "k",
        "parts": [{"number": 1, "checksum_sha256_base64": "AAAA"}],
    }
    part = Part("s", 1, 0, 15, etag='"e"')
    try:
        asyncio.run(provider.complete(session, [part]))
    except RemoteError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300)
@given(
    st.text(max_size=60)
    | st.sampled_from(["https://[::1", "http://[::1]:9/x", "https://", "ftp://h/x"])
)
def test_hostile_part_urls_are_refused_or_safe(url: str) -> None:
    answer = _valid_answer()
    answer["upload"]["parts"][0]["url"] = url
    try:
        remote = parse_file_upload(answer, PARTS, CHECKSUMS)
    except RemoteError:
        return
    accepted = httpx.URL(remote["parts"][0]["url"])
    assert accepted.scheme == "https" or accepted.host in ("127.0.0.1", "::1", "localhost")
