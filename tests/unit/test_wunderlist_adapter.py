"""The Wunderlist adapter against a scripted API: what it sends, when, and what it makes of
the answers. The empty Content-Type is checked on the wire, through the engine's send_part."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tui.core.errors import CompleteUnknown, RejectedError, TargetExpired, TransientError
from tui.core.model import Part, Session
from tui.core.ports import PartTarget
from tui.core.transfer import send_part
from tui.providers.wunderlist import ABORT_NOTE, WunderlistProvider
from tui.providers.wunderlist import provider as wunderlist_provider

BASE = "https://a.wunderlist.test/api/v1"
NOW = 1_700_000_000.0
MD5 = "900150983cd24fb0d6963f7d28e17f72"
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"


def upload_answer(number: int, *, expires: str = "2023-11-14T22:28:20Z") -> dict[str, Any]:
    return {
        "id": 2000,
        "user_id": 1337,
        "state": "new",
        "type": "upload",
        "expires_at": expires,
        "part": {
            "url": f"https://s3.test/b/k?partNumber={number}&uploadId=u",
            "date": DATE,
            "authorization": f"AWS KEY:SIG{number}",
        },
    }


Handler = Callable[[httpx.Request], httpx.Response]


class Api:
    """A scripted Wunderlist: answers queued per (method, path), requests recorded."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: dict[tuple[str, str], list[httpx.Response]] = {}

    def queue(self, method: str, path: str, *answers: httpx.Response) -> None:
        self.answers.setdefault((method, path), []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queued = self.answers.get((request.method, request.url.path.removeprefix("/api/v1")))
        assert queued, f"unexpected {request.method} {request.url}"
        return queued.pop(0) if len(queued) > 1 else queued[0]

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.method == method and r.url.path.removeprefix("/api/v1") == path
        ]


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def clock() -> list[float]:
    return [NOW]


@pytest.fixture
def provider(api: Api, clock: list[float]) -> Iterator[WunderlistProvider]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(api))
    yield WunderlistProvider(
        client, base_url=BASE, token="tok-secret", client_id="app-1", clock=lambda: clock[0]
    )


def _session(tmp_path: Path) -> tuple[Session, list[Part]]:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"x" * 100)
    session = Session(
        id="s1", account="wl", provider="wunderlist", path=str(path), size=100, mtime_ns=0,
        part_size=50,
    )  # fmt: skip
    parts = [Part("s1", 1, 0, 50, md5=MD5), Part("s1", 2, 50, 100, md5=MD5)]
    return session, parts


