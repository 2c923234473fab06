"""Abort leaves nothing on the server; ``remote`` finds and cleans orphaned uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.conftest import CLI, make_file
from tui.core.units import MiB


def test_abort_leaves_no_incomplete_upload(cli: CLI, tmp_path: Path, s3: Any, bucket: str) -> None:
    path = make_file(tmp_path / "gone.bin", 11 * MiB)
    up = cli("upload", path, "--account", "moto", "--part-size", "5MiB", "--no-complete", "--json")
    assert up.code == 0, up.err
    assert len(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])) == 1
    aborted = cli("abort", up.summary["session"][:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert not s3.list_objects_v2(Bucket=bucket).get("Contents")
    assert path.read_bytes()  # the local file is untouched
    again = cli("abort", up.summary["session"][:8], "--json")
    assert again.code == 0 and again.summary["state"] == "aborted"
    resumed = cli("resume", up.summary["session"][:8])
    assert resumed.code == 2
    assert "is aborted: nothing to resume" in resumed.err


def test_remote_lists_joins_and_aborts_orphans(
    cli: CLI, tmp_path: Path, s3: Any, bucket: str
) -> None:
    orphan = s3.create_multipart_upload(Bucket=bucket, Key="up/orphan.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="up/orphan.bin", UploadId=orphan, PartNumber=1,
                   Body=b"x" * (5 * MiB))  # fmt: skip
    s3.create_multipart_upload(Bucket=bucket, Key="elsewhere/skip.bin")  # outside the prefix
    path = make_file(tmp_path / "known.bin", 6 * MiB)
    up = cli("upload", path, "--account", "moto", "--part-size", "5MiB", "--no-complete", "--json")
    assert up.code == 0, up.err
    session = up.summary["session"]

    listed = cli("remote", "--account", "moto", "--json")
    assert listed.code == 0, listed.err
    rows = {r["key"]: r for r in listed.json_lines()}
    assert set(rows) == {"up/orphan.bin", "up/known.bin"}
    assert rows["up/orphan.bin"]["session"] is None
    assert rows["up/orphan.bin"]["bytes"] == 5 * MiB
    assert rows["up/known.bin"]["session"] == session
    assert rows["up/known.bin"]["local_matches"] is True
    assert rows["up/known.bin"]["parts"] == 2

    plain = cli("remote", "--account", "moto")
    assert "not in the journal" in plain.out
    assert "2 incomplete upload(s) holding 11 MiB" in plain.out

    # moto dates every upload 2010-11-10, so a day old is all of them and a century none.
    old = cli("remote", "--account", "moto", "--older-than", "1d", "--json")
    assert len(old.json_lines()) == 2
    ancient = cli("remote", "--account", "moto", "--older-than", "36500d", "--json")
    assert ancient.code == 0 and ancient.out == ""

    cleaned = cli("remote", "--account", "moto", "--abort", "--yes")
    assert cleaned.code == 0, cleaned.err
    assert "aborting discards 2 upload(s) and frees 11 MiB" in cleaned.out
    left = [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    assert left == ["elsewhere/skip.bin"]
    shown = cli("show", session, "--json").json_lines()
    assert shown[0]["state"] == "aborted"
