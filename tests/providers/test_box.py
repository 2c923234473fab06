"""The Box account against the Box emulator, over real sockets: sessions, parts, commit."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tests.support.crash import kill_once_verified
from tui.config import load_config
from tui.core.errors import RejectedError
from tui.core.journal import Journal
from tui.core.model import Session
from tui.core.units import MiB
from tui.providers import box
from tui.providers.box import commit as box_commit
from tui.providers.registry import make_provider

Kits = Callable[[str], ProviderKit]

SIZE = 20 * MiB + 12_345
"""Just over Box's minimum: three parts of the emulator's 8 MiB (the last one short)."""


def _file(tmp_path: Path, size: int = SIZE, seed: int = 0) -> Path:
    # The emulator's folder outlives each test: every file gets a name of its own.
    return make_file(tmp_path / f"box {uuid.uuid4().hex[:10]}.bin", size, seed=seed)


def _url(kit: ProviderKit, path: str) -> str:
    return kit.sandbox.contexts["box"].public_url + path


def _content(kit: ProviderKit, location: str) -> bytes:
    """The bytes Box holds for ``box file <id> (<name>)``."""
    assert location.startswith("box file "), location
    file_id = location.split()[2]
    response = httpx.get(_url(kit, f"/_sandbox/files/{file_id}/content"))
    assert response.status_code == 200
    return response.content


def _session(kit: ProviderKit, session_id: str) -> Session:
    journal = Journal.open(kit.state_dir)
    try:
        return journal.session(session_id)
    finally:
        journal.close()


def _puts(kit: ProviderKit, session_id: str) -> dict[int, int]:
    """Part PUTs the emulator received for a session, by part number."""
    return kit.faults.puts_for(_session(kit, session_id).remote["upload_id"])


def _held(kit: ProviderKit, session_id: str) -> bool:
    upload_id = _session(kit, session_id).remote["upload_id"]
    return httpx.get(_url(kit, f"/_sandbox/sessions/{upload_id}")).status_code == 200


def test_upload_and_commit(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    path = _file(tmp_path)
    result = kit.upload(path)
    assert result.code == 0, result.err
    summary = result.summary
    assert summary["state"] == "completed"
    assert summary["location"].endswith(f"({path.name})")
    assert _content(kit, summary["location"]) == path.read_bytes()
    session = _session(kit, summary["session"])
    assert session.part_size == 8 * MiB  # the server's choice, which the estimate matched
    assert session.digests["sha1"] == hashlib.sha1(path.read_bytes()).hexdigest()
    assert _puts(kit, session.id) == {1: 1, 2: 1, 3: 1}


def test_a_failed_part_is_retried_alone(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = _file(tmp_path, seed=2)
    first = kit.upload(path)
    assert first.code == 1
    assert first.summary["state"] == "failed"
    session = first.summary["session"]
    assert _puts(kit, session) == {1: 1, 2: 3, 3: 1}
    retried = kit.cli("retry", session[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    assert _puts(kit, session) == {1: 1, 2: 4, 3: 1}  # only part 2 went out again
    assert _content(kit, retried.summary["location"]) == path.read_bytes()


@pytest.mark.parametrize("fault", ["part_reset", "part_500"])
def test_a_part_that_landed_is_not_sent_again(
    kit_factory: Kits, tmp_path: Path, fault: str
) -> None:
    kit = kit_factory("box")
    kit.sandbox.contexts["box"].options["part_faults_after_store"] = True
    kit.set_faults(**{fault: 1.0}, parts=(2,), limit=1)
    path = _file(tmp_path, seed=3)
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    session = result.summary["session"]
    # The answer was lost, Box kept the part: list_parts says so and no second PUT goes out.
    assert _puts(kit, session) == {1: 1, 2: 1, 3: 1}
    found = [e for e in result.json_lines() if e.get("part") == 2 and e.get("found_on_server")]
    assert found and found[0]["state"] == "verified"
    assert _content(kit, result.summary["location"]) == path.read_bytes()


def test_a_wrong_sha1_in_the_answer_fails_the_part_and_retry_finds_it(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("box")
    kit.set_faults(corrupt_etag=1.0, parts=(1,))
    path = _file(tmp_path, seed=4)
    first = kit.upload(path)
    assert first.code == 1
    session = first.summary["session"]
    failed = [e for e in first.json_lines() if e.get("part") == 1 and e.get("state") == "failed"]
    assert "Box reports SHA-1" in failed[-1]["message"]
    assert f"partdeck retry {session[:8]}" in failed[-1]["message"]
    kit.set_faults()
    retried = kit.cli("retry", session[:8], "--json")
    assert retried.code == 0, retried.err
    # Box refuses the second PUT (409: the part is there) and list_parts proves it is ours.
    assert _puts(kit, session)[1] == 1
    assert _content(kit, retried.summary["location"]) == path.read_bytes()


def test_abort_discards_the_session(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    path = _file(tmp_path, seed=5)
    uploaded = kit.upload(path, "--no-complete")
    assert uploaded.code == 0, uploaded.err
    session = uploaded.summary["session"]
    assert _held(kit, session)
    aborted = kit.cli("abort", session[:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"
    assert not _held(kit, session)
    names = [f["name"] for f in httpx.get(_url(kit, "/_sandbox/files")).json()]
    assert path.name not in names


def test_resume_after_sigkill(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    slow = kit.write_config(
        "slow.toml", bandwidth_limit="6MiB", parts_per_session=1, parts_in_flight=1
    )
    path = _file(tmp_path, 24 * MiB + 123, seed=6)  # four parts, the last 123 bytes
    argv = kit.argv("upload", path, "--account", kit.account, "--json", config=slow)
    session, verified = kill_once_verified(argv, kit.state_dir)
    assert 1 <= len(verified) < 4
    before = _puts(kit, session)

    resumed = kit.cli("resume", session[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    after = _puts(kit, session)
    resent = {n for n, count in after.items() if count > before.get(n, 0)}
    assert resent, "the resume sent nothing"
    assert not resent & verified, f"verified parts {resent & verified} were sent again"
    assert _content(kit, resumed.summary["location"]) == path.read_bytes()


def test_a_file_under_20_mib_is_refused_at_plan(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    before = httpx.get(_url(kit, "/_sandbox/stats")).json()["sessions"]
    path = _file(tmp_path, 20 * MiB - 1)
    result = kit.upload(path)
    assert result.code == 2
    line = result.err.strip()
    assert "\n" not in line
    assert "Box's chunked upload needs files of at least 20 MiB" in line
    assert "smaller files go through Box's plain upload" in line
    assert httpx.get(_url(kit, "/_sandbox/stats")).json()["sessions"] == before


def test_digest_mismatch_fails_the_commit_and_keeps_the_session(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("box")
    path = _file(tmp_path, seed=7)
    uploaded = kit.upload(path, "--no-complete")
    assert uploaded.code == 0, uploaded.err
    session_id = uploaded.summary["session"]
    _set_digest(kit, session_id, hashlib.sha1(b"some other file").hexdigest())

    failed = kit.cli("complete", session_id[:8], "--json")
    assert failed.code == 1
    assert failed.summary["state"] == "failed"
    error = failed.summary["error"]
    assert "the whole-file checksum differs from what Box received; did the file change? " in (
        error
    )
    assert "run partdeck verify" in error and "digest_mismatch" in error
    assert _held(kit, session_id)  # nothing lost: Box keeps the parts

    # The disputed digest was dropped: the next complete hashes the file again.
    journal = Journal.open(kit.state_dir)
    try:
        assert journal.session(session_id).digests == {}
    finally:
        journal.close()
    done = kit.cli("complete", session_id[:8], "--json")
    assert done.code == 0, done.err
    assert _content(kit, done.summary["location"]) == path.read_bytes()


def _set_digest(kit: ProviderKit, session_id: str, sha1: str | None) -> None:
    journal = Journal.open(kit.state_dir)
    try:
        session = journal.session(session_id)
        session.digests = {"sha1": sha1} if sha1 else {}
        journal.commit(session=session)
    finally:
        journal.close()


def test_commit_waits_out_two_202s(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    kit.set_faults(commit_202=2)
    path = _file(tmp_path, seed=8)
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert kit.faults.injected["commit_202"] == 2
    assert _content(kit, result.summary["location"]) == path.read_bytes()


def test_a_lost_commit_answer_is_found_in_the_folder(
    kit_factory: Kits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(box_commit, "COMMIT_BACKOFF", 0.05)
    kit = kit_factory("box")
    kit.set_faults(complete_lost=1)
    path = _file(tmp_path, seed=9)
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert kit.faults.injected["complete_lost"] == 1
    assert _content(kit, result.summary["location"]) == path.read_bytes()


def test_an_expired_session_is_started_over_by_resume(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    kit.set_faults(part_500=1.0, parts=(3,), limit=3)
    path = _file(tmp_path, seed=10)
    first = kit.upload(path)
    assert first.code == 1
    session = first.summary["session"]
    expired_id = _session(kit, session).remote["upload_id"]
    kit.set_faults()
    kit.sandbox.time_offset = 8 * 86_400
    # Box dropped the session and its parts: resume says so and opens a new one.
    resumed = kit.cli("resume", session[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    assert "the upload is gone on the server" in resumed.out
    assert _session(kit, session).remote["upload_id"] != expired_id
    assert _puts(kit, session) == {1: 1, 2: 1, 3: 1}  # every part again, once
    assert _content(kit, resumed.summary["location"]) == path.read_bytes()


def test_abort_of_an_expired_session_is_simply_done(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    path = _file(tmp_path, seed=13)
    first = kit.upload(path, "--no-complete")
    assert first.summary["state"] == "uploaded", first.err
    session = first.summary["session"]
    kit.sandbox.time_offset = 8 * 86_400
    aborted = kit.cli("abort", session[:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"


def test_a_name_taken_in_the_folder_says_so(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    path = _file(tmp_path, seed=11)
    assert kit.upload(path).code == 0
    again = kit.upload(path)
    assert again.code == 1
    assert (
        f"a file named {path.name} already exists in the folder" in again.summary["error"]
        and "rename it or upload a new version" in again.summary["error"]
    )


def test_storage_full_says_so(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    kit.sandbox.contexts["box"].options["storage_quota"] = 1
    result = kit.upload(_file(tmp_path, seed=12))
    assert result.code == 1
    assert "Box storage is full" in result.summary["error"]
    assert "storage_limit_exceeded" in result.summary["error"]


def _provider(kit: ProviderKit, **changes: Any) -> Callable[[httpx.AsyncClient], box.BoxProvider]:
    account = load_config(kit.config).account(kit.account)

    def make(client: httpx.AsyncClient) -> box.BoxProvider:
        provider = make_provider(account, client)
        assert isinstance(provider, box.BoxProvider)
        settings = {
            "token": account.token(),
            "base_url": provider.base_url,
            "upload_url": provider.upload_url,
            "folder_id": provider.folder_id,
        }
        return box.BoxProvider(client, **{**settings, **changes})

    return make


def test_check_names_the_user_and_the_folder(kit_factory: Kits) -> None:
    kit = kit_factory("box")

    async def run() -> str:
        async with httpx.AsyncClient() as client:
            return await _provider(kit)(client).check()

    assert "uploads go to folder 0 (All Files)" in asyncio.run(run())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"token": "not-the-token"}, "Box refused the access token"),
        ({"folder_id": "999"}, "Box folder 999 does not exist"),
    ],
)
def test_check_says_what_is_wrong(
    kit_factory: Kits, changes: dict[str, Any], expected: str
) -> None:
    kit = kit_factory("box")

    async def run() -> str:
        async with httpx.AsyncClient() as client:
            return await _provider(kit, **changes)(client).check()

    with pytest.raises(RejectedError, match=expected) as caught:
        asyncio.run(run())
    assert "not-the-token" not in str(caught.value)
