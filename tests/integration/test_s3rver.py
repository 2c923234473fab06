"""An S3-compatible store with a partial API: s3rver 3.7.1 over real sockets.

s3rver completes multipart uploads byte for byte but answers ListParts and
AbortMultipartUpload with 405 MethodNotAllowed and ListMultipartUploads with 501
NotImplemented. partdeck must resume from its journal alone, say once what the store
lacks, and never wait for a 405 or a 501 to pass.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.conftest import CLI, make_file
from tests.support import s3rver as s3rver_support
from tests.support.crash import kill_once_verified
from tests.support.s3rver import ACCESS_KEY, SECRET_KEY, S3rver
from tui.config import load_config
from tui.core.journal import Journal
from tui.core.model import Event
from tui.core.units import MiB
from tui.runtime import open_engine

LACKS_LIST_PARTS = "does not support ListParts (it answered 405 MethodNotAllowed)"


@pytest.fixture
def store(s3rver: S3rver) -> Any:
    """A boto3 client on s3rver."""
    return boto3.client(
        "s3",
        endpoint_url=s3rver.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def store_config(
    tmp_path: Path, s3rver: S3rver, store: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str]:
    """(a config whose account ``s3rver`` uses a fresh bucket on s3rver, that bucket)."""
    bucket = f"t-{uuid.uuid4().hex[:16]}"
    store.create_bucket(Bucket=bucket)
    monkeypatch.setenv("PARTDECK_S3RVER_AK", ACCESS_KEY)
    monkeypatch.setenv("PARTDECK_S3RVER_SK", SECRET_KEY)
    path = tmp_path / "s3rver.toml"
    path.write_text(
        '[engine]\nparts_in_flight = 2\nparts_per_session = 2\nbandwidth_limit = "8MiB"\n\n'
        '[accounts.s3rver]\nprovider = "s3"\n'
        f'endpoint_url = "{s3rver.url}"\nregion = "us-east-1"\nbucket = "{bucket}"\n'
        'prefix = "up/"\naccess_key_env = "PARTDECK_S3RVER_AK"\n'
        'secret_key_env = "PARTDECK_S3RVER_SK"\nmultipart_threshold = 0\n'
    )
    return path, bucket


def test_an_upload_lands_byte_identical(
    cli: CLI, tmp_path: Path, store: Any, store_config: tuple[Path, str]
) -> None:
    config, bucket = store_config
    path = make_file(tmp_path / "whole.bin", 12 * MiB + 17, seed=11)
    up = cli("upload", path, "--account", "s3rver", "--part-size", "5MiB", "--json", config=config)
    assert up.code == 0, up.err
    assert up.summary["state"] == "completed"
    landed = store.get_object(Bucket=bucket, Key="up/whole.bin")["Body"].read()
    assert landed == path.read_bytes()


def test_a_store_that_ignores_checksums_is_checked_with_md5_from_then_on(
    cli: CLI, tmp_path: Path, state_dir: Path, store: Any, store_config: tuple[Path, str]
) -> None:
    # s3rver takes x-amz-checksum-* without checking or echoing it: no part may pass as
    # verified on the strength of a checksum nobody checked.
    config, bucket = store_config
    first = make_file(tmp_path / "first.bin", 11 * MiB, seed=21)
    up = cli("upload", first, "--account", "s3rver", "--part-size", "5MiB", "--json", config=config)
    assert up.code == 0, up.err
    assert store.get_object(Bucket=bucket, Key="up/first.bin")["Body"].read() == first.read_bytes()
    journal = Journal.open(state_dir)
    try:
        assert "checksums_ignored" in journal.account_facts("s3rver")
        session = journal.session(up.summary["session"])
        parts = journal.parts(session.id)
    finally:
        journal.close()
    assert session.remote["checksum"] == "md5"
    assert all(p.state == "verified" and p.md5 and p.etag == p.md5 for p in parts)
    assert any(p.attempts == 2 for p in parts)  # sent again with Content-MD5, at most once
    assert all(p.attempts <= 2 for p in parts)

    second = make_file(tmp_path / "second.bin", 11 * MiB, seed=22)
    again = cli(
        "upload", second, "--account", "s3rver", "--part-size", "5MiB", "--json", config=config
    )
    assert again.code == 0, again.err
    journal = Journal.open(state_dir)
    try:
        later = journal.session(again.summary["session"])
        parts = journal.parts(later.id)
    finally:
        journal.close()
    assert later.remote["checksum"] == "md5"  # known from the journal: MD5 from the start
    assert all(p.state == "verified" and p.attempts == 1 for p in parts)


def test_resume_after_a_kill_goes_on_from_the_journal(
    cli: CLI, tmp_path: Path, state_dir: Path, store: Any, store_config: tuple[Path, str]
) -> None:
    config, bucket = store_config
    path = make_file(tmp_path / "killed.bin", 26 * MiB + 5, seed=12)
    argv = [sys.executable, "-m", "tui", "upload", str(path), "--account", "s3rver",
            "--part-size", "5MiB", "--config", str(config),
            "--state-dir", str(state_dir)]  # fmt: skip
    session_id, verified = kill_once_verified(argv, state_dir, want=2)
    assert verified and len(verified) < 6
    journal = Journal.open(state_dir)
    try:
        tries = {p.number: p.attempts for p in journal.parts(session_id) if p.number in verified}
    finally:
        journal.close()

    resumed = cli("resume", session_id[:8], config=config)
    assert resumed.code == 0, resumed.err
    assert resumed.out.count(LACKS_LIST_PARTS) == 1  # said once
    assert "resuming from the journal" in resumed.out
    assert "try again" not in resumed.out + resumed.err
    landed = store.get_object(Bucket=bucket, Key="up/killed.bin")["Body"].read()
    assert landed == path.read_bytes()
    journal = Journal.open(state_dir)
    try:
        parts = {p.number: p for p in journal.parts(session_id)}
    finally:
        journal.close()
    # The journal said these were on the store; nothing sent them again.
    assert {n: parts[n].attempts for n in verified} == tries

    inspected = cli("inspect", session_id[:8], "--json", config=config)
    assert inspected.code == 0, inspected.err


def test_remote_says_in_one_line_that_the_store_cannot_list_uploads(
    cli: CLI, store_config: tuple[Path, str]
) -> None:
    config, _ = store_config
    listed = cli("remote", "--account", "s3rver", config=config)
    # 2, as for any account whose provider cannot list uploads: asking again cannot help.
    assert listed.code == 2
    assert listed.out == ""
    assert listed.err.count("\n") == 1
    assert "does not support ListMultipartUploads (it answered 501 NotImplemented)" in listed.err
    assert "will retry" not in listed.err


def test_abort_on_a_store_without_abort_says_what_stays(
    cli: CLI, tmp_path: Path, store_config: tuple[Path, str]
) -> None:
    config, _ = store_config
    path = make_file(tmp_path / "kept.bin", 6 * MiB, seed=13)
    up = cli("upload", path, "--account", "s3rver", "--part-size", "5MiB", "--no-complete",
             "--json", config=config)  # fmt: skip
    assert up.code == 0, up.err
    aborted = cli("abort", up.summary["session"][:8], config=config)
    assert aborted.code == 0, aborted.err
    assert "aborted" in aborted.out
    assert "does not support AbortMultipartUpload" in aborted.out
    assert "the parts sent stay on the store" in aborted.out


def test_a_missing_s3rver_is_a_failure_that_names_the_install_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without s3rver the tests above fail (never skip), and the line says how to install it."""
    monkeypatch.setattr(s3rver_support, "ROOT", tmp_path)
    monkeypatch.setattr(s3rver_support, "SCRIPT", tmp_path / "node_modules/s3rver/bin/s3rver.js")
    problem = s3rver_support.missing()
    assert problem is not None
    assert "npm install --prefix .cache/s3rver s3rver@3.7.1" in problem
    server = s3rver_support.s3rver_server(tmp_path)
    with pytest.raises(RuntimeError, match=r"s3rver 3\.7\.1 is not installed"), server:
        pass


def test_one_process_says_once_per_account_what_the_store_lacks(
    cli: CLI, tmp_path: Path, state_dir: Path, store: Any, store_config: tuple[Path, str]
) -> None:
    config, bucket = store_config
    files = [make_file(tmp_path / f"pair-{n}.bin", 6 * MiB, seed=20 + n) for n in (1, 2)]
    sessions = []
    for path in files:
        up = cli("upload", path, "--account", "s3rver", "--part-size", "5MiB", "--no-complete",
                 "--json", config=config)  # fmt: skip
        assert up.code == 0, up.err
        sessions.append(up.summary["session"])

    async def resume_both() -> list[Event]:
        cfg = load_config(config)
        events: list[Event] = []
        async with open_engine(cfg, state_dir) as engine:
            engine.subscribe(events.append)
            for session_id in sessions:
                done = await engine.run(session_id)
                assert str(done.state) == "completed"
        return events

    notices = [e.message for e in asyncio.run(resume_both()) if e.kind == "notice"]
    assert len(notices) == 1 and LACKS_LIST_PARTS in (notices[0] or "")
    for path in files:
        landed = store.get_object(Bucket=bucket, Key=f"up/{path.name}")["Body"].read()
        assert landed == path.read_bytes()
