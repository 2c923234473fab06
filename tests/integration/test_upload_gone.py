"""The upload is gone on the server (aborted elsewhere mid-upload): moto over real sockets.

moto answers a part sent to an aborted upload with a bare 500 (real S3 says 404
NoSuchUpload), so this also proves the probe: one ListParts after a part's server error
tells a gone upload from a passing one, and nothing is retried into the void.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.integration.conftest import CLI, make_file
from tests.support.faultproxy import FaultProxy
from tui.config import load_config
from tui.core.journal import Journal
from tui.core.model import Event, PartState
from tui.core.units import MiB
from tui.runtime import open_engine, with_overrides


def _abort_after_first_part(
    config: Path, state_dir: Path, path: Path, s3: Any, bucket: str
) -> tuple[str, list[Event]]:
    """Upload ``path`` one part at a time; abort the upload with boto3 once part 1 is in."""
    cfg = load_config(config)
    events: list[Event] = []

    async def body() -> str:
        settings = with_overrides(cfg.engine, parts_per_session=1)
        async with open_engine(cfg, state_dir, settings) as engine:
            session = await engine.plan(path, "moto", 5 * MiB)

            def watch(event: Event) -> None:
                events.append(event)
                if event.kind == "part" and event.part == 1 and event.state == "verified":
                    remote = engine.session(session.id).remote
                    # Blocking on purpose: the abort lands before part 2 is sent.
                    s3.abort_multipart_upload(
                        Bucket=bucket, Key=remote["key"], UploadId=remote["upload_id"]
                    )

            engine.subscribe(watch)
            await engine.run(session.id)
            return session.id

    return asyncio.run(body()), events


def test_a_gone_upload_stops_on_one_line_and_resume_starts_over(
    proxied_config: Path,
    proxy: FaultProxy,
    state_dir: Path,
    tmp_path: Path,
    s3: Any,
    bucket: str,
    cli: CLI,
) -> None:
    path = make_file(tmp_path / "vanishing.bin", 16 * MiB, seed=5)
    session_id, events = _abort_after_first_part(proxied_config, state_dir, path, s3, bucket)
    first_upload = proxy.ops("upload_part")[0].upload_id

    journal = Journal.open(state_dir)
    session = journal.session(session_id)
    assert str(session.state) == "failed"
    assert session.error == (
        "the upload is gone on the server (aborted elsewhere, completed or expired); "
        f"partdeck resume {session_id[:8]} starts a new upload and sends every part again"
    )
    assert not session.opened  # nothing of the gone upload is kept
    parts = journal.parts(session_id)
    assert [p.state for p in parts] == [PartState.PENDING] * 4  # part 1 is no longer verified
    assert all(p.etag is None for p in parts)
    # Part 2 met the gone upload once and was not retried: one probe settled it.
    assert [s.status for s in proxy.ops("upload_part") if s.part == 2] == [500]
    assert len(proxy.ops("list_parts")) == 1
    errors = [e for e in events if e.kind == "error"]
    assert [e.message for e in errors] == [session.error]
    journal.close()

    inspected = cli("inspect", session_id[:8], "--json", config=proxied_config)
    assert inspected.code == 0, inspected.err
    head = inspected.json_lines()[0]
    assert head["server"].startswith("gone on the server")
    assert head["fix_action"] == "resume"

    resumed = cli("resume", session_id[:8], "--json", config=proxied_config)
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    assert len(proxy.ops("create")) == 2
    second_upload = proxy.ops("upload_part")[-1].upload_id
    assert second_upload != first_upload
    again = sorted(s.part for s in proxy.ops("upload_part") if s.upload_id == second_upload)
    assert again == [1, 2, 3, 4]  # every part, part 1 too
    got = s3.get_object(Bucket=bucket, Key="up/vanishing.bin")["Body"].read()
    assert got == path.read_bytes()


def test_resume_of_a_paused_session_whose_upload_vanished_opens_a_new_one(
    cli: CLI, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "left.bin", 11 * MiB, seed=6)
    up = cli("upload", path, "--account", "moto", "--part-size", "5MiB", "--no-complete", "--json")
    assert up.code == 0, up.err
    session = up.summary["session"]
    (upload,) = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])

    inspected = cli("inspect", session[:8])
    assert inspected.code == 0, inspected.err
    assert "gone on the server" in inspected.out
    assert "server unknown" not in inspected.out

    resumed = cli("resume", session[:8])
    assert resumed.code == 0, resumed.err
    assert "the upload is gone on the server" in resumed.out
    assert "starting a new upload and sending every part again" in resumed.out
    got = s3.get_object(Bucket=bucket, Key="up/left.bin")["Body"].read()
    assert got == path.read_bytes()
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
