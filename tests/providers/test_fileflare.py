"""Fileflare over real sockets: the emulator, its S3 gateway on moto, and the real CLI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tests.support.crash import kill_once_verified
from tui.core.errors import RejectedError
from tui.core.journal import Journal
from tui.core.model import Part, Session, SessionState
from tui.core.units import MiB
from tui.providers.fileflare import FileflareProvider, error_for
from tui.sandbox.context import EmulatorContext

CHUNK = 5 * MiB
QUOTA_SENTENCE = "Fileflare storage quota is full: delete files or upgrade the plan"


def fileflare(kit_factory: Callable[[str], ProviderKit], **options: Any) -> ProviderKit:
    """The Fileflare kit with 5 MiB server chunks and no rate limit unless ``options`` say."""
    kit = kit_factory("fileflare")
    context(kit).options.update({"chunk_size": CHUNK, "rate_limit": 0, **options})
    return kit


def context(kit: ProviderKit) -> EmulatorContext:
    return kit.sandbox.contexts["fileflare"]


def sandbox_get(kit: ProviderKit, path: str) -> Any:
    """A sandbox-only view of the emulator (``/_sandbox/assets``, ``/_sandbox/stats``)."""
    return httpx.get(context(kit).public_url + path, timeout=10).json()


def journal_view(kit: ProviderKit, session_id: str) -> tuple[Session, list[Part]]:
    journal = Journal.open(kit.state_dir)
    try:
        return journal.session(session_id), journal.parts(session_id)
    finally:
        journal.close()


def asset_of(kit: ProviderKit, session: Session) -> dict[str, Any]:
    assets = {a["id"]: a for a in sandbox_get(kit, "/_sandbox/assets")}
    found: dict[str, Any] = assets[session.remote["asset_id"]]
    return found


def stored(kit: ProviderKit, key: str) -> bytes:
    return asyncio.run(kit.sandbox.backends["fileflare"].read(key))


def open_uploads(kit: ProviderKit) -> set[str]:
    return {u for _, u in asyncio.run(kit.sandbox.backends["fileflare"].uploads())}


def test_upload_completes_with_the_bytes_in_the_bucket(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    path = make_file(tmp_path / "album.zip", 12 * MiB + 7)
    result = kit.upload(path)
    assert result.code == 0, result.err
    summary = result.summary
    assert summary["state"] == "completed"
    session, _ = journal_view(kit, summary["session"])
    asset = asset_of(kit, session)
    assert asset["state"] == "uploaded"
    assert asset["name"] == "album.zip" and asset["mime"] == "application/zip"
    assert stored(kit, asset["key"]) == path.read_bytes()
    assert session.location == asset["file_url"]
    assert kit.faults.stats()["part_puts"] == 3
    assert asset["upload_id"] not in open_uploads(kit)


def test_the_server_chooses_the_part_ranges(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory, chunk_size=6 * MiB)
    path = make_file(tmp_path / "ranges.bin", 13 * MiB + 5, seed=1)
    # The asked-for part size is ignored: the server's chunk_size decides.
    result = kit.upload(path, "--part-size", "8MiB")
    assert result.code == 0, result.err
    session, parts = journal_view(kit, result.summary["session"])
    assert [(p.start, p.end) for p in parts] == [
        (0, 6 * MiB),
        (6 * MiB, 12 * MiB),
        (12 * MiB, 13 * MiB + 5),
    ]
    assert session.part_size == 6 * MiB
    assert session.remote["chunk_size"] == 6 * MiB
    puts = kit.faults.puts_for(session.remote["upload_id"])
    assert puts == {1: 1, 2: 1, 3: 1}
    for link in session.remote["parts"]:
        query = parse_qs(urlsplit(link["url"]).query)
        assert query["X-Amz-Expires"] == ["43200"]
        assert query["X-Amz-SignedHeaders"] == ["host"]
        assert link["expires_at"] > time.time() + 43_000
    assert stored(kit, asset_of(kit, session)["key"]) == path.read_bytes()


def test_a_failed_part_is_retried_alone(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "retry.bin", 12 * MiB, seed=2)
    first = kit.upload(path)
    assert first.code == 1
    assert first.summary["state"] == "failed"
    session_id = first.summary["session"]
    _, parts = journal_view(kit, session_id)
    assert {p.number: str(p.state) for p in parts} == {1: "verified", 2: "failed", 3: "verified"}
    before = dict(kit.faults.part_puts)
    retried = kit.cli("retry", session_id[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    sent_again = {k[1]: n - before.get(k, 0) for k, n in kit.faults.part_puts.items()}
    assert {n: c for n, c in sent_again.items() if c} == {2: 1}
    session, _ = journal_view(kit, session_id)
    assert stored(kit, asset_of(kit, session)["key"]) == path.read_bytes()


def test_abort_cancels_the_upload_in_the_back_end(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    path = make_file(tmp_path / "dropped.bin", 11 * MiB, seed=3)
    sent = kit.upload(path, "--no-complete")
    assert sent.code == 0, sent.err
    assert sent.summary["state"] == "uploaded"
    session_id = sent.summary["session"]
    session, _ = journal_view(kit, session_id)
    upload_id = session.remote["upload_id"]
    assert upload_id in open_uploads(kit)

    aborted = kit.cli("abort", session_id[:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"
    assert upload_id not in open_uploads(kit)
    assert asset_of(kit, session)["state"] == "cancelled"
    assert path.read_bytes()  # the local file is untouched

    # A second cancel finds the asset gone (404): that counts as done, not as an error.
    async def cancel_again() -> str | None:
        async with httpx.AsyncClient() as client:
            provider = FileflareProvider(
                client, base_url=f"{context(kit).public_url}/api/v1", token=context(kit).token
            )
            return await provider.abort(session)

    assert asyncio.run(cancel_again()) is None


@pytest.mark.slow
def test_resume_after_sigkill_sends_no_verified_part_again(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    slow = kit.write_config(
        "slow.toml", bandwidth_limit="6MiB", parts_per_session=1, parts_in_flight=1
    )
    path = make_file(tmp_path / "killed.bin", 25 * MiB + 99, seed=4)
    argv = kit.argv("upload", path, "--account", kit.account, "--json", config=slow)
    session_id, verified = kill_once_verified(argv, kit.state_dir)
    assert 1 <= len(verified) < 6
    session, _ = journal_view(kit, session_id)
    assert session.state in ("uploading", "stalled")
    puts_before = kit.faults.puts_for(session.remote["upload_id"])

    resumed = kit.cli("resume", session_id[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    puts_after = kit.faults.puts_for(session.remote["upload_id"])
    resent = {n for n, c in puts_after.items() if c > puts_before.get(n, 0)}
    assert resent, "the resume sent nothing"
    assert not resent & verified, f"verified parts {resent & verified} were sent again"
    assert resent | verified == {1, 2, 3, 4, 5, 6}
    assert stored(kit, asset_of(kit, session)["key"]) == path.read_bytes()


def test_a_full_storage_quota_stops_before_any_byte_and_can_go_on_later(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory, quota_bytes=10 * MiB)
    path = make_file(tmp_path / "big.bin", 12 * MiB, seed=5)
    uploads_before = open_uploads(kit)
    first = kit.upload(path)
    assert first.code == 1
    summary = first.summary
    assert summary["state"] == "failed"
    error = summary["error"]
    assert QUOTA_SENTENCE in error
    assert "\n" not in error
    assert kit.faults.stats()["part_puts"] == 0
    assert open_uploads(kit) == uploads_before
    session, _ = journal_view(kit, summary["session"])
    assert not session.opened

    # Nothing lost: once there is room, the same session goes on to the end.
    context(kit).options.pop("quota_bytes")
    resumed = kit.cli("resume", summary["session"][:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    session, _ = journal_view(kit, summary["session"])
    assert stored(kit, asset_of(kit, session)["key"]) == path.read_bytes()


def test_a_rate_limited_open_waits_then_succeeds(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory, rate_limit=2, rate_window=2.0)
    ctx = context(kit)
    headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/json"}
    url = f"{ctx.public_url}/api/v1/assets"
    path = make_file(tmp_path / "patient.bin", 6 * MiB, seed=6)
    refused_before = sandbox_get(kit, "/_sandbox/stats")["rate_limited"]
    # Spend the window's budget, then see the 429 the upload will meet.
    spent = [httpx.get(url, params={"per_page": 1}, headers=headers) for _ in range(2)]
    assert [r.status_code for r in spent] == [200, 200]
    assert spent[1].headers["X-RateLimit-Limit"] == "2"
    assert spent[1].headers["X-RateLimit-Remaining"] == "0"
    refused = httpx.get(url, headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    message = str(error_for(refused, "open"))
    assert message.startswith("open: rate limited by Fileflare (2 requests a minute); waiting")

    started = time.monotonic()
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    # The open met the limit too, and waited it out.
    assert sandbox_get(kit, "/_sandbox/stats")["rate_limited"] - refused_before >= 2
    assert time.monotonic() - started >= 0.5  # it waited for the window
    session, _ = journal_view(kit, result.summary["session"])
    assert stored(kit, asset_of(kit, session)["key"]) == path.read_bytes()


def test_an_expired_part_link_ends_the_part_as_expired(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "late.bin", 12 * MiB, seed=7)
    first = kit.upload(path)
    assert first.summary["state"] == "failed"
    session_id = first.summary["session"]

    # Past the 12 hours of X-Amz-Expires=43200: the gateway refuses the link.
    kit.sandbox.time_offset = 43_200 + 120
    retried = kit.cli("retry", session_id[:8], "--json")
    assert retried.code == 1
    _, parts = journal_view(kit, session_id)
    part = {p.number: p for p in parts}[2]
    assert str(part.state) == "expired"
    assert part.error == (
        f"part 2: its Fileflare upload link expired (links last 12 h) and cannot be renewed: "
        f"abort with partdeck abort {session_id[:8]} and upload the file again"
    )
    summary = retried.summary
    assert summary["state"] == "failed"
    assert "Fileflare cannot renew them" in summary["error"]
    assert f"partdeck abort {session_id[:8]}" in summary["error"]

    # Retrying does not pretend: the link cannot come back.
    again = kit.cli("retry", session_id[:8], "2")
    assert again.code == 2
    assert "cannot renew expired part links" in again.err
    aborted = kit.cli("abort", session_id[:8], "--json")
    assert aborted.summary["state"] == "aborted"


def test_a_lost_complete_answer_is_settled_by_the_asset_on_the_server(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    kit.set_faults(complete_lost=1)
    path = make_file(tmp_path / "lost.bin", 7 * MiB, seed=8)
    before = sandbox_get(kit, "/_sandbox/stats")["calls"]
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    session, _ = journal_view(kit, result.summary["session"])
    asset = asset_of(kit, session)
    assert asset["state"] == "uploaded"
    assert stored(kit, asset["key"]) == path.read_bytes()
    after = sandbox_get(kit, "/_sandbox/stats")["calls"]
    # The lost answer is looked up (GET /assets/{id}), not repeated into MinIO's 500.
    assert after["uploaded"] - before.get("uploaded", 0) == 1
    assert after["asset"] - before.get("asset", 0) == 1


def test_one_asset_is_shown_as_documented_once_uploaded_only(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    ctx = context(kit)
    headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/json"}
    sent = kit.upload(make_file(tmp_path / "shown.bin", 6 * MiB, seed=13), "--no-complete")
    session, _ = journal_view(kit, sent.summary["session"])
    url = f"{ctx.public_url}/api/v1/assets/{session.remote['asset_id']}"
    assert httpx.get(url, headers=headers).status_code == 404  # not complete yet
    assert kit.cli("complete", session.id[:8], "--json").summary["state"] == "completed"
    shown = httpx.get(url, headers=headers)
    assert shown.status_code == 200
    assert shown.json()["data"] == {
        "id": session.remote["asset_id"],
        "filename": "shown.bin",
        "size": 6 * MiB,
        "is_file": True,
        "is_link": False,
        "url": None,
    }
    assert httpx.get(url).status_code == 401


def _unknown_after_a_real_complete(
    kit: ProviderKit, tmp_path: Path, name: str
) -> tuple[Session, Path]:
    """A completed upload whose journal says complete-unknown (its answer was lost twice)."""
    path = make_file(tmp_path / name, 6 * MiB, seed=11)
    result = kit.upload(path)
    assert result.summary["state"] == "completed", result.err
    journal = Journal.open(kit.state_dir)
    try:
        session = journal.session(result.summary["session"])
        session.state, session.complete_sent = SessionState.COMPLETE_UNKNOWN, 2
        session.error = "complete: Fileflare gave no clear answer"
        journal.commit(session=session)
    finally:
        journal.close()
    return session, path


@pytest.mark.parametrize("command", ["complete", "abort"])
def test_either_advice_on_an_unknown_complete_ends_completed_with_the_file(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path, command: str
) -> None:
    kit = fileflare(kit_factory)
    session, path = _unknown_after_a_real_complete(kit, tmp_path, f"{command}.bin")
    before = sandbox_get(kit, "/_sandbox/stats")["calls"]
    done = kit.cli(command, session.id[:8], "--json")
    assert done.code == 0, done.err
    assert done.summary["state"] == "completed"
    after = sandbox_get(kit, "/_sandbox/stats")["calls"]
    # Neither a second complete nor a cancel the server would refuse: it looked first.
    assert after.get("uploaded", 0) == before.get("uploaded", 0)
    assert after.get("cancel", 0) == before.get("cancel", 0)
    asset = asset_of(kit, session)
    assert asset["state"] == "uploaded"
    assert stored(kit, asset["key"]) == path.read_bytes()


def test_an_abort_answered_500_after_it_took_effect_is_confirmed_by_the_next_one(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    kit.set_faults(abort_lost=1)
    path = make_file(tmp_path / "cancel.bin", 6 * MiB, seed=12)
    planned = kit.upload(path, "--no-complete")
    assert planned.summary["state"] == "uploaded", planned.err
    aborted = kit.cli("abort", planned.summary["session"][:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"
    session, _ = journal_view(kit, planned.summary["session"])
    assert asset_of(kit, session)["state"] == "cancelled"
    assert session.remote["upload_id"] not in open_uploads(kit)


def test_the_api_refuses_bad_keys_and_bad_fields_in_its_own_words(
    kit_factory: Callable[[str], ProviderKit],
) -> None:
    kit = fileflare(kit_factory)
    ctx = context(kit)
    base = f"{ctx.public_url}/api/v1"

    async def check(token: str) -> str:
        async with httpx.AsyncClient() as client:
            return await FileflareProvider(client, base_url=base, token=token).check()

    assert asyncio.run(check(ctx.token)).startswith("Fileflare API key accepted (")
    with pytest.raises(RejectedError) as rejected:
        asyncio.run(check("not-the-key"))
    assert str(rejected.value) == (
        "check: Fileflare rejected the API key (Fileflare said: Unauthenticated); check the "
        "account's token or make a new API key in Fileflare"
    )
    assert rejected.value.status == 401

    headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/json"}
    answer = httpx.post(f"{base}/assets/signed", json={"size": 0, "mime": 3}, headers=headers)
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"name", "size", "mime"}
    assert str(error_for(answer, "open")) == (
        "open: Fileflare refused name (The name field is required), size (The size field "
        "must be at least 1) and mime (The mime field must be a string)"
    )
    missing = httpx.post(f"{base}/assets/nope/uploaded", json={}, headers=headers)
    assert missing.status_code == 404


def test_uploaded_takes_put_and_quoted_etags_and_checks_its_fields(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = fileflare(kit_factory)
    path = make_file(tmp_path / "by hand.bin", 6 * MiB, seed=10)
    sent = kit.upload(path, "--no-complete")
    assert sent.summary["state"] == "uploaded", sent.err
    session, parts = journal_view(kit, sent.summary["session"])
    ctx = context(kit)
    url = f"{ctx.public_url}/api/v1/assets/{session.remote['asset_id']}/uploaded"
    headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/json"}

    wrong = httpx.put(
        url, json={"parts": [{"PartNumber": "x"}], "upload_id": "nope"}, headers=headers
    )
    assert wrong.status_code == 422
    assert set(wrong.json()["errors"]) == {"parts.0.ETag", "parts.0.PartNumber", "upload_id"}
    assert wrong.json()["message"] == "The parts.0.ETag field is required. (and 2 more errors)"

    # The seed's JavaScript completes with PUT; Polar-style clients keep the quotes.
    body = {
        "parts": [{"ETag": f'"{p.etag}"', "PartNumber": p.number} for p in parts],
        "upload_id": session.remote["upload_id"],
    }
    done = httpx.put(url, json=body, headers=headers)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "uploaded"
    assert stored(kit, asset_of(kit, session)["key"]) == path.read_bytes()
