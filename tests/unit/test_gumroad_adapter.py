"""The Gumroad adapter against scripted answers (httpx.MockTransport): shapes and rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from tui.config import Account
from tui.core.errors import (
    AlreadyCompleted,
    CompleteUnknown,
    RejectedError,
    TargetExpired,
    TransientError,
    UploadGone,
    UsageError,
)
from tui.core.model import Part, Session
from tui.providers.credentials import token_source
from tui.providers.gumroad import (
    ABORT_TIMEOUT,
    ABORT_TRIES,
    MAX_SIZE,
    PART_SIZE,
    GumroadProvider,
    from_account,
    link_problem,
)
from tui.providers.gumroad import provider as gumroad_provider

TOKEN = "tok-SECRET-123"
BASE = "https://api.gumroad.test/v2"
KEY = "attachments/u1/0123456789abcdef0123456789abcdef/original/a.bin"
NOW = 1_700_000_000.0

Answer = httpx.Response | Exception
Script = dict[str, list[Answer]]


class Recorder:
    """A MockTransport handler: scripted answers per path, every request kept."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v2")
        answers = self.script[path]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def form(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(self.requests[index].content.decode()))

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix("/v2") for r in self.requests]


@pytest.fixture(autouse=True)
def no_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gumroad_provider, "ABORT_SPACING", 0.0)


@pytest.fixture
def make() -> Iterator[Callable[[Script], tuple[GumroadProvider, Recorder]]]:
    clients: list[httpx.AsyncClient] = []

    def build(script: Script) -> tuple[GumroadProvider, Recorder]:
        recorder = Recorder(script)
        client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        clients.append(client)
        provider = GumroadProvider(
            client, token=TOKEN, base_url=BASE, account="shop", clock=lambda: NOW
        )
        return provider, recorder

    yield build


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def session(size: int = PART_SIZE + 5, remote: dict[str, Any] | None = None) -> Session:
    return Session(
        id="abcdef0123456789" * 2, account="shop", provider="gumroad", path="/data/a.bin",
        size=size, mtime_ns=0, part_size=PART_SIZE, remote=remote or {},
    )  # fmt: skip


def parts_of(s: Session) -> list[Part]:
    out, start, n = [], 0, 1
    while start < s.size:
        end = min(start + PART_SIZE, s.size)
        out.append(Part(session_id=s.id, number=n, start=start, end=end))
        start, n = end, n + 1
    return out


def presign_body(count: int = 2, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": True,
        "upload_id": "UP1",
        "key": KEY,
        "file_url": f"https://files.test/{KEY}",
        "parts": [
            {"part_number": n, "presigned_url": f"https://s3.test/{KEY}?partNumber={n}&X-Amz-S=x"}
            for n in range(1, count + 1)
        ],
    }
    body.update(changes)
    return body


GONE = ok({"success": True, "status": "already_gone"})
ACCEPTED = ok({"success": True, "status": "accepted"})


# -- sizes -----------------------------------------------------------------------------------


def test_part_size_is_always_the_servers(make: Any) -> None:
    provider, _ = make({})
    assert provider.part_size(5, 8 * 1024 * 1024) == PART_SIZE
    assert provider.part_size(MAX_SIZE, None) == PART_SIZE
    assert provider.server_part_size and not provider.renewable_targets
    assert provider.target_lifetime == 900 and not provider.complete_repeatable
    with pytest.raises(UsageError, match="larger than the provider's limit"):
        provider.part_size(MAX_SIZE + 1, None)
    with pytest.raises(UsageError, match="the file is empty and the provider refuses empty files"):
        provider.part_size(0, None)


# -- presign ---------------------------------------------------------------------------------


async def test_open_presigns_and_journals_every_link(make: Any) -> None:
    provider, rec = make({"/files/presign": [ok(presign_body())]})
    s = session()
    opened = await provider.open(s, parts_of(s))
    request = rec.requests[0]
    assert request.method == "POST"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert rec.form() == {"filename": "a.bin", "file_size": str(PART_SIZE + 5)}
    assert opened.ranges is None
    assert opened.location == f"https://files.test/{KEY}"
    remote = opened.remote
    assert (remote["upload_id"], remote["key"]) == ("UP1", KEY)
    assert remote["file_url"] == f"https://files.test/{KEY}"
    assert [link["part"] for link in remote["links"]] == [1, 2]
    assert {link["expires_at"] for link in remote["links"]} == {NOW + 900}

    s.remote = remote
    target = await provider.target(s, parts_of(s)[1])
    assert target.url == presign_body()["parts"][1]["presigned_url"]
    assert (target.method, target.headers, target.expires_at) == ("PUT", {}, NOW + 900)