async def _opened(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> tuple[Session, list[Part]]:
    session, parts = _session(tmp_path)
    api.queue("POST", "/uploads", httpx.Response(201, json=upload_answer(1)))
    # At open the engine has not hashed anything yet.
    unhashed = [Part("s1", p.number, p.start, p.end) for p in parts]
    opened = await provider.open(session, unhashed)
    session.remote, session.location = opened.remote, opened.location
    return session, parts


async def test_open_creates_the_upload_and_keeps_part_1(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> None:
    session, _ = await _opened(provider, api, tmp_path)
    [create] = api.calls("POST", "/uploads")
    assert create.headers["X-Access-Token"] == "tok-secret"
    assert create.headers["X-Client-ID"] == "app-1"
    assert create.headers["Content-Type"] == "application/json"
    assert json.loads(create.content) == {
        "content_type": "text/plain",
        "file_name": "notes.txt",
        "file_size": 100,
    }
    assert session.remote["upload_id"] == "2000"
    assert session.remote["part1"]["authorization"] == "AWS KEY:SIG1"
    assert session.location == "wunderlist upload 2000 (notes.txt)"


async def test_a_known_part_1_digest_is_signed_in_at_create(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> None:
    session, parts = _session(tmp_path)
    api.queue("POST", "/uploads", httpx.Response(201, json=upload_answer(1)))
    session.remote = (await provider.open(session, parts)).remote
    assert json.loads(api.requests[0].content)["md5sum"] == MD5
    target = await provider.target(session, parts[0])
    assert len(api.requests) == 1
    assert target.headers["Content-MD5"] == base64.b64encode(bytes.fromhex(MD5)).decode()


async def test_targets_are_lazy_and_signed_headers_exact(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> None:
    session, parts = await _opened(provider, api, tmp_path)
    first = await provider.target(session, parts[0])
    assert len(api.requests) == 1  # part 1 came with create
    assert first.headers == {
        "Content-Type": "",
        "Authorization": "AWS KEY:SIG1",
        "x-amz-date": DATE,
    }
    api.queue("GET", "/uploads/2000/parts", httpx.Response(200, json=upload_answer(2)))
    second = await provider.target(session, parts[1])
    [fetch] = api.calls("GET", "/uploads/2000/parts")
    assert dict(fetch.url.params) == {"part_number": "2", "md5sum": MD5}
    assert second.headers == {
        "Content-Type": "",
        "Authorization": "AWS KEY:SIG2",
        "x-amz-date": DATE,
        "Content-MD5": base64.b64encode(bytes.fromhex(MD5)).decode(),
    }
    assert second.expires_at == NOW + 15 * 60


async def test_part_1_is_fetched_once_its_stored_credentials_age(
    provider: WunderlistProvider, api: Api, tmp_path: Path, clock: list[float]
) -> None:
    session, parts = await _opened(provider, api, tmp_path)
    api.queue("GET", "/uploads/2000/parts", httpx.Response(200, json=upload_answer(1)))
    clock[0] = NOW + 15 * 60 - 30  # within the margin of expiry
    await provider.target(session, parts[0])
    [fetch] = api.calls("GET", "/uploads/2000/parts")
    assert fetch.url.params["part_number"] == "1"


async def test_a_skewed_date_renews_even_unexpired_stored_credentials(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> None:
    session, parts = await _opened(provider, api, tmp_path)
    skewed = httpx.Response(
        403,
        content=b"<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between "
        b"the request time and the current time is too large.</Message></Error>",
    )
    with pytest.raises(TargetExpired, match="RequestTimeTooSkewed"):
        provider.receipt(session, parts[0], skewed)
    api.queue("GET", "/uploads/2000/parts", httpx.Response(200, json=upload_answer(1)))
    renewed = await provider.target(session, parts[0])
    assert len(api.calls("GET", "/uploads/2000/parts")) == 1
    assert renewed.headers["Content-MD5"]  # asked for with part 1's md5sum this time


def test_receipt_checks_the_etag(provider: WunderlistProvider, tmp_path: Path) -> None:
    session, parts = _session(tmp_path)
    ok = provider.receipt(session, parts[0], httpx.Response(200, headers={"ETag": f'"{MD5}"'}))
    assert ok.verified and ok.etag == MD5
    with pytest.raises(TransientError, match="not the MD5"):
        provider.receipt(session, parts[0], httpx.Response(200, headers={"ETag": '"' + "0" * 32}))


async def test_finish_is_repeated_once_then_left_to_the_user(
    provider: WunderlistProvider, api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wunderlist_provider, "FINISH_PAUSE", 0.0)
    session, parts = await _opened(provider, api, tmp_path)
    finished = {"id": 2000, "user_id": 1337, "state": "finished", "type": "upload"}
    api.queue("PATCH", "/uploads/2000", httpx.Response(500), httpx.Response(200, json=finished))
    assert await provider.complete(session, parts) == "wunderlist upload 2000 (notes.txt)"
    patches = api.calls("PATCH", "/uploads/2000")
    assert len(patches) == 2
    assert json.loads(patches[0].content) == {"state": "finished"}

    api.answers.clear()
    api.queue("PATCH", "/uploads/2000", httpx.Response(502))
    with pytest.raises(CompleteUnknown) as caught:
        await provider.complete(session, parts)
    assert str(caught.value) == (
        "finish upload: server error 502; Wunderlist may or may not have finished the upload: "
        "run partdeck complete s1 again (repeating it is safe)"
    )


async def test_finish_without_parts_is_one_sentence(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> None:
    session, parts = await _opened(provider, api, tmp_path)
    api.queue(
        "PATCH",
        "/uploads/2000",
        httpx.Response(400, json={"errors": ["state", "There are no parts upload to finish it"]}),
    )
    with pytest.raises(RejectedError) as caught:
        await provider.complete(session, parts)
    assert str(caught.value) == (
        "Wunderlist has no parts for this upload, so it cannot be finished; resume the session "
        "to send its parts, or upload the file again"
    )


async def test_abort_sends_nothing(provider: WunderlistProvider, api: Api, tmp_path: Path) -> None:
    session, _ = await _opened(provider, api, tmp_path)
    assert await provider.abort(session) == ABORT_NOTE
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "error": {
                    "type": "missing_parameter",
                    "translation_key": "api_error_missing_params",
                    "message": "Missing parameter.",
                    "file_size": ["required", "can't be blank"],
                }
            },
            "create upload: Wunderlist refused a parameter (missing_parameter: Missing "
            "parameter.; file_size: required, can't be blank); this partdeck request does not "
            "fit the API, please report it",
        ),
        (
            404,
            {"error": {"type": "not_found", "message": "The resource could not be found."}},
            "create upload: Wunderlist has no such upload (not_found: The resource could not be "
            "found.); it discards unfinished uploads after a while, so upload the file again",
        ),
        (
            401,
            {"error": {"type": "unauthorized", "message": "token=tok-secret is not valid"}},
            "create upload: Wunderlist did not accept the access token or client id "
            "(unauthorized: token=… is not valid); check the account's token and client_id",
        ),
    ],
)
async def test_api_errors_are_one_sentence(
    provider: WunderlistProvider,
    api: Api,
    tmp_path: Path,
    status: int,
    body: dict[str, Any],
    expected: str,
) -> None:
    session, parts = _session(tmp_path)
    api.queue("POST", "/uploads", httpx.Response(status, json=body))
    with pytest.raises(RejectedError) as caught:
        await provider.open(session, parts)
    assert str(caught.value) == expected


async def test_rate_limits_are_transient(
    provider: WunderlistProvider, api: Api, tmp_path: Path
) -> None:
    session, parts = await _opened(provider, api, tmp_path)
    api.queue("GET", "/uploads/2000/parts", httpx.Response(429, headers={"Retry-After": "7"}))
    with pytest.raises(TransientError) as caught:
        await provider.target(session, parts[1])
    assert caught.value.retry_after == 7.0


@pytest.fixture
def wire() -> Iterator[tuple[str, list[bytes]]]:
    """A socket that records the head of one request and answers 200 with an ETag."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    heads: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(v for k, v in _fields(head) if k == b"content-length"))
            while len(body) < length:
                body += conn.recv(65536)
            heads.append(head)
            conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "x"\r\nContent-Length: 0\r\n\r\n')

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/b/k?partNumber=1&uploadId=u", heads
    thread.join(timeout=5)
    server.close()


def _fields(head: bytes) -> list[tuple[bytes, bytes]]:
    lines = head.split(b"\r\n")[1:]
    return [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(b":") for line in lines)]


async def test_send_part_puts_an_empty_content_type_on_the_wire(
    wire: tuple[str, list[bytes]], tmp_path: Path
) -> None:
    url, heads = wire
    path = tmp_path / "part.bin"
    path.write_bytes(b"abc")
    target = PartTarget(
        url=url,
        headers={"Content-Type": "", "Authorization": "AWS KEY:SIG", "x-amz-date": DATE},
    )
    async with httpx.AsyncClient() as client:
        response = await send_part(client, target, str(path), 0, 3, expected_xxh3=None)
    assert response.status_code == 200
    fields = _fields(heads[0])
    assert (b"content-type", b"") in fields
    assert [k for k, _ in fields].count(b"content-type") == 1
    assert (b"authorization", b"AWS KEY:SIG") in fields
    assert (b"x-amz-date", DATE.encode()) in fields
