"""The Box emulator's own checks, in process: what it refuses and how it says so."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tui.core.units import GiB, MiB
from tui.sandbox.box import MIN_SIZE, SESSION_LIFETIME, create_app, part_size_for
from tui.sandbox.context import EmulatorContext

TOKEN = "box-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SIZE = MIN_SIZE + 1
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)
PART = 8 * MiB


class Clock:
    """A clock the tests move."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    ctx = EmulatorContext(provider="box", token=TOKEN, public_url="http://testserver", clock=clock)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _create(
    client: httpx.AsyncClient, name: str = "f.bin", size: int = SIZE
) -> dict[str, Any]:
    response = await client.post(
        "/upload/api/2.0/files/upload_sessions",
        json={"folder_id": "0", "file_size": size, "file_name": name},
        headers=AUTH,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _digest(data: bytes) -> str:
    return "sha=" + base64.b64encode(hashlib.sha1(data).digest()).decode()


async def _put(
    client: httpx.AsyncClient, session: dict[str, Any], start: int, end: int, **headers: str
) -> Any:
    body = DATA[start:end]
    sent = {
        **AUTH,
        "Digest": _digest(body),
        "Content-Range": f"bytes {start}-{end - 1}/{SIZE}",
        "Content-Type": "application/octet-stream",
        **headers,
    }
    return await client.put(session["session_endpoints"]["upload_part"], content=body, headers=sent)


async def _all_parts(client: httpx.AsyncClient, session: dict[str, Any]) -> list[dict[str, Any]]:
    parts = []
    for start in range(0, SIZE, PART):
        response = await _put(client, session, start, min(start + PART, SIZE))
        assert response.status_code == 200, response.text
        parts.append(response.json()["part"])
    return parts


async def _commit(
    client: httpx.AsyncClient,
    session: dict[str, Any],
    parts: list[dict[str, Any]],
    data: bytes = DATA,
) -> Any:
    return await client.post(
        session["session_endpoints"]["commit"],
        json={"parts": parts},
        headers={**AUTH, "Digest": _digest(data)},
    )


async def test_a_bad_token_gets_an_empty_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/2.0/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.content == b""
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_a_session_names_its_endpoints_and_part_size(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    assert session["type"] == "upload_session"
    assert session["part_size"] == PART and session["total_parts"] == 3
    assert session["num_parts_processed"] == 0
    base = f"http://testserver/upload/api/2.0/files/upload_sessions/{session['id']}"
    assert session["session_endpoints"] == {
        "upload_part": base,
        "commit": f"{base}/commit",
        "abort": base,
        "list_parts": f"{base}/parts",
        "status": base,
        "log_event": f"{base}/log",
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"file_size": SIZE, "file_name": "a"}, 400, "missing_destination"),
        ({"folder_id": "x", "file_size": SIZE, "file_name": "a"}, 400, "invalid_folder_id"),
        ({"folder_id": "0", "file_name": "a"}, 400, "missing_file_size"),
        ({"folder_id": "0", "file_size": "big", "file_name": "a"}, 400, "invalid_file_size"),
        ({"folder_id": "0", "file_size": SIZE}, 400, "missing_file_name"),
        ({"folder_id": "0", "file_size": SIZE, "file_name": "a/b"}, 400, "item_name_invalid"),
        (
            {"folder_id": "0", "file_size": MIN_SIZE - 1, "file_name": "a"},
            400,
            "file_size_too_small",
        ),
        ({"folder_id": "77", "file_size": SIZE, "file_name": "a"}, 404, "invalid_parameter"),
    ],
)
async def test_create_refusals_use_boxs_codes(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    response = await client.post("/upload/api/2.0/files/upload_sessions", json=body, headers=AUTH)
    assert response.status_code == status
    error = response.json()
    assert error["type"] == "error" and error["code"] == code and error["status"] == status
    assert {"message", "context_info", "help_url", "request_id"} <= error.keys()


@pytest.mark.parametrize(
    ("start", "end", "headers", "status", "code"),
    [
        (0, PART, {"Digest": _digest(b"other")}, 400, "bad_digest"),
        (0, PART, {"Digest": "md5=abc"}, 400, "invalid_digest"),
        (1, PART + 1, {}, 416, "requested_range_not_satisfiable"),  # not on a part boundary
        (0, PART - 1, {}, 416, "requested_range_not_satisfiable"),  # short, not the last
        (0, PART, {"Content-Range": f"bytes 0-{PART - 1}/{SIZE + 1}"}, 416, None),  # total
        (0, PART, {"Content-Range": f"bytes 0-{PART}/{SIZE}"}, 416, None),  # inclusive end
        (0, PART, {"Content-Range": "bytes=0-5"}, 416, None),
    ],
)
async def test_part_refusals(
    client: httpx.AsyncClient,
    start: int,
    end: int,
    headers: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    response = await _put(client, await _create(client), start, end, **headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] == (code or "requested_range_not_satisfiable")


async def test_a_part_past_the_end_is_refused(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    response = await _put(
        client, session, 2 * PART, SIZE, **{"Content-Range": f"bytes {2 * PART}-{SIZE}/{SIZE}"}
    )
    assert response.status_code == 416


async def test_parts_are_hex_sha1_and_cannot_overlap(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    first = await _put(client, session, 0, PART)
    assert first.status_code == 200
    part = first.json()["part"]
    assert part["offset"] == 0 and part["size"] == PART
    assert part["sha1"] == hashlib.sha1(DATA[:PART]).hexdigest()
    again = await _put(client, session, 0, PART)
    assert again.status_code == 409
    assert again.json()["code"] == "range_overlaps_existing_part"
    status = (await client.get(session["session_endpoints"]["status"], headers=AUTH)).json()
    assert status["num_parts_processed"] == 1


async def test_list_parts_pages_and_refuses_big_offsets(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    parts = await _all_parts(client, session)
    url = session["session_endpoints"]["list_parts"]
    page = (await client.get(url, params={"offset": 1, "limit": 1}, headers=AUTH)).json()
    assert page["entries"] == [parts[1]] and page["total_count"] == 3
    refused = await client.get(url, params={"offset": 10_001}, headers=AUTH)
    assert refused.status_code == 400


async def test_commit_checks_parts_digest_and_name(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    twin = await _create(client)  # same name: allowed while nothing is committed yet
    parts = await _all_parts(client, session)
    assert (await _commit(client, session, parts[:2])).status_code == 400
    assert (await _commit(client, session, parts[::-1])).status_code == 400
    wrong = await _commit(client, session, parts, data=b"not the file")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "digest_mismatch"
    assert wrong.json()["message"].startswith("File digest was incorrect. Actual: ")
    done = await _commit(client, session, parts)
    assert done.status_code == 201
    file = done.json()["entries"][0]
    assert done.json()["total_count"] == 1 and file["name"] == "f.bin"
    assert (await client.get(f"/_sandbox/files/{file['id']}/content")).content == DATA
    # The session is closed; a second commit finds nothing.
    assert (await _commit(client, session, parts)).status_code == 404
    taken = await _commit(client, twin, await _all_parts(client, twin))
    assert taken.status_code == 409 and taken.json()["code"] == "item_name_in_use"
    items = await client.get(
        "/api/2.0/folders/0/items", params={"fields": "name,sha1"}, headers=AUTH
    )
    assert items.json()["entries"][0]["sha1"] == hashlib.sha1(DATA).hexdigest()


async def test_sessions_expire_after_seven_days(client: httpx.AsyncClient, clock: Clock) -> None:
    session = await _create(client)
    clock.now += SESSION_LIFETIME
    response = await _put(client, session, 0, PART)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_abort_is_204_then_404(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    url = session["session_endpoints"]["abort"]
    assert (await client.delete(url, headers=AUTH)).status_code == 204
    assert (await client.delete(url, headers=AUTH)).status_code == 404
    assert (await client.get(f"/_sandbox/sessions/{session['id']}")).status_code == 404


@pytest.mark.parametrize(
    ("size", "part"),
    [(MIN_SIZE, 8 * MiB), (512 * MiB, 32 * MiB), (8 * GiB + 1, 64 * MiB), (10**12, 96 * MiB)],
)
def test_part_size_rule(size: int, part: int) -> None:
    assert part_size_for(size) == part
    assert -(-size // part_size_for(size)) <= 10_000
