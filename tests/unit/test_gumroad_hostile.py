"""Hostile answers to presign, complete and abort raise nothing but RemoteError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.errors import RemoteError
from tui.core.model import Part, Session
from tui.providers.gumroad import PART_SIZE, GumroadProvider
from tui.providers.gumroad import provider as gumroad_provider

KEY = "attachments/u/0123456789abcdef0123456789abcdef/original/a.bin"

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["accepted", "already_gone", "https://s3.test/k", "http://127.0.0.1/k"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
statuses = st.sampled_from([200, 201, 204, 302, 400, 401, 403, 404, 408, 409, 422, 429, 500, 503])
link_values = st.one_of(
    json_values,
    st.builds(
        lambda n, url: {"part_number": n, "presigned_url": url},
        st.one_of(st.integers(-2, 4), json_values),
        st.one_of(st.sampled_from(["https://s3.test/p", "http://evil.test/p", ""]), json_values),
    ),
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "success": st.one_of(st.just(True), json_values),
        "upload_id": st.one_of(st.just("UP1"), json_values),
        "key": st.one_of(st.just(KEY), json_values),
        "file_url": json_values,
        "parts": st.one_of(st.lists(link_values, max_size=4), json_values),
        "status": st.one_of(st.sampled_from(["accepted", "already_gone"]), json_values),
        "error": json_values,
        "message": json_values,
    },
)


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    shaped.map(encode),
    json_values.map(encode),
    st.binary(max_size=64),
    st.just(b"[" * 50_000),  # deeper than the JSON parser's recursion limit
)


def session() -> tuple[Session, list[Part]]:
    s = Session(
        id="f" * 32, account="a", provider="gumroad", path="/d/a.bin", size=PART_SIZE + 1,
        mtime_ns=0, part_size=PART_SIZE,
        remote={
            "upload_id": "UP1", "key": KEY,
            "links": [{"part": 1, "url": "https://s3.test/1", "expires_at": 0.0}],
        },
    )  # fmt: skip
    parts = [
        Part(session_id=s.id, number=1, start=0, end=PART_SIZE, etag="a"),
        Part(session_id=s.id, number=2, start=PART_SIZE, end=PART_SIZE + 1, etag="b"),
    ]
    return s, parts


Call = Callable[[GumroadProvider, Session, list[Part]], Awaitable[Any]]
CALLS: dict[str, Call] = {
    "presign": lambda p, s, parts: p.open(s, parts),
    "complete": lambda p, s, parts: p.complete(s, parts),
    "abort": lambda p, s, parts: p.abort(s),
    "check": lambda p, s, parts: p.check(),
}


async def run(call: Call, answers: list[tuple[int, bytes]]) -> None:
    """Drive one provider call against the scripted answers (the last one repeats)."""
    script = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = script.pop(0) if len(script) > 1 else script[0]
        return httpx.Response(status, content=body, headers={"Retry-After": "soon"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        provider = GumroadProvider(client, token="t", base_url="https://g.test/v2")
        s, parts = session()
        try:
            await call(provider, s, parts)
        except RemoteError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(st.tuples(statuses, bodies), min_size=1, max_size=3))
def test_hostile_answers_raise_only_remote_errors(
    name: str, answers: list[tuple[int, bytes]]
) -> None:
    with mock.patch.object(gumroad_provider, "ABORT_SPACING", 0.0):
        asyncio.run(run(CALLS[name], answers))
