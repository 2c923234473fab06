"""Wunderlist over real sockets: the emulator, its S3 gateway (SigV2) and moto."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tests.support.crash import kill_once_verified
from tui.config import load_config
from tui.core.errors import RejectedError, TargetExpired
from tui.core.journal import Journal
from tui.core.model import Part, Session
from tui.core.units import MiB
from tui.providers.credentials import token_source
from tui.providers.wunderlist import WunderlistProvider, from_account

Kit = Callable[[str], ProviderKit]


@pytest.fixture
def kit(kit_factory: Kit) -> ProviderKit:
    return kit_factory("wunderlist")


def _session(kit: ProviderKit, session_id: str) -> Session:
    journal = Journal.open(kit.state_dir)
    try:
        return journal.session(session_id)
    finally:
        journal.close()


def _record(kit: ProviderKit, upload_id: str | int) -> dict[str, Any]:
    """The emulator's record of an upload (S3 key and id, state, part requests)."""
    url = kit.sandbox.contexts["wunderlist"].public_url
    answer = httpx.get(f"{url}/_sandbox/uploads/{upload_id}")
    answer.raise_for_status()
    record: dict[str, Any] = answer.json()
    return record


def _api_calls(kit: ProviderKit) -> int:
    url = kit.sandbox.contexts["wunderlist"].public_url
    return int(httpx.get(f"{url}/_sandbox/stats").json()["requests"])


def _landed(kit: ProviderKit, session_id: str) -> tuple[dict[str, Any], bytes]:
    """The upload's record and the bytes S3 holds under its key."""
    record = _record(kit, _session(kit, session_id).remote["upload_id"])
    data = asyncio.run(kit.sandbox.backends["wunderlist"].read(record["key"]))
    return record, data


def _puts(kit: ProviderKit, record: dict[str, Any]) -> dict[int, int]:
    return kit.faults.puts_for(record["s3_upload_id"])


def _provider(kit: ProviderKit, client: httpx.AsyncClient) -> WunderlistProvider:
    account = load_config(kit.config).account(kit.account)
    provider = from_account(account, client, token_source(account, client, None))
    assert isinstance(provider, WunderlistProvider)
    return provider


def _plan(path: Path, part_size: int = 5 * MiB) -> tuple[Session, list[Part]]:
    """A session and its parts, hashed, as the engine would hand them over."""
    size = path.stat().st_size
    session = Session(
        id=f"t-{path.name}",
        account="sandbox-wunderlist",
        provider="wunderlist",
        path=str(path),
        size=size,
        mtime_ns=path.stat().st_mtime_ns,
        part_size=part_size,
    )
    data = path.read_bytes()
    parts = [
        Part(
            session_id=session.id,
            number=n,
            start=start,
            end=min(start + part_size, size),
            md5=hashlib.md5(data[start : start + part_size]).hexdigest(),
        )
        for n, start in enumerate(range(0, size, part_size), start=1)
    ]
    return session, parts


# -- the happy path --------------------------------------------------------------------------


def test_upload_and_finish_with_bytes_checked(kit: ProviderKit, tmp_path: Path) -> None:
    path = make_file(tmp_path / "wunderlist sample.bin", 11 * MiB + 7)
    result = kit.upload(path, "--part-size", "5MiB")
    assert result.code == 0, result.err
    summary = result.summary
    assert summary["state"] == "completed"
    record, data = _landed(kit, summary["session"])
    assert data == path.read_bytes()
    assert record["state"] == "finished"
    assert record["file_name"] == "wunderlist sample.bin"
    assert summary["location"] == f"wunderlist upload {record['id']} (wunderlist sample.bin)"
    assert _puts(kit, record) == {1: 1, 2: 1, 3: 1}
    # Part 1's credentials came with create: only parts 2 and 3 were asked for.
    assert sorted(r["part_number"] for r in record["part_requests"]) == [2, 3]


def test_credentials_are_fetched_one_at_a_time(kit: ProviderKit, tmp_path: Path) -> None:
    config = kit.write_config("serial.toml", parts_in_flight=1, parts_per_session=1)
    path = make_file(tmp_path / "lazy.bin", 15 * MiB + 3, seed=1)
    result = kit.upload(path, "--part-size", "5MiB", config=config)
    assert result.code == 0, result.err
    record, data = _landed(kit, result.summary["session"])
    assert data == path.read_bytes()
    # parts - 1 requests, each made only once the part before it had been sent.
    assert record["part_requests"] == [
        {"part_number": 2, "puts_before": 1},
        {"part_number": 3, "puts_before": 2},
        {"part_number": 4, "puts_before": 3},
    ]