@pytest.mark.parametrize(
    ("parts", "problem"),
    [
        (presign_body(1)["parts"], "lists 1 part link(s) for a file of 2 part(s)"),
        (presign_body(3)["parts"], "lists 3 part link(s) for a file of 2 part(s)"),
        (presign_body()["parts"][::-1], "out of order"),
        ([presign_body()["parts"][0]] * 2, "out of order"),
        ([{**p, "part_number": str(p["part_number"])} for p in presign_body()["parts"]], "order"),
        (
            [{**presign_body()["parts"][0], "part_number": True}, presign_body()["parts"][1]],
            "order",
        ),
        ([{**presign_body()["parts"][0], "part_number": 1.0}, presign_body()["parts"][1]], "order"),
        ([{"part_number": 1, "presigned_url": "http://s3.test/x"}, {}], "not https"),
        ([{"part_number": 1, "presigned_url": "http://10.0.0.1/x"}, {}], "not https"),
        ([{"part_number": 1, "presigned_url": "ftp://s3.test/x"}, {}], "not https"),
        ([{"part_number": 1, "presigned_url": ""}, {}], "has no link"),
        ([{"part_number": 1, "presigned_url": "https://"}, {}], "without a host"),
        ([{"part_number": 1, "presigned_url": "https://[::1/x"}, {}], "malformed"),
        ([None, None], "malformed entry for part 1"),
        ("parts", "no list of part links"),
        (None, "no list of part links"),
    ],
)
async def test_a_bad_part_list_is_aborted_before_any_byte(
    make: Any, parts: Any, problem: str
) -> None:
    provider, rec = make(
        {"/files/presign": [ok(presign_body(parts=parts))], "/files/abort": [ACCEPTED, GONE]}
    )
    s = session()
    with pytest.raises(RejectedError) as info:
        await provider.open(s, parts_of(s))
    message = str(info.value)
    assert message.startswith("start upload: Gumroad's answer ")
    assert problem in message
    assert message.endswith(
        "so no byte was sent; the upload was aborted; try again, and report it if it persists"
    )
    assert rec.paths() == ["/files/presign", "/files/abort", "/files/abort"]
    assert rec.form(1) == {"upload_id": "UP1", "key": KEY}


async def test_a_failed_cleanup_is_said(make: Any) -> None:
    provider, _ = make(
        {
            "/files/presign": [ok(presign_body(parts=[]))],
            "/files/abort": [httpx.Response(503)],
        }
    )
    with pytest.raises(RejectedError, match="aborting it failed too"):
        await provider.open(session(), parts_of(session()))


@pytest.mark.parametrize("changes", [{"upload_id": ""}, {"key": None}, {"upload_id": 7}])
async def test_presign_without_ids_cannot_be_aborted(make: Any, changes: Any) -> None:
    provider, rec = make({"/files/presign": [ok(presign_body(**changes))]})
    with pytest.raises(RejectedError, match="has no upload_id or key"):
        await provider.open(session(), parts_of(session()))
    assert rec.paths() == ["/files/presign"]


@pytest.mark.parametrize(
    "url",
    [
        "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=1",
        "http://127.0.0.1:9000/b/k",
        "http://127.8.9.10/b/k",
        "http://[::1]:8080/b/k",
        "http://LOCALHOST/b/k",
    ],
)
def test_links_allowed(url: str) -> None:
    assert link_problem(url) is None


@pytest.mark.parametrize(
    "url", ["http://example.com/k", "http://192.168.1.2/k", "http://[::2]/k", "file:///etc/x", 5]
)
def test_links_refused(url: object) -> None:
    assert link_problem(url) is not None


# -- links and receipts ----------------------------------------------------------------------


async def test_a_link_past_its_expiry_cannot_be_renewed(make: Any) -> None:
    provider, rec = make({"/files/presign": [ok(presign_body())]})
    s = session()
    s.remote = (await provider.open(s, parts_of(s))).remote
    async with httpx.AsyncClient() as client:
        late = GumroadProvider(client, token=TOKEN, base_url=BASE, clock=lambda: NOW + 900)
        with pytest.raises(TargetExpired) as info:
            await late.target(s, parts_of(s)[0])
    assert str(info.value) == (
        "part 1: its link expired (Gumroad part links live 15 min from the start of the "
        "upload) and Gumroad cannot renew part links: abort and upload again"
    )
    assert rec.paths() == ["/files/presign"]  # nothing asked of the server


