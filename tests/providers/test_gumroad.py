"""Gumroad against its emulator, over real sockets: presign, part links, complete, abort."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tests.support.crash import kill_once_verified
from tui.core.errors import RejectedError
from tui.core.journal import Journal
from tui.core.model import Part, Session, SessionState
from tui.core.units import MiB
from tui.providers.gumroad import PART_SIZE, GumroadProvider
from tui.providers.gumroad import provider as gumroad_provider
from tui.providers.s3 import multipart_etag
from tui.sandbox.backend import S3Backend

KEY_SHAPE = re.compile(r"^attachments/[0-9a-f]{16}/[0-9a-f]{32}/original/(?P<name>.+)$")


@pytest.fixture
def kit(kit_factory: Callable[[str], ProviderKit]) -> ProviderKit:
    """The Gumroad sandbox with a config for ``sandbox-gumroad``."""
    return kit_factory("gumroad")


@pytest.fixture
def fast_abort(monkeypatch: pytest.MonkeyPatch) -> None:
    """Abort calls spaced by milliseconds instead of seconds."""
    monkeypatch.setattr(gumroad_provider, "ABORT_SPACING", 0.01)


def backend(kit: ProviderKit) -> S3Backend:
    return kit.sandbox.backends["gumroad"]


def calls(kit: ProviderKit) -> dict[str, dict[str, int]]:
    """The emulator's count of calls per endpoint and upload id."""
    url = kit.sandbox.contexts["gumroad"].public_url
    answer: dict[str, dict[str, int]] = httpx.get(f"{url}/_sandbox/calls").json()
    return answer


def stored(kit: ProviderKit, session_id: str) -> tuple[Session, list[Part]]:
    journal = Journal.open(kit.state_dir)
    try:
        return journal.session(session_id), journal.parts(session_id)
    finally:
        journal.close()


def puts(kit: ProviderKit, upload_id: str) -> dict[int, int]:
    return kit.faults.puts_for(upload_id)


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_upload_and_complete(kit: ProviderKit, tmp_path: Path) -> None:
    path = make_file(tmp_path / "cover: art.bin", 3 * MiB + 7)
    result = kit.upload(path)
    assert result.code == 0, result.err
    summary = result.summary
    assert summary["state"] == "completed"
    session, parts = stored(kit, summary["session"])
    key = session.remote["key"]
    match = KEY_SHAPE.match(key)
    assert match is not None, key
    assert match["name"] == "cover- art.bin"  # sanitized as ActiveStorage does
    store = backend(kit)
    assert summary["location"] == f"{store.public_url}/{store.bucket}/{key}"
    assert asyncio.run(store.read(key)) == path.read_bytes()
    assert [p.state for p in parts] == ["verified"]
    assert session.part_size == PART_SIZE
    assert puts(kit, session.remote["upload_id"]) == {1: 1}
    # Every link was journaled with its expiry before a byte moved.
    (link,) = session.remote["links"]
    assert link["expires_at"] == pytest.approx(session.remote["presigned_at"] + 900)


