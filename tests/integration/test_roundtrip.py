"""Whole uploads through the CLI to moto, checked with boto3."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import CLI, make_file
from tui.cli import main
from tui.core.journal import Journal
from tui.core.units import MiB
from tui.providers.s3 import multipart_etag


def _expected_etag(data: bytes, part_size: int) -> str:
    spans = range(0, max(len(data), 1), part_size)
    return multipart_etag([hashlib.md5(data[a : a + part_size]).hexdigest() for a in spans])


@pytest.mark.parametrize(
    ("size", "parts"),
    [(0, 1), (1, 1), (5 * MiB, 1), (5 * MiB + 1, 2), (64 * MiB, 13)],
    ids=["0B", "1B", "5MiB", "5MiB+1", "64MiB"],
)
def test_round_trip(cli: CLI, tmp_path: Path, s3: Any, bucket: str, size: int, parts: int) -> None:
    path = make_file(tmp_path / f"file-{size}.bin", size, seed=size)
    result = cli("upload", path, "--account", "moto", "--part-size", "5MiB", "--json")
    assert result.code == 0, result.err
    summary = result.summary
    assert summary["event"] == "summary"
    assert summary["state"] == "completed"
    assert summary["location"] == f"s3://{bucket}/up/{path.name}"
    verified = [e for e in result.json_lines() if e.get("state") == "verified"]
    assert len(verified) == parts
    obj = s3.get_object(Bucket=bucket, Key=f"up/{path.name}")
    data = path.read_bytes()
    assert obj["Body"].read() == data
    assert obj["ETag"].strip('"') == _expected_etag(data, 5 * MiB)


def test_default_part_size_and_show(cli: CLI, tmp_path: Path, s3: Any, bucket: str) -> None:
    path = make_file(tmp_path / "twenty.bin", 20 * MiB + 3)
    result = cli("upload", path, "--account", "moto", "--json")
    assert result.code == 0, result.err
    session = result.summary["session"]
    shown = cli("show", session[:6], "--json").json_lines()
    assert shown[0]["state"] == "completed"
    assert shown[0]["part_size"] == 8 * MiB
    parts = shown[1:]
    assert [p["part"] for p in parts] == [1, 2, 3]
    assert [(p["start"], p["end"]) for p in parts] == [
        (0, 8 * MiB), (8 * MiB, 16 * MiB), (16 * MiB, 20 * MiB + 3)
    ]  # fmt: skip
    data = path.read_bytes()
    for p in parts:
        assert p["state"] == "verified"
        assert p["attempts"] == 1
        assert p["etag"] == hashlib.md5(data[p["start"] : p["end"]]).hexdigest()
    listing = cli("sessions")
    assert session[:12] in listing.out and "completed" in listing.out
    plain_show = cli("show", session[:8])
    assert "verified" in plain_show.out and str(path) in plain_show.out


def test_several_files_in_one_batch(cli: CLI, tmp_path: Path, s3: Any, bucket: str) -> None:
    files = [make_file(tmp_path / f"batch-{i}.bin", 6 * MiB + i, seed=i) for i in range(3)]
    result = cli("upload", *files, "--account", "moto", "--part-size", "5MiB", "--json")
    assert result.code == 0, result.err
    summaries = [e for e in result.json_lines() if e["event"] == "summary"]
    assert [s["state"] for s in summaries] == ["completed"] * 3
    for f in files:
        assert s3.get_object(Bucket=bucket, Key=f"up/{f.name}")["Body"].read() == f.read_bytes()


def test_no_complete_then_complete(cli: CLI, tmp_path: Path, s3: Any, bucket: str) -> None:
    path = make_file(tmp_path / "later.bin", 11 * MiB)
    result = cli("upload", path, "--account", "moto", "--part-size", "5MiB", "--no-complete",
                 "--json")  # fmt: skip
    assert result.code == 0, result.err
    assert result.summary["state"] == "uploaded"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    done = cli("complete", result.summary["session"][:10], "--json")
    assert done.code == 0, done.err
    assert done.summary["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/later.bin")["Body"].read() == path.read_bytes()


def test_real_five_mib_rule(cli: CLI, tmp_path: Path) -> None:
    path = make_file(tmp_path / "small-parts.bin", 3 * MiB)
    result = cli("upload", path, "--account", "moto", "--part-size", "1MiB")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "below the provider's minimum of 5 MiB" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_and_state_dir_before_or_after_the_command(
    config_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    s3: Any,
    bucket: str,
    where: str,
) -> None:
    """``partdeck --state-dir DIR upload ...`` keeps its journal in DIR, as ``partdeck
    upload ... --state-dir DIR`` does (the command's own default once overwrote it)."""
    elsewhere = tmp_path / "default-state"
    monkeypatch.setenv("PARTDECK_STATE_DIR", str(elsewhere))
    monkeypatch.delenv("PARTDECK_CONFIG", raising=False)
    state = tmp_path / "chosen-state"
    path = make_file(tmp_path / f"placed-{where}.bin", 1000)
    options = ["--config", str(config_file), "--state-dir", str(state)]
    command = ["upload", str(path), "--account", "moto", "--json"]
    argv = options + command if where == "before" else command + options
    assert main(argv) == 0, capsys.readouterr().err
    journal = Journal.open(state)
    try:
        assert [s.path for s in journal.sessions()] == [str(path)]
    finally:
        journal.close()
    assert not elsewhere.exists()
    listed = [*options, "sessions"] if where == "before" else ["sessions", *options]
    capsys.readouterr()
    assert main(listed) == 0
    assert path.name in capsys.readouterr().out
