"""The Polar adapter against scripted answers: requests it sends, errors it maps, the
complete/list dance, link expiry, receipts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tui.config import Account
from tui.core.errors import (
    CompleteUnknown,
    RejectedError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part, Session
from tui.providers.credentials import token_source
from tui.providers.polar import (
    ABORT_NOTE,
    POLAR_LIMITS,
    PolarProvider,
    from_account,
)

BASE = "https://api.polar.sh"
FILE_ID = "3f1c2b1e-0000-4000-8000-000000000001"
TOKEN = "polar_oat_secret-token-value"
Handler = Callable[[httpx.Request], httpx.Response]


def _b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _parts(data: bytes, size: int) -> list[Part]:
    parts = []
    for n, start in enumerate(range(0, len(data), size), start=1):
        chunk = data[start : start + size]
        parts.append(
            Part(
                "s1",
                n,
                start,
                start + len(chunk),
                sha256=hashlib.sha256(chunk).hexdigest(),
                md5=hashlib.md5(chunk).hexdigest(),
            )
        )
    return parts


def _session(path: str = "/tmp/report 2024.pdf", size: int = 30) -> Session:
    return Session("s1" + "0" * 30, "polar", "polar", path, size, 0, 10, digests={})


def _answer(request: httpx.Request, expires: str = "2099-01-01T00:00:00Z") -> dict[str, Any]:
    """A FileUpload built from the create request, as Polar answers it."""
    body = json.loads(request.content)
    return {
        "id": FILE_ID,
        "organization_id": "org-1",
        "name": body["name"],
        "path": f"downloadable/org-1/{FILE_ID}/{body['name']}",
        "is_uploaded": False,
        "upload": {
            "id": "s3-upload-1",
            "path": f"downloadable/org-1/{FILE_ID}/{body['name']}",
            "parts": [
                {
                    **p,
                    "url": f"https://bucket.s3.amazonaws.com/k?partNumber={p['number']}&X-Amz-Signature=abc",
                    "expires_at": expires,
                    "headers": {
                        "x-amz-checksum-sha256": p["checksum_sha256_base64"],
                        "x-amz-sdk-checksum-algorithm": "SHA256",
                    },
                }
                for p in body["upload"]["parts"]
            ],
        },
    }


def _provider(handler: Handler, **kwargs: Any) -> tuple[PolarProvider, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PolarProvider(client, base_url=BASE, token=TOKEN, **kwargs), client


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _open(provider: PolarProvider, session: Session, parts: list[Part]) -> Any:
    return await provider.open(session, parts)


# -- traits ----------------------------------------------------------------------------------


def test_traits_and_part_size() -> None:
    provider, _ = _provider(lambda r: httpx.Response(500))
    assert provider.digests == {"sha256", "md5"}
    assert provider.digests_before_open and provider.file_digests == {"sha256"}
    assert not provider.renewable_targets and provider.target_lifetime == 600
    assert provider.overwrites_parts and not provider.can_list_parts
    assert provider.complete_repeatable and not provider.open_repeatable
    assert provider.part_size(12_582_912, None) == 10_000_000
    # Grown so a huge file stays within 10,000 parts.
    big = 200 * 10**9
    assert -(-big // provider.part_size(big, None)) <= POLAR_LIMITS.max_parts


def test_from_account_reads_the_token_once(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    account = Account(
        name="p", provider="polar", base_url=BASE + "/", token_file=token_file, organization_id="o"
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "pagination": {"total_count": 3}})

    async def go() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            provider = from_account(account, client, token_source(account, client, None))
            token_file.write_text("changed")
            return await provider.check()

    assert _run(go()) == "Polar files API reachable (3 uploaded file(s))"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0].url.path == "/v1/files/"
    assert dict(seen[0].url.params) == {"limit": "1", "organization_id": "o"}


# -- open --------------------------------------------------------------------------------------


def test_open_sends_every_checksum_and_keeps_every_link() -> None:
    data = bytes(range(30))
    parts = _parts(data, 10)
    session = _session()
    session.digests["sha256"] = hashlib.sha256(data).hexdigest()
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=_answer(request))

    provider, _ = _provider(handler, organization_id="org-1")
    opened = _run(_open(provider, session, parts))
    [body] = sent
    assert body == {
        "organization_id": "org-1",
        "name": "report 2024.pdf",
        "mime_type": "application/pdf",
        "size": 30,
        "checksum_sha256_base64": _b64(data),
        "service": "downloadable",
        "upload": {
            "parts": [
                {
                    "number": p.number,
                    "chunk_start": p.start,
                    "chunk_end": p.end,
                    "checksum_sha256_base64": _b64(data[p.start : p.end]),
                }
                for p in parts
            ]
        },
    }
    remote = opened.remote
    assert remote["file_id"] == FILE_ID and remote["upload_id"] == "s3-upload-1"
    assert remote["key"] == f"downloadable/org-1/{FILE_ID}/report 2024.pdf"
    assert [link["number"] for link in remote["parts"]] == [1, 2, 3]
    assert remote["parts"][0]["expires_at"] == 4070908800.0
    assert remote["parts"][0]["headers"]["x-amz-sdk-checksum-algorithm"] == "SHA256"
    assert FILE_ID in (opened.location or "")
    assert opened.ranges is None
    json.dumps(remote)  # the journal stores it as JSON


def test_unknown_type_is_octet_stream_and_no_org_is_sent() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=_answer(request))

    provider, _ = _provider(handler)
    _run(_open(provider, _session("/x/blob.zzqq", 5), _parts(b"abcde", 5)))
    assert sent[0]["mime_type"] == "application/octet-stream"
    assert "organization_id" not in sent[0]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda a: a["upload"]["parts"].pop(), "answered with 2 part(s) for the 3 asked for"),
        (lambda a: a["upload"]["parts"][1].update(chunk_end=11), "part 2: Polar's range 10-11"),
        (lambda a: a["upload"]["parts"][0].update(url="http://evil.example/x"), "not https"),
        (lambda a: a["upload"]["parts"][0].update(expires_at="soon"), "is not a date"),
        (
            lambda a: a["upload"]["parts"][2]["headers"].update({"x-amz-checksum-sha256": "x"}),
            "did not sign the part's SHA-256 as given",
        ),
        (
            lambda a: a["upload"]["parts"].__setitem__(0, dict(a["upload"]["parts"][1])),
            "part 2 twice",
        ),
        (lambda a: a["upload"].pop("id"), "no upload id"),
    ],
)
def test_a_wrong_create_answer_is_refused_and_the_file_deleted(
    change: Callable[[dict[str, Any]], Any], said: str
) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "DELETE":
            return httpx.Response(204)
        answer = _answer(request)
        change(answer)
        return httpx.Response(200, json=answer)

    provider, _ = _provider(handler)
    with pytest.raises(RejectedError, match=re.escape(said)) as caught:
        _run(_open(provider, _session(), _parts(bytes(30), 10)))
    assert "X-Amz-Signature=abc" not in str(caught.value)
    assert calls == ["POST /v1/files/", f"DELETE /v1/files/{FILE_ID}"]


def test_loopback_part_urls_may_be_plain_http() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = _answer(request)
        for p in answer["upload"]["parts"]:
            p["url"] = "http://127.0.0.1:9/b/k?partNumber=1"
        return httpx.Response(200, json=answer)

    provider, _ = _provider(handler)
    opened = _run(_open(provider, _session(), _parts(bytes(30), 10)))
    assert opened.remote["parts"][0]["url"].startswith("http://127.0.0.1:9/")


def test_a_part_without_sha256_is_not_opened() -> None:
    provider, _ = _provider(lambda r: httpx.Response(500))
    part = Part("s1", 1, 0, 5)
    with pytest.raises(RejectedError, match="part 1 has no SHA-256 yet"):
        _run(_open(provider, _session(), [part]))


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            401,
            {"error": "invalid_token", "error_description": "The access token is invalid."},
            "create file: Polar rejected the token (The access token is invalid.); check the "
            "account's token (create an Organization Access Token with the files:write scope)",
        ),
        (
            403,
            {"error": "insufficient_scope", "error_description": "higher privileges"},
            "create file: the token lacks files:write; create an Organization Access Token "
            "with the files:write scope",
        ),
        (
            403,
            {"type": "NotPermitted", "detail": "Not permitted"},
            "create file: Polar said not permitted (Not permitted); check that the token belongs "
            "to the file's organization",
        ),
        (
            422,
            {
                "detail": [
                    {"loc": ["body", "downloadable", "size"], "msg": "Field required", "type": "m"},
                    {"loc": ["body", "name"], "msg": "Input should be a valid string", "type": "s"},
                ]
            },
            "create file: Polar refused the request: body.downloadable.size: Field required; "
            "body.name: Input should be a valid string",
        ),
        (
            409,
            {"type": "Conflict", "detail": f"token {TOKEN} is\nbusy"},
            "create file: Polar said 409 (Conflict: token … is busy)",
        ),
    ],
)
def test_polar_errors_become_one_clear_line(status: int, body: Any, message: str) -> None:
    provider, _ = _provider(lambda r: httpx.Response(status, json=body))
    with pytest.raises(RejectedError) as caught:
        _run(_open(provider, _session(), _parts(bytes(10), 10)))
    assert str(caught.value) == message
    assert caught.value.status == status
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(status: int) -> None:
    answer = httpx.Response(status, headers={"Retry-After": "7"}, text="Internal Server Error")
    provider, _ = _provider(lambda r: answer)
    with pytest.raises(TransientError) as caught:
        _run(_open(provider, _session(), _parts(bytes(10), 10)))
    assert caught.value.retry_after == 7


def test_network_errors_are_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    provider, _ = _provider(handler)
    with pytest.raises(TransientError, match="could not connect"):
        _run(provider.check())


# -- target and receipt ----------------------------------------------------------------------


def _opened_session(expires_at: float = 2_000_000_000.0) -> tuple[Session, list[Part]]:
    parts = _parts(bytes(range(20)), 10)
    session = _session(size=20)
    session.remote = {
        "file_id": FILE_ID,
        "upload_id": "u1",
        "key": "downloadable/o/f/x",
        "parts": [
            {
                "number": p.number,
                "url": f"https://s3.example/k?partNumber={p.number}",
                "expires_at": expires_at,
                "headers": {
                    "x-amz-checksum-sha256": "abc=",
                    "x-amz-sdk-checksum-algorithm": "SHA256",
                },
                "checksum_sha256_base64": f"sum{p.number}=",
            }
            for p in parts
        ],
    }
    return session, parts


def test_target_is_the_stored_link_with_exactly_its_headers() -> None:
    provider, _ = _provider(lambda r: httpx.Response(500), clock=lambda: 1_000.0)
    session, parts = _opened_session()
    target = _run(provider.target(session, parts[1]))
    assert target.url == "https://s3.example/k?partNumber=2"
    assert target.method == "PUT"
    assert target.headers == {
        "x-amz-checksum-sha256": "abc=",
        "x-amz-sdk-checksum-algorithm": "SHA256",
    }
    assert target.expires_at == 2_000_000_000.0


def test_target_past_expiry_cannot_be_renewed() -> None:
    provider, _ = _provider(lambda r: httpx.Response(500), clock=lambda: 2_000_000_001.0)
    session, parts = _opened_session()
    with pytest.raises(TargetExpired) as caught:
        _run(provider.target(session, parts[0]))
    message = str(caught.value)
    assert message.startswith("part 1: its link expired at ")
    assert message.endswith("Polar cannot renew part links: abort and upload again")


def _s3(status: int, code: str = "", message: str = "", etag: str | None = None) -> httpx.Response:
    headers = {"ETag": etag} if etag else {}
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>" if code else ""
    return httpx.Response(status, headers=headers, text=body)


def test_receipt_keeps_the_etag_as_received() -> None:
    provider, _ = _provider(lambda r: httpx.Response(500))
    session, parts = _opened_session()
    receipt = provider.receipt(session, parts[0], _s3(200, etag=f'"{parts[0].md5}"'))
    assert receipt.etag == f'"{parts[0].md5}"' and receipt.verified
    opaque = provider.receipt(session, parts[0], _s3(200, etag='"abc-kms"'))
    assert opaque.etag == '"abc-kms"' and not opaque.verified
    with pytest.raises(TransientError, match="not the MD5"):
        provider.receipt(session, parts[0], _s3(200, etag='"' + "0" * 32 + '"'))


def test_receipt_bad_digest_and_expiry_are_polar_sentences() -> None:
    provider, _ = _provider(lambda r: httpx.Response(500))
    session, parts = _opened_session()
    bad = _s3(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    with pytest.raises(RejectedError) as caught:
        provider.receipt(session, parts[1], bad)
    assert not isinstance(caught.value, TransientError)
    assert str(caught.value).startswith(
        "part 2: Polar's storage refused the bytes because their SHA-256 is not the one signed "
        "into the part link at create (BadDigest); retry the part with partdeck retry s1000000"
    )
    with pytest.raises(TargetExpired) as expired:
        provider.receipt(session, parts[1], _s3(403, "AccessDenied", "Request has expired"))
    assert str(expired.value) == (
        "part 2: its link has expired and Polar cannot renew part links: abort and upload again"
    )


# -- complete --------------------------------------------------------------------------------


class Script:
    """Answers by ``METHOD path`` in order; records every request."""

    def __init__(self, answers: dict[str, list[httpx.Response]]) -> None:
        self.answers = answers
        self.seen: list[str] = []
        self.bodies: list[Any] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url.path}"
        self.seen.append(key)
        self.bodies.append(json.loads(request.content) if request.content else None)
        return self.answers[key].pop(0)


UPLOADED = f"POST /v1/files/{FILE_ID}/uploaded"
LIST = "GET /v1/files/"
FILE_READ = {"id": FILE_ID, "is_uploaded": True}
LISTED = {"items": [FILE_READ], "pagination": {"total_count": 1, "max_page": 1}}
NOT_LISTED = {"items": [], "pagination": {"total_count": 0, "max_page": 0}}


def _complete(script: Script, complete_sent: int = 1) -> str | None:
    provider, _ = _provider(script)
    session, parts = _opened_session()
    session.complete_sent = complete_sent
    for p in parts:
        p.etag = f'"{p.md5}"'
    return _run(provider.complete(session, parts))  # type: ignore[no-any-return]


def test_complete_sends_etags_as_received_and_create_checksums() -> None:
    script = Script({UPLOADED: [httpx.Response(200, json=FILE_READ)]})
    location = _complete(script)
    assert location is not None and FILE_ID in location
    assert script.seen == [UPLOADED]
    _, parts = _opened_session()
    assert script.bodies[0] == {
        "id": "u1",
        "path": "downloadable/o/f/x",
        "parts": [
            {
                "number": p.number,
                "checksum_etag": f'"{p.md5}"',
                "checksum_sha256_base64": f"sum{p.number}=",
            }
            for p in parts
        ],
    }


def test_a_lost_answer_is_found_in_the_list() -> None:
    script = Script(
        {
            UPLOADED: [httpx.Response(500, text="Internal Server Error")],
            LIST: [httpx.Response(200, json=LISTED)],
        }
    )
    assert _complete(script) is not None
    assert script.seen == [UPLOADED, LIST]


def test_not_listed_means_uploaded_is_sent_once_more() -> None:
    script = Script(
        {
            UPLOADED: [httpx.Response(502), httpx.Response(200, json=FILE_READ)],
            LIST: [httpx.Response(200, json=NOT_LISTED)],
        }
    )
    assert _complete(script) is not None
    assert script.seen == [UPLOADED, LIST, UPLOADED]


def test_still_unclear_is_complete_unknown() -> None:
    script = Script(
        {
            UPLOADED: [httpx.Response(500), httpx.Response(503)],
            LIST: [httpx.Response(200, json=NOT_LISTED), httpx.Response(500)],
        }
    )
    with pytest.raises(CompleteUnknown) as caught:
        _complete(script)
    assert script.seen == [UPLOADED, LIST, UPLOADED, LIST]
    assert str(caught.value) == (
        f"complete: no clear answer from Polar (HTTP 503) and its list does not show file "
        f"{FILE_ID} as uploaded; check the file in Polar, then run partdeck complete s1000000 "
        "again (repeating it is safe) or abort"
    )


def test_a_repeated_complete_looks_at_the_list_first() -> None:
    script = Script({LIST: [httpx.Response(200, json=LISTED)]})
    assert _complete(script, complete_sent=2) is not None
    assert script.seen == [LIST]


def test_a_deleted_file_at_complete_is_a_gone_upload_not_unknown() -> None:
    gone = {"type": "FileNotFound", "detail": f"No file exists with ID: {FILE_ID}"}
    script = Script({UPLOADED: [httpx.Response(404, json=gone)]})
    with pytest.raises(UploadGone) as caught:
        _complete(script)
    assert script.seen == [UPLOADED]  # not sent again, not looked up
    assert str(caught.value) == (
        f"complete: Polar has no such file (No file exists with ID: {FILE_ID}); it was deleted, "
        "so upload the file again"
    )


# -- abort -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [204, 404])
def test_abort_deletes_and_says_what_stays(status: int) -> None:
    script = Script({f"DELETE /v1/files/{FILE_ID}": [httpx.Response(status, json={})]})
    provider, _ = _provider(script)
    session, _ = _opened_session()
    assert _run(provider.abort(session)) == ABORT_NOTE


def test_abort_that_fails_is_an_error() -> None:
    script = Script({f"DELETE /v1/files/{FILE_ID}": [httpx.Response(503)]})
    provider, _ = _provider(script)
    session, _ = _opened_session()
    with pytest.raises(TransientError):
        _run(provider.abort(session))


@pytest.mark.parametrize(
    ("status", "note"),
    [
        (204, f"Polar file {FILE_ID} (never uploaded) was deleted"),
        (404, None),
        (503, f"Polar file {FILE_ID} (never uploaded) may remain: delete it in Polar"),
        (200, f"Polar file {FILE_ID} (never uploaded) may remain: delete it in Polar"),
    ],
)
def test_forget_deletes_the_file_a_gone_upload_leaves(status: int, note: str | None) -> None:
    script = Script({f"DELETE /v1/files/{FILE_ID}": [httpx.Response(status, json={})]})
    provider, _ = _provider(script)
    session, _ = _opened_session()
    assert _run(provider.forget(session)) == note
    assert script.seen == [f"DELETE /v1/files/{FILE_ID}"]  # once: best effort
