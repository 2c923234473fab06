"""Failures at the server, over real sockets: retried, stopped, or left for the user."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.integration.conftest import CLI, make_file
from tests.support.config import write_s3_config
from tests.support.faultproxy import FaultProxy, Rule
from tui.core import checksums
from tui.core.units import MiB

PART = ("--part-size", "5MiB")


def _part_put_sizes(proxy: FaultProxy, number: int) -> list[int | None]:
    return [s.status for s in proxy.ops("upload_part") if s.part == number]


def test_transient_500_and_reset_are_retried(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path, s3: Any, bucket: str
) -> None:
    proxy.add(
        Rule(
            op="upload_part",
            part=2,
            action="status",
            status=500,
            body=b"<Error><Code>InternalError</Code></Error>",
        )
    )
    proxy.add(Rule(op="upload_part", part=3, action="reset"))
    path = make_file(tmp_path / "flaky.bin", 15 * MiB + 7)
    result = cli("upload", path, "--account", "moto", *PART, "--json", config=proxied_config)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert _part_put_sizes(proxy, 2) == [500, 200]
    assert len(proxy.ops("upload_part")) == 4 + 2
    retried = [e for e in result.json_lines() if e.get("part") == 2 and e.get("message")]
    assert "server said 500 (InternalError)" in retried[0]["message"]
    assert s3.get_object(Bucket=bucket, Key="up/flaky.bin")["Body"].read() == path.read_bytes()


def test_retry_after_is_honoured(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.add(
        Rule(op="upload_part", part=1, action="status", status=503, headers={"Retry-After": "1"})
    )
    path = make_file(tmp_path / "later.bin", 2 * MiB)
    result = cli("upload", path, "--account", "moto", *PART, "--json", config=proxied_config)
    assert result.code == 0, result.err
    attempts = [s for s in proxy.ops("upload_part") if s.part == 1]
    assert [s.status for s in attempts] == [503, 200]
    assert attempts[1].time - attempts[0].time >= 1.0
    retry = next(e for e in result.json_lines() if e.get("retry_in"))
    assert retry["retry_in"] >= 1.0


def test_rejected_part_stops_then_retry_alone_resends_same_bytes(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path, s3: Any, bucket: str
) -> None:
    proxy.add(
        Rule(
            op="upload_part",
            part=2,
            action="status",
            status=400,
            body=b"<Error><Code>InvalidArgument</Code><Message>no thanks</Message></Error>",
        )
    )
    path = make_file(tmp_path / "stubborn.bin", 12 * MiB)
    first = cli("upload", path, "--account", "moto", *PART, "--json", config=proxied_config)
    assert first.code == 1
    summary = first.summary
    assert summary["state"] == "failed"
    short = summary["session"][:8]
    assert summary["error"] == (
        "1 part(s) not uploaded (2); part 2: server said 400 (InvalidArgument: no thanks); "
        f"retry them with partdeck retry {short} or abort"
    )
    shown = cli("show", summary["session"], "--json", config=proxied_config).json_lines()
    states = {p["part"]: p["state"] for p in shown[1:]}
    assert states == {1: "verified", 2: "failed", 3: "verified"}
    assert "InvalidArgument: no thanks" in shown[2]["error"]
    assert not s3.list_objects_v2(Bucket=bucket).get("Contents")

    inspected = cli("inspect", summary["session"][:8], "--json", config=proxied_config)
    assert inspected.code == 0, inspected.err
    head, *findings = inspected.json_lines()
    assert head["fix_action"] == "retry_failed" and head["fix_parts"] == [2]
    assert head["server"].startswith("the server holds 2 of 3 parts")
    assert head["local"] == "matches"
    assert [(f["part"], f["server"]) for f in findings] == [(2, "missing")]
    assert any("no thanks" in e for e in findings[0]["errors"])
    text = cli("inspect", summary["session"][:8], config=proxied_config)
    assert "fix       1 part(s) failed: retry them" in text.out

    puts_before = len(proxy.ops("upload_part"))
    again = cli("retry", summary["session"][:8], "--json", config=proxied_config)
    assert again.code == 0, again.err
    assert again.summary["state"] == "completed"
    resent = proxy.ops("upload_part")[puts_before:]
    assert [s.part for s in resent] == [2]
    data = path.read_bytes()
    obj = s3.get_object(Bucket=bucket, Key="up/stubborn.bin")
    assert obj["Body"].read() == data


def test_retry_of_a_verified_part_sends_identical_bytes(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "twice.bin", 11 * MiB)
    first = cli(
        "upload", path, "--account", "moto", *PART, "--no-complete", "--json", config=proxied_config
    )
    assert first.code == 0, first.err
    session = first.summary["session"]
    etag_before = cli("show", session, "--json", config=proxied_config).json_lines()[2]["etag"]
    again = cli("retry", session, "2", "--json", config=proxied_config)
    assert again.code == 0, again.err
    shown = cli("show", session, "--json", config=proxied_config).json_lines()
    part2 = shown[2]
    assert part2["attempts"] == 2
    assert (
        part2["etag"]
        == etag_before
        == hashlib.md5(path.read_bytes()[5 * MiB : 10 * MiB]).hexdigest()
    )
    assert [s.part for s in proxy.ops("upload_part")][-1] == 2
    assert shown[0]["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/twice.bin")["Body"].read() == path.read_bytes()


def test_corrupted_etag_is_never_verified(
    cli: CLI, proxy: FaultProxy, tmp_path: Path, bucket: str, s3_env: None
) -> None:
    md5_config = write_s3_config(
        tmp_path / "md5.toml", proxy.url, bucket, checksum="md5", retries=2, parts_in_flight=4
    )
    proxy.add(Rule(op="upload_part", part=1, action="corrupt_etag", times=-1))
    path = make_file(tmp_path / "corrupt.bin", 3 * MiB)
    result = cli("upload", path, "--account", "moto", *PART, "--json", config=md5_config)
    assert result.code == 1
    shown = cli("show", result.summary["session"], "--json", config=md5_config).json_lines()
    assert shown[1]["state"] == "failed"
    assert "is not the MD5 of the bytes sent" in shown[1]["error"]
    short = result.summary["session"][:8]
    assert result.summary["error"] == (  # the part's own "sending it again" is left out
        "1 part(s) not uploaded (1); part 1: the server's ETag 0123456789abcdef0123456789abcdef "
        f"is not the MD5 of the bytes sent ({hashlib.md5(path.read_bytes()).hexdigest()}); "
        f"retry them with partdeck retry {short} or abort"
    )
    assert len(proxy.ops("upload_part")) == 3  # first try plus retries = 2
    assert not proxy.ops("complete")


def test_a_wrong_checksum_echoed_is_never_verified(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.add(Rule(op="upload_part", part=1, action="corrupt_checksum", times=-1))
    path = make_file(tmp_path / "crc.bin", 3 * MiB)
    result = cli("upload", path, "--account", "moto", *PART, "--json", config=proxied_config)
    assert result.code == 1
    shown = cli("show", result.summary["session"], "--json", config=proxied_config).json_lines()
    assert shown[0]["remote"]["checksum"] == "crc64nvme"
    assert shown[1]["state"] == "failed"
    crc = checksums.checksum("crc64nvme", path.read_bytes())
    assert shown[1]["error"] == (
        f"part 1: the server's crc64nvme AAAAAAAAAAA= is not the one of the bytes sent ({crc}); "
        "sending the part again (gave up after 3 attempts)"
    )
    assert len(proxy.ops("upload_part")) == 3
    assert not proxy.ops("complete")


def test_complete_200_with_error_body_is_a_failure(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path, s3: Any, bucket: str
) -> None:
    proxy.add(Rule(op="complete", action="error_200", times=1))
    path = make_file(tmp_path / "assembled.bin", 6 * MiB)
    result = cli("upload", path, "--account", "moto", *PART, "--json", config=proxied_config)
    # The provider retries an InternalError inside a 200; the second complete lands.
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert len(proxy.ops("complete")) == 2
    assert s3.get_object(Bucket=bucket, Key="up/assembled.bin")["Body"].read() == path.read_bytes()


def test_complete_rejected_leaves_session_resumable(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, tmp_path: Path, s3: Any, bucket: str
) -> None:
    proxy.add(
        Rule(
            op="complete",
            action="status",
            status=400,
            body=(
                b"<Error><Code>InvalidPart</Code><Message>One or more of the specified parts "
                b"could not be found.</Message></Error>"
            ),
        )
    )
    path = make_file(tmp_path / "refused.bin", 6 * MiB)
    result = cli("upload", path, "--account", "moto", *PART, "--json", config=proxied_config)
    assert result.code == 1
    assert result.summary["state"] == "failed"
    assert "InvalidPart" in result.summary["error"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    done = cli("complete", result.summary["session"], "--json", config=proxied_config)
    assert done.code == 0, done.err
    assert s3.get_object(Bucket=bucket, Key="up/refused.bin")["Body"].read() == path.read_bytes()