def test_one_failed_part_is_retried_alone(kit: ProviderKit, tmp_path: Path) -> None:
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "two parts.bin", PART_SIZE + 3 * MiB + 1, seed=3)
    first = kit.upload(path)
    assert first.code == 1
    assert first.summary["state"] == "failed"
    session_id = first.summary["session"]
    session, parts = stored(kit, session_id)
    assert [p.state for p in parts] == ["verified", "failed"]
    upload_id = session.remote["upload_id"]
    assert puts(kit, upload_id) == {1: 1, 2: 3}

    retried = kit.cli("retry", session_id[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    assert puts(kit, upload_id) == {1: 1, 2: 4}  # only part 2 went out again
    # The object's multipart ETag is built from each part's MD5: it proves the bytes
    # without reading 100 MiB back out of moto.
    head = asyncio.run(backend(kit).head(session.remote["key"]))
    assert head is not None
    data = path.read_bytes()
    md5s = [hashlib.md5(data[a : a + PART_SIZE]).hexdigest() for a in (0, PART_SIZE)]
    assert head["ETag"].strip('"') == multipart_etag(md5s)
    assert head["ContentLength"] == len(data)


def test_abort_repeats_until_already_gone(
    kit: ProviderKit, tmp_path: Path, fast_abort: None
) -> None:
    path = make_file(tmp_path / "aborted.bin", 2 * MiB)
    sent = kit.upload(path, "--no-complete")
    assert sent.code == 0, sent.err
    assert sent.summary["state"] == "uploaded"
    session, _ = stored(kit, sent.summary["session"])
    key, upload_id = session.remote["key"], session.remote["upload_id"]
    assert (key, upload_id) in asyncio.run(backend(kit).uploads(key))

    kit.set_faults(abort_accepted=3)
    aborted = kit.cli("abort", session.id[:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"
    # Three fake "accepted", the real abort ("accepted"), then "already_gone".
    assert calls(kit)["abort"][upload_id] == 5
    assert kit.faults.injected["abort_accepted"] == 3
    assert asyncio.run(backend(kit).uploads(key)) == []
    assert asyncio.run(backend(kit).head(key)) is None


def test_abort_gives_up_after_the_cap_and_can_be_run_again(
    kit: ProviderKit, tmp_path: Path, fast_abort: None
) -> None:
    path = make_file(tmp_path / "stubborn.bin", 1 * MiB)
    sent = kit.upload(path, "--no-complete")
    assert sent.summary["state"] == "uploaded", sent.err
    session, _ = stored(kit, sent.summary["session"])
    upload_id = session.remote["upload_id"]

    kit.set_faults(abort_accepted=50)
    stuck = kit.cli("abort", session.id[:8], "--json")
    assert stuck.code == 1
    assert stuck.summary["state"] == "aborting"
    message = one_line(stuck.summary["error"])
    assert "after 10 calls Gumroad gives it still answers 'accepted'" in message
    assert f"run partdeck abort {session.id[:8]} again later" in message
    assert calls(kit)["abort"][upload_id] == 10
    assert (session.remote["key"], upload_id) in asyncio.run(backend(kit).uploads())

    kit.set_faults()
    again = kit.cli("abort", session.id[:8], "--json")
    assert again.code == 0, again.err
    assert again.summary["state"] == "aborted"
    assert asyncio.run(backend(kit).uploads(session.remote["key"])) == []


@pytest.mark.slow
def test_resume_after_sigkill(kit: ProviderKit, tmp_path: Path) -> None:
    config = kit.write_config(
        "slow.toml", parts_in_flight=1, parts_per_session=1, bandwidth_limit="40MiB"
    )
    path = make_file(tmp_path / "killed.bin", PART_SIZE + 40 * MiB, seed=5)
    argv = kit.argv("upload", path, "--account", kit.account, "--json", config=config)
    session_id, verified = kill_once_verified(argv, kit.state_dir)
    assert verified == {1}
    session, _ = stored(kit, session_id)
    upload_id = session.remote["upload_id"]
    before = puts(kit, upload_id)
    assert before.get(1) == 1

    resumed = kit.cli("resume", session_id[:8], "--json", config=config)
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    after = puts(kit, upload_id)
    assert after[1] == 1, "the verified part 1 was sent again"
    assert after[2] == before.get(2, 0) + 1
    data = asyncio.run(backend(kit).read(session.remote["key"]))
    assert sha(data) == sha(path.read_bytes())


def test_files_over_20_gib_and_empty_files_are_refused_at_plan(
    kit: ProviderKit, tmp_path: Path
) -> None:
    before = calls(kit).get("presign", {}).get("", 0)
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as f:
        f.truncate(21_474_836_481)  # sparse: one byte over Gumroad's 20 GiB
    refused = kit.upload(huge)
    assert refused.code == 2
    assert one_line(refused.err) == (
        "partdeck: file of 21,474,836,481 bytes is larger than the provider's limit of "
        "21,474,836,480 bytes; split it or use another account"
    )
    empty = tmp_path / "empty.bin"
    empty.touch()
    refused = kit.upload(empty)
    assert refused.code == 2
    assert "the file is empty and the provider refuses empty files" in one_line(refused.err)
    assert calls(kit).get("presign", {}).get("", 0) == before  # nothing reached Gumroad


def test_a_lost_complete_is_never_sent_again_without_force(
    kit: ProviderKit, tmp_path: Path
) -> None:
    kit.set_faults(complete_lost=1)
    path = make_file(tmp_path / "lost.bin", 1 * MiB + 5)
    result = kit.upload(path)
    assert result.code == 1
    summary = result.summary
    assert summary["state"] == "complete-unknown"
    short = summary["session"][:8]
    assert one_line(summary["error"]) == (
        "complete: no clear answer (Gumroad answered 500); Gumroad may already have this file: "
        f"run partdeck abort {short} to settle it (if Gumroad has the file, the session is "
        "recorded completed, else the upload is discarded), or check on Gumroad and only if "
        f"the file is missing run partdeck complete {short} --force"
    )
    session, _ = stored(kit, summary["session"])
    upload_id = session.remote["upload_id"]

    again = kit.cli("complete", short)
    assert again.code == 2
    line = one_line(again.err)
    assert "complete was already sent once" in line
    assert f"partdeck complete {short} --force" in line
    assert calls(kit)["complete"][upload_id] == 1
    assert upload_id not in calls(kit).get("abort", {})
    session, _ = stored(kit, session.id)
    assert session.state == "complete-unknown"
    # The server did complete it: the file is there, whole.
    assert asyncio.run(backend(kit).read(session.remote["key"])) == path.read_bytes()

    # The line's own way on: abort finds the upload gone though never aborted, so the
    # lost complete took effect; the session is completed and the file stays.
    settled = kit.cli("abort", short, "--json")
    assert settled.code == 0, settled.err
    assert settled.summary["state"] == "completed"
    assert calls(kit)["complete"][upload_id] == 1
    assert calls(kit)["abort"][upload_id] == 1
    assert asyncio.run(backend(kit).read(session.remote["key"])) == path.read_bytes()


def test_an_expired_link_ends_the_part_expired(kit: ProviderKit, tmp_path: Path) -> None:
    kit.set_faults(part_500=1.0, limit=3)
    path = make_file(tmp_path / "late.bin", 2 * MiB)
    first = kit.upload(path)
    assert first.summary["state"] == "failed", first.err
    session_id = first.summary["session"]

    kit.sandbox.time_offset = 1000  # past the 900 s every link was signed for
    late = kit.cli("retry", session_id[:8], "--json")
    assert late.code == 1
    _, parts = stored(kit, session_id)
    assert parts[0].state == "expired"
    assert parts[0].error == (
        "part 1: its link expired (Gumroad part links live 15 min from the start of the "
        "upload) and Gumroad cannot renew part links: abort and upload again"
    )
    error = one_line(late.summary["error"])
    assert "Gumroad cannot renew them" in error
    assert f"abort with partdeck abort {session_id[:8]} and upload the file again" in error


def test_links_that_cannot_last_are_refused_before_presign(
    kit: ProviderKit, tmp_path: Path
) -> None:
    before = calls(kit).get("presign", {}).get("", 0)
    config = kit.write_config("crawl.toml", link_speed="10KiB", parts_per_session=1)
    path = tmp_path / "sparse two parts.bin"
    with path.open("wb") as f:
        f.truncate(PART_SIZE + 1)
    refused = kit.upload(path, config=config)
    assert refused.code == 2
    line = one_line(refused.err)
    assert "cannot go to gumroad in time" in line
    assert "needs 142 KiB/s but the expected speed is 10 KiB/s (engine.link_speed)" in line
    assert calls(kit).get("presign", {}).get("", 0) == before


def test_bad_token_and_missing_scope_are_one_sentence_each(
    kit: ProviderKit, tmp_path: Path
) -> None:
    ctx = kit.sandbox.contexts["gumroad"]
    path = make_file(tmp_path / "denied.bin", 1 * MiB)
    real = ctx.token
    ctx.token = "another-token"
    try:
        denied = kit.upload(path)
    finally:
        ctx.token = real
    assert denied.code == 1
    line = one_line(denied.summary["error"])
    assert line == (
        "start upload: Gumroad rejected the token of account sandbox-gumroad (401); check "
        "token_env (or token_command / token_file) in the config and that the token has not "
        "been revoked"
    )
    assert real not in denied.out

    ctx.options["scopes"] = ["view_profile"]
    scoped = kit.cli("resume", denied.summary["session"][:8], "--json")
    assert scoped.code == 1
    assert one_line(scoped.summary["error"]) == (
        "start upload: the token of account sandbox-gumroad lacks the edit_products scope "
        "(403); authorize a token with edit_products and give it to the account "
        "(token_env, token_command or token_file)"
    )

    ctx.options.clear()
    fine = kit.cli("resume", denied.summary["session"][:8], "--json")
    assert fine.summary["state"] == "completed", fine.err


async def test_the_emulators_400_becomes_one_clear_sentence(kit: ProviderKit) -> None:
    ctx = kit.sandbox.contexts["gumroad"]
    async with httpx.AsyncClient() as client:
        provider = GumroadProvider(client, token=ctx.token, base_url=f"{ctx.public_url}/v2")
        too_big = Session(
            id="0" * 32, account="a", provider="gumroad", path="/x/big.bin",
            size=21_474_836_481, mtime_ns=0, part_size=PART_SIZE,
        )  # fmt: skip
        with pytest.raises(RejectedError) as info:
            await provider.open(too_big, [])
        assert str(info.value) == (
            "start upload: Gumroad refused the request (400): file_size exceeds the 20 GB maximum"
        )
        assert await provider.check() == "Gumroad account Sandbox Seller"


def test_emulator_validation_matches_the_reference(kit: ProviderKit) -> None:
    ctx = kit.sandbox.contexts["gumroad"]
    auth = {"Authorization": f"Bearer {ctx.token}"}

    def post(path: str, data: dict[str, Any], headers: dict[str, str] = auth) -> httpx.Response:
        return httpx.post(f"{ctx.public_url}/v2/files/{path}", data=data, headers=headers)

    def error(response: httpx.Response) -> str:
        assert response.status_code == 400
        body = response.json()
        assert body["status"] == 400
        return str(body["error"])

    assert error(post("presign", {"file_size": "5"})) == "filename is required"
    assert error(post("presign", {"filename": " \t ", "file_size": "5"})) == "filename is required"
    assert error(post("presign", {"filename": "a.bin"})) == "file_size is required"
    assert error(post("presign", {"filename": "a.bin", "file_size": "-3"})) == (
        "file_size is required"
    )
    assert error(post("presign", {"filename": "a.bin", "file_size": "21474836481"})) == (
        "file_size exceeds the 20 GB maximum"
    )
    assert error(post("complete", {"key": "k", "parts[0][part_number]": "1"})) == (
        "upload_id is required"
    )
    assert error(post("complete", {"upload_id": "u", "parts[0][etag]": "e"})) == ("key is required")
    assert error(post("complete", {"upload_id": "u", "key": "k"})) == "parts is required"
    other = {"upload_id": "u", "key": "attachments/someone-else/x/original/a.bin"}
    assert error(post("complete", {**other, "parts[0][etag]": "e"})) == "invalid key"
    assert error(post("abort", other)) == "invalid key"
    assert post("presign", {"filename": "a", "file_size": "1"}, {}).status_code == 401
    assert httpx.get(f"{ctx.public_url}/v2/user", headers=auth).json()["success"] is True

    opened = post("presign", {"filename": " a:b.bin ", "file_size": str(PART_SIZE * 2 + 1)})
    body = opened.json()
    assert body["success"] is True
    assert [p["part_number"] for p in body["parts"]] == [1, 2, 3]
    assert body["key"].endswith("/original/a-b.bin")
    assert all("X-Amz-Expires=900" in p["presigned_url"] for p in body["parts"])
    ids = {"upload_id": body["upload_id"], "key": body["key"]}
    bad = post("complete", {**ids, "parts[0][part_number]": "1", "parts[0][etag]": "00"})
    assert "part" in error(bad).lower()  # S3's own text, as a 400
    assert post("abort", ids).json() == {"success": True, "status": "accepted"}
    assert post("abort", ids).json() == {"success": True, "status": "already_gone"}


def test_emulator_takes_quoted_etags_and_the_token_as_a_parameter(kit: ProviderKit) -> None:
    ctx = kit.sandbox.contexts["gumroad"]
    api = f"{ctx.public_url}/v2"
    token = {"access_token": ctx.token}
    body = httpx.post(f"{api}/files/presign", data={**token, "filename": "q.txt", "file_size": "5"})
    opened = body.json()
    (link,) = opened["parts"]
    put = httpx.put(link["presigned_url"], content=b"hello")
    assert put.status_code == 200
    etag = put.headers["ETag"]
    assert etag.startswith('"')
    done = httpx.post(
        f"{api}/files/complete",
        data={
            **token,
            "upload_id": opened["upload_id"],
            "key": opened["key"],
            "parts[0][part_number]": "1",
            "parts[0][etag]": etag,
        },
    )
    assert done.json() == {"success": True, "file_url": opened["file_url"]}
    assert asyncio.run(backend(kit).read(opened["key"])) == b"hello"
    user = httpx.get(f"{api}/user", params=token).json()
    assert user["success"] is True and user["user"]["name"] == "Sandbox Seller"


def test_resume_after_a_crash_in_complete_never_completes_again(
    kit: ProviderKit, tmp_path: Path
) -> None:
    """Killed mid-complete: Gumroad cannot be asked and may not take complete twice, so
    resume records complete-unknown and names the check and the forced complete."""
    path = make_file(tmp_path / "midway.bin", 2 * MiB, seed=11)
    first = kit.upload(path, "--no-complete")
    assert first.summary["state"] == "uploaded", first.err
    session_id = first.summary["session"]
    journal = Journal.open(kit.state_dir)
    try:
        session = journal.session(session_id)
        session.state, session.complete_sent = SessionState.COMPLETING, 1
        journal.commit(session=session)
    finally:
        journal.close()

    resumed = kit.cli("resume", session_id[:8])
    assert resumed.code != 0
    line = one_line(resumed.err)
    assert "complete was already sent once and its outcome is unknown" in line
    assert f"partdeck complete {session_id[:8]} --force" in line
    session, _ = stored(kit, session_id)
    assert session.state == SessionState.COMPLETE_UNKNOWN
    assert session.error and "--force" in session.error
    assert "complete" not in calls(kit) or session.remote["upload_id"] not in calls(kit)["complete"]

    forced = kit.cli("complete", session_id[:8], "--force")
    assert forced.code == 0, forced.err
    assert calls(kit)["complete"][session.remote["upload_id"]] == 1
    assert asyncio.run(backend(kit).read(session.remote["key"])) == path.read_bytes()