async def test_a_part_without_a_journaled_link(make: Any) -> None:
    provider, _ = make({})
    s = session(remote={"upload_id": "UP1", "key": KEY, "links": [{"part": 2}]})
    with pytest.raises(RejectedError, match="journal holds no Gumroad link for it; abort"):
        await provider.target(s, parts_of(s)[0])


def test_an_expired_answer_from_s3_says_gumroad_cannot_renew(make: Any) -> None:
    provider, _ = make({})
    s = session()
    body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    with pytest.raises(TargetExpired, match="Gumroad cannot renew part links: abort and upload"):
        provider.receipt(s, parts_of(s)[0], httpx.Response(403, content=body))
    part = parts_of(s)[0]
    part.md5 = "0" * 32
    receipt = provider.receipt(s, part, httpx.Response(200, headers={"ETag": f'"{"0" * 32}"'}))
    assert receipt.verified and receipt.etag == "0" * 32


# -- complete --------------------------------------------------------------------------------


def opened_session() -> tuple[Session, list[Part]]:
    s = session(remote={"upload_id": "UP1", "key": KEY, "file_url": "https://files.test/x"})
    s.location = "https://files.test/x"
    parts = parts_of(s)
    parts[0].etag, parts[1].etag = '"aaa"', "bbb"
    return s, parts


async def test_complete_sends_the_part_list_once(make: Any) -> None:
    provider, rec = make(
        {"/files/complete": [ok({"success": True, "file_url": "https://files.test/done"})]}
    )
    s, parts = opened_session()
    assert await provider.complete(s, parts[::-1]) == "https://files.test/done"
    assert rec.form() == {
        "upload_id": "UP1",
        "key": KEY,
        "parts[0][part_number]": "1",
        "parts[0][etag]": "aaa",
        "parts[1][part_number]": "2",
        "parts[1][etag]": "bbb",
    }
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (httpx.Response(500), "Gumroad answered 500"),
        (httpx.Response(502, text="<html>bad gateway</html>"), "Gumroad answered 502"),
        (ok({"status": 408, "error": "timeout"}, 408), "Gumroad answered 408"),
        (ok({"status": 409, "error": "busy"}, 409), "Gumroad answered 409"),
        (httpx.Response(429, headers={"Retry-After": "3"}), "Gumroad answered 429"),
        (httpx.ReadTimeout("slow"), "no answer in time"),
        (httpx.ConnectError("refused"), "could not connect"),
        (httpx.RemoteProtocolError("cut"), "the server broke the connection"),
        (httpx.Response(200, text="<html>ok?</html>"), "is not a JSON object"),
    ],
)
async def test_an_unclear_complete_is_unknown_and_not_repeated(
    make: Any, answer: Answer, detail: str
) -> None:
    provider, rec = make({"/files/complete": [answer]})
    s, parts = opened_session()
    with pytest.raises(CompleteUnknown) as info:
        await provider.complete(s, parts)
    message = str(info.value)
    assert detail in message
    assert "Gumroad may already have this file: run partdeck abort abcdef01 to settle" in message
    assert "partdeck complete abcdef01 --force" in message
    assert "will retry" not in message
    assert len(rec.requests) == 1
    assert rec.paths() == ["/files/complete"]  # never aborted


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            ok(
                {"status": 400, "error": "One or more of the specified parts could not be found."},
                400,
            ),
            "complete: Gumroad refused the request (400): One or more of the specified parts "
            "could not be found.",
        ),
        (
            ok({"success": False, "message": "The upload was not found."}),
            "complete: Gumroad refused the request: The upload was not found.",
        ),
        (ok({"success": False}), "complete: Gumroad refused the request: success is not true"),
        (httpx.Response(404, text="<html>no</html>"), "(404): not found; check the account's"),
        (ok({"error": "nope"}, 422), "complete: Gumroad refused the request (422): nope"),
    ],
)
async def test_a_refused_complete_committed_nothing(make: Any, answer: Answer, said: str) -> None:
    provider, rec = make({"/files/complete": [answer]})
    s, parts = opened_session()
    with pytest.raises(RejectedError) as info:
        await provider.complete(s, parts)
    assert not isinstance(info.value, CompleteUnknown)
    message = str(info.value)
    assert said in message
    assert message.endswith(
        "; nothing was committed: check the parts with partdeck show abcdef01, then complete "
        "again or abort with partdeck abort abcdef01"
    )
    assert "\n" not in message
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    "error",
    [
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        "NoSuchUpload",
    ],
)
async def test_a_first_complete_meeting_s3s_no_such_upload_is_a_gone_upload(
    make: Any, error: str
) -> None:
    provider, rec = make({"/files/complete": [ok({"status": 400, "error": error}, 400)]})
    s, parts = opened_session()
    s.complete_sent = 1
    with pytest.raises(UploadGone) as info:
        await provider.complete(s, parts)
    assert info.value.code == "NoSuchUpload" and "\n" not in str(info.value)
    assert len(rec.requests) == 1