def test_a_lost_finish_answer_is_repeated_once(kit: ProviderKit, tmp_path: Path) -> None:
    kit.set_faults(complete_lost=1)
    path = make_file(tmp_path / "lost.bin", 6 * MiB, seed=3)
    result = kit.upload(path, "--part-size", "5MiB")
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert kit.faults.injected["complete_lost"] == 1
    _, data = _landed(kit, result.summary["session"])
    assert data == path.read_bytes()


# -- failures, retry, abort, resume ----------------------------------------------------------


def test_a_failed_part_is_retried_alone(kit: ProviderKit, tmp_path: Path) -> None:
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "retry.bin", 12 * MiB, seed=2)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.code == 1
    assert first.summary["state"] == "failed"
    assert "retry them with partdeck retry" in first.summary["error"]
    session = first.summary["session"]
    record = _record(kit, _session(kit, session).remote["upload_id"])
    assert _puts(kit, record) == {1: 1, 2: 3, 3: 1}
    retried = kit.cli("retry", session[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    assert _puts(kit, record) == {1: 1, 2: 4, 3: 1}  # only part 2 went out again
    _, data = _landed(kit, session)
    assert data == path.read_bytes()


def test_abort_sends_nothing_and_the_server_collects_the_upload_later(
    kit: ProviderKit, tmp_path: Path
) -> None:
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "abandon.bin", 12 * MiB, seed=4)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.summary["state"] == "failed"
    session = first.summary["session"]
    record = _record(kit, _session(kit, session).remote["upload_id"])
    calls, puts = _api_calls(kit), _puts(kit, record)

    aborted = kit.cli("abort", session[:8])
    assert aborted.code == 0, aborted.err
    assert (
        "abandon.bin: aborted: Wunderlist has no abort; the server discards unfinished "
        "uploads by itself"
    ) in aborted.out
    assert _session(kit, session).state == "aborted"
    assert _api_calls(kit) == calls  # nothing was sent to Wunderlist...
    assert _puts(kit, record) == puts  # ...nor to S3
    # As the reference says, the upload stays behind until the server collects it.
    backend = kit.sandbox.backends["wunderlist"]
    assert (record["key"], record["s3_upload_id"]) in asyncio.run(backend.uploads())
    held = asyncio.run(backend.parts(record["key"], record["s3_upload_id"]))
    assert sorted(p.number for p in held) == [1, 3]

    kit.sandbox.time_offset = 25 * 3600  # past the emulator's upload lifetime
    assert _record(kit, record["id"])["state"] == "collected"
    assert (record["key"], record["s3_upload_id"]) not in asyncio.run(backend.uploads())


def test_resume_after_sigkill_trusts_the_journal(kit: ProviderKit, tmp_path: Path) -> None:
    slow = kit.write_config(
        "slow.toml", parts_in_flight=1, parts_per_session=1, bandwidth_limit="4MiB"
    )
    path = make_file(tmp_path / "killed.bin", 15 * MiB + 1234, seed=5)
    argv = kit.argv("upload", path, "--account", kit.account, "--part-size", "5MiB", config=slow)
    session, verified = kill_once_verified(argv, kit.state_dir)
    assert 1 <= len(verified) < 4
    record = _record(kit, _session(kit, session).remote["upload_id"])
    before = _puts(kit, record)

    resumed = kit.cli("resume", session[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    after = _puts(kit, record)
    resent = {n for n, count in after.items() if count > before.get(n, 0)}
    # Wunderlist cannot list parts: the journal alone says what is done, and it is trusted.
    assert resent, "the resume sent nothing"
    assert not resent & verified, f"verified parts {resent & verified} were sent again"
    assert resent | verified == {1, 2, 3, 4}
    _, data = _landed(kit, session)
    assert data == path.read_bytes()


# -- Wunderlist's own error cases --------------------------------------------------------------


def test_finishing_an_upload_with_no_parts_says_so(kit: ProviderKit, tmp_path: Path) -> None:
    path = make_file(tmp_path / "empty-handed.bin", 6 * MiB, seed=6)
    session, parts = _plan(path)

    async def scenario() -> str:
        async with httpx.AsyncClient() as client:
            provider = _provider(kit, client)
            opened = await provider.open(session, parts)
            session.remote, session.location = opened.remote, opened.location
            with pytest.raises(RejectedError) as caught:
                await provider.complete(session, parts)
            return str(caught.value)

    message = asyncio.run(scenario())
    assert message == (
        "Wunderlist has no parts for this upload, so it cannot be finished; resume the "
        "session to send its parts, or upload the file again"
    )
    assert _record(kit, session.remote["upload_id"])["state"] == "new"


def test_an_expired_credential_is_fetched_again(kit: ProviderKit, tmp_path: Path) -> None:
    # Part 1 fails while its credentials from create are fresh...
    kit.set_faults(part_500=1.0, parts=(1,), limit=3)
    path = make_file(tmp_path / "stale.bin", 7 * MiB, seed=7)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.summary["state"] == "failed"
    session = first.summary["session"]
    record = _record(kit, _session(kit, session).remote["upload_id"])
    assert [r["part_number"] for r in record["part_requests"]] == [2]
    # ...then 20 minutes pass on the server: S3 refuses their date as too far off.
    kit.sandbox.time_offset = 20 * 60
    retried = kit.cli("retry", session[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    expired = [
        e for e in retried.json_lines() if e.get("part") == 1 and "renewing" in e.get("message", "")
    ]
    assert expired and "RequestTimeTooSkewed" in expired[0]["message"]
    record = _record(kit, record["id"])
    assert [r["part_number"] for r in record["part_requests"]] == [2, 1]
    assert _puts(kit, record) == {1: 5, 2: 1}  # 3 faults, the refused PUT, the good one
    _, data = _landed(kit, session)
    assert data == path.read_bytes()


def test_an_early_expiry_is_renewed(kit: ProviderKit, tmp_path: Path) -> None:
    kit.set_faults(expire_early=1.0, parts=(2,), limit=1)
    path = make_file(tmp_path / "early.bin", 8 * MiB, seed=8)
    result = kit.upload(path, "--part-size", "5MiB")
    assert result.code == 0, result.err
    record, data = _landed(kit, result.summary["session"])
    assert data == path.read_bytes()
    assert [r["part_number"] for r in record["part_requests"]] == [2, 2]
    assert _puts(kit, record) == {1: 1, 2: 2}


def test_a_changed_signed_header_is_refused(kit: ProviderKit, tmp_path: Path) -> None:
    path = make_file(tmp_path / "tamper.bin", 6 * MiB, seed=9)
    session, parts = _plan(path)
    data = path.read_bytes()

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with httpx.AsyncClient() as client:
            provider = _provider(kit, client)
            opened = await provider.open(session, parts)
            session.remote = opened.remote
            part = parts[1]
            target = await provider.target(session, part)
            out["headers"] = target.headers
            body = data[part.start : part.end]

            async def put(headers: dict[str, str]) -> httpx.Response:
                return await client.put(target.url, content=body, headers=headers)

            wrong_type = await put({**target.headers, "Content-Type": "application/octet-stream"})
            signature = target.headers["Authorization"]
            tampered = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
            wrong_sig = await put({**target.headers, "Authorization": tampered})
            for name, response in (("type", wrong_type), ("signature", wrong_sig)):
                out[f"{name}_status"] = response.status_code
                with pytest.raises(RejectedError) as caught:
                    provider.receipt(session, part, response)
                assert not isinstance(caught.value, TargetExpired)
                out[f"{name}_message"] = str(caught.value)
            good = await put(target.headers)  # the same PUT as signed goes through
            out["good"] = provider.receipt(session, part, good)
        return out

    out = asyncio.run(scenario())
    assert out["headers"]["Content-Type"] == ""
    assert "Content-MD5" in out["headers"]  # part 2 was asked for with its md5sum
    for name in ("type", "signature"):
        assert out[f"{name}_status"] == 403
        assert out[f"{name}_message"] == (
            "part 2: S3 rejected Wunderlist's signature (SignatureDoesNotMatch): the "
            "Content-Type or date sent is not the one signed; retry the part, and check for "
            "a proxy that rewrites request headers if it fails again"
        )
    assert out["good"].verified
    assert out["good"].etag == parts[1].md5


def test_a_wrong_token_or_client_id_is_one_sentence(kit: ProviderKit) -> None:
    account = load_config(kit.config).account(kit.account)

    async def scenario() -> list[str]:
        messages = []
        async with httpx.AsyncClient() as client:
            good = from_account(account, client, token_source(account, client, None))
            messages.append(await good.check())
            ctx = kit.sandbox.contexts["wunderlist"]
            assert account.base_url is not None
            for token, client_id in (("nope", ctx.client_id), (ctx.token, "other-app")):
                provider = WunderlistProvider(
                    client, base_url=account.base_url, token=token, client_id=client_id
                )
                with pytest.raises(RejectedError) as caught:
                    await provider.check()
                messages.append(str(caught.value))
        return messages

    checked, *refused = asyncio.run(scenario())
    assert checked == "signed in to Wunderlist as Sandbox User"
    for message in refused:
        assert message == (
            "check account: Wunderlist did not accept the access token or client id "
            "(unauthorized: You are not authorized.); check the account's token and client_id"
        )
        assert kit.sandbox.contexts["wunderlist"].token not in message


def test_the_emulator_speaks_wunderlists_shapes(kit: ProviderKit) -> None:
    ctx = kit.sandbox.contexts["wunderlist"]
    api = f"{ctx.public_url}/api/v1"
    auth = {"X-Access-Token": ctx.token, "X-Client-ID": ctx.client_id}
    with httpx.Client(headers=auth) as client:
        bad = client.post(f"{api}/uploads", json={"content_type": "text/plain"})
        assert bad.status_code == 400
        error = bad.json()["error"]
        assert error["type"] == "missing_parameter"
        assert error["message"] == "Missing parameter."
        assert error["file_name"] == ["required", "can't be blank"]
        assert "file_size" in error
        not_json = client.post(f"{api}/uploads", content=b"{}")
        assert not_json.status_code == 400
        made = client.post(
            f"{api}/uploads",
            json={"content_type": "text/plain", "file_name": "a.txt", "file_size": 3},
        )
        assert made.status_code == 201
        upload = made.json()
        assert upload["state"] == "new" and upload["type"] == "upload"
        assert set(upload["part"]) == {"url", "date", "authorization"}
        assert upload["part"]["authorization"].startswith("AWS ")
        assert upload["part"]["date"].endswith(" GMT")
        # Both spellings of the part digest are taken, and sign Content-MD5 in.
        md5 = hashlib.md5(b"abc").hexdigest()
        for spelling in ("md5sum", "md5_sum"):
            part = client.get(
                f"{api}/uploads/{upload['id']}/parts", params={"part_number": 1, spelling: md5}
            ).json()["part"]
            sent = httpx.put(
                part["url"],
                content=b"abc",
                headers={
                    "Content-Type": "",
                    "Authorization": part["authorization"],
                    "x-amz-date": part["date"],
                    "Content-MD5": base64.b64encode(bytes.fromhex(md5)).decode(),
                },
            )
            assert sent.status_code == 200, sent.text
        finished = client.patch(f"{api}/uploads/{upload['id']}", json={"state": "finished"}).json()
        assert finished == {
            "id": upload["id"],
            "user_id": upload["user_id"],
            "state": "finished",
            "type": "upload",
        }
        again = client.patch(f"{api}/uploads/{upload['id']}", json={"state": "finished"})
        assert again.status_code == 200 and again.json() == finished
        attached = client.post(f"{api}/files", json={"upload_id": upload["id"], "task_id": 9})
        assert attached.status_code == 201
        assert attached.json()["file_size"] == 3 and attached.json()["type"] == "file"
        # An md5sum at create signs part 1's Content-MD5 in: leaving it out breaks the PUT.
        signed = client.post(
            f"{api}/uploads",
            json={
                "content_type": "text/plain",
                "file_name": "b.txt",
                "file_size": 3,
                "md5sum": md5,
            },
        ).json()["part"]
        headers = {"Content-Type": "", "Authorization": signed["authorization"]}
        headers["x-amz-date"] = signed["date"]
        unsigned_put = httpx.put(signed["url"], content=b"abc", headers=headers)
        assert unsigned_put.status_code == 403 and b"SignatureDoesNotMatch" in unsigned_put.content
        headers["Content-MD5"] = base64.b64encode(bytes.fromhex(md5)).decode()
        assert httpx.put(signed["url"], content=b"abc", headers=headers).status_code == 200
        gone = client.get(f"{api}/uploads/999999/parts", params={"part_number": 1})
        assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found"
    anonymous = httpx.get(f"{api}/user")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "unauthorized"