async def test_complete_without_a_file_url_keeps_the_known_location(make: Any) -> None:
    provider, _ = make({"/files/complete": [ok({"success": True})]})
    s, parts = opened_session()
    assert await provider.complete(s, parts) == "https://files.test/x"


# -- error shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            ok({"status": 400, "error": "file_size exceeds the 20 GB maximum"}, 400),
            RejectedError,
            "start upload: Gumroad refused the request (400): file_size exceeds the 20 GB maximum",
        ),
        (
            ok({"success": False, "message": "You are   not allowed\nto do that."}),
            RejectedError,
            "start upload: Gumroad refused the request: You are not allowed to do that.",
        ),
        (
            httpx.Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}),
            RejectedError,
            "start upload: Gumroad rejected the token of account shop (401); check token_env "
            "(or token_command / token_file) in the config and that the token has not been "
            "revoked",
        ),
        (
            ok({"error": "invalid_token", "error_description": f"token {TOKEN} revoked"}, 401),
            RejectedError,
            "start upload: Gumroad rejected the token of account shop (401: token … revoked); "
            "check token_env (or token_command / token_file) in the config and that the token "
            "has not been revoked",
        ),
        (
            httpx.Response(403),
            RejectedError,
            "start upload: the token of account shop lacks the edit_products scope (403); "
            "authorize a token with edit_products and give it to the account (token_env, "
            "token_command or token_file)",
        ),
        (httpx.Response(503), TransientError, "start upload: server error 503; will retry"),
        (
            httpx.Response(200, text="<html>captive portal</html>"),
            RejectedError,
            "start upload: Gumroad's answer (200) is not a JSON object; check the account's "
            "base_url",
        ),
    ],
)
async def test_every_error_shape_is_one_sentence(
    make: Any, answer: Answer, error: type[Exception], message: str
) -> None:
    provider, _ = make({"/files/presign": [answer]})
    with pytest.raises(error) as info:
        await provider.open(session(), parts_of(session()))
    assert type(info.value) is error
    assert str(info.value) == message
    assert TOKEN not in str(info.value)


async def test_rate_limits_carry_retry_after(make: Any) -> None:
    provider, _ = make({"/files/presign": [httpx.Response(429, headers={"Retry-After": "7"})]})
    with pytest.raises(TransientError) as info:
        await provider.open(session(), parts_of(session()))
    assert info.value.retry_after == 7.0


# -- abort -----------------------------------------------------------------------------------


async def test_abort_repeats_while_accepted(make: Any) -> None:
    provider, rec = make({"/files/abort": [ACCEPTED, ACCEPTED, GONE]})
    s, _ = opened_session()
    assert await provider.abort(s) is None
    assert rec.paths() == ["/files/abort"] * 3
    assert all(r.extensions["timeout"] == ABORT_TIMEOUT.as_dict() for r in rec.requests)


async def test_a_refused_forced_repeat_points_at_the_abort_that_settles_it(make: Any) -> None:
    gone = httpx.Response(400, json={"status": 400, "error": "The specified upload does not exist"})
    provider, _ = make({"/files/complete": [gone]})
    s, parts = opened_session()
    s.complete_sent = 2
    with pytest.raises(RejectedError) as info:
        await provider.complete(s, parts)
    assert "nothing was committed" not in str(info.value)
    assert str(info.value).endswith("run partdeck abort abcdef01 to settle it")


async def test_a_first_abort_that_finds_a_completed_upload_gone_settles_it(make: Any) -> None:
    provider, rec = make({"/files/abort": [GONE]})
    s, _ = opened_session()
    s.complete_sent = 1
    with pytest.raises(AlreadyCompleted) as info:
        await provider.abort(s)
    assert len(rec.requests) == 1
    assert info.value.location == s.location
    assert s.remote["aborts_sent"] == 1
    # An upload aborted before (by an abort whose answer was lost) proves nothing.
    provider, _ = make({"/files/abort": [GONE]})
    provider.before_abort(s)  # as the engine does, journaling it before the call leaves
    assert s.remote["aborts_sent"] == 2
    assert await provider.abort(s) is None


@pytest.mark.parametrize(
    ("remote", "count"),
    [({}, 1), ({"abort_sent": True}, 2), ({"aborts_sent": 3}, 4), ({"aborts_sent": "x"}, 1)],
    ids=["none yet", "older true/false mark", "three before", "garbled"],
)
async def test_before_abort_counts_the_aborts_that_may_have_left(
    make: Any, remote: dict[str, Any], count: int
) -> None:
    provider, rec = make({"/files/abort": [GONE]})
    s, _ = opened_session()
    s.complete_sent = 1
    s.remote.update(remote)
    provider.before_abort(s)
    assert s.remote["aborts_sent"] == count
    assert rec.requests == []  # marking sends nothing
    if count == 1:
        with pytest.raises(AlreadyCompleted):
            await provider.abort(s)
    else:
        assert await provider.abort(s) is None


@pytest.mark.parametrize(
    "answers",
    [[httpx.Response(502), GONE], [ACCEPTED, GONE]],
    ids=["first answer lost", "first accepted"],
)
async def test_already_gone_after_an_earlier_call_is_an_abort(
    make: Any, answers: list[Any]
) -> None:
    provider, _ = make({"/files/abort": answers})
    s, _ = opened_session()
    s.complete_sent = 1
    assert await provider.abort(s) is None


async def test_abort_gives_up_after_the_cap(make: Any) -> None:
    provider, rec = make({"/files/abort": [ACCEPTED]})
    s, _ = opened_session()
    with pytest.raises(TransientError) as info:
        await provider.abort(s)
    assert len(rec.requests) == ABORT_TRIES
    assert str(info.value) == (
        "abort: after 10 calls Gumroad gives it still answers 'accepted', so the upload may "
        "still hold parts; run partdeck abort again later"
    )


async def test_abort_rides_out_server_errors(make: Any) -> None:
    provider, rec = make({"/files/abort": [httpx.Response(502), httpx.ConnectError("x"), GONE]})
    s, _ = opened_session()
    await provider.abort(s)
    assert len(rec.requests) == 3
    provider, _ = make({"/files/abort": [httpx.ReadTimeout("slow")]})
    with pytest.raises(TransientError, match=r"no clear answer \(no answer in time"):
        await provider.abort(s)


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (ok({"success": True, "status": "weird"}), r"unknown status \(weird\)"),
        (ok({"success": True, "status": ["x"]}), r"unknown status \(list\)"),
        (ok({"status": 400, "error": "invalid key"}, 400), r"\(400\): invalid key"),
    ],
)
async def test_abort_refusals(make: Any, answer: Answer, match: str) -> None:
    provider, rec = make({"/files/abort": [answer]})
    s, _ = opened_session()
    with pytest.raises(RejectedError, match=match):
        await provider.abort(s)
    assert len(rec.requests) == 1


async def test_abort_without_ids(make: Any) -> None:
    provider, rec = make({})
    with pytest.raises(RejectedError, match="nothing on Gumroad to abort"):
        await provider.abort(session())
    assert rec.requests == []


# -- check and account -----------------------------------------------------------------------


async def test_check_names_the_account(make: Any) -> None:
    provider, rec = make({"/user": [ok({"success": True, "user": {"name": "Ann", "bio": None}})]})
    assert await provider.check() == "Gumroad account Ann"
    assert rec.requests[0].method == "GET"
    provider, _ = make({"/user": [ok({"success": True, "user": None})]})
    assert await provider.check() == "Gumroad token accepted"
    provider, _ = make({"/user": [httpx.Response(401)]})
    with pytest.raises(RejectedError, match="check account: Gumroad rejected the token"):
        await provider.check()


async def test_from_account_reads_the_token_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUMROAD_TEST_TOKEN", TOKEN)
    account = Account(
        name="shop", provider="gumroad", base_url=BASE + "/", token_env="GUMROAD_TEST_TOKEN"
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok({"success": True, "user": {"email": "a@b.test"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        provider = from_account(account, client, token_source(account, client, None))
        monkeypatch.delenv("GUMROAD_TEST_TOKEN")
        assert await provider.check() == "Gumroad account a@b.test"
    assert str(seen[0].url) == f"{BASE}/user"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
