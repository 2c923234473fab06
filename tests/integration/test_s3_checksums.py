"""S3 flexible checksums, end to end: partdeck declares CRC64NVME (or the account's
choice) at create, every part carries its value, the sandbox's S3 gateway checks each as
S3 does (moto accepts anything) and echoes it, and complete carries the whole object's.
A part damaged on the way is refused with BadDigest and sent again; a store that refuses
the headers gets MD5 from then on, said once and kept in the journal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, SECRET_KEY
from tests.integration.conftest import CLI, make_file
from tests.support.config import write_s3_config
from tests.support.moto import MotoServer
from tui.core import checksums
from tui.core.journal import Journal
from tui.core.model import Part, PartState
from tui.core.units import MiB
from tui.sandbox.faults import Faults, FaultSpec
from tui.sandbox.s3gateway import create_gateway
from tui.sandbox.serve import ServerThread

PART = ("--part-size", "5MiB")
Gateway = Callable[..., tuple[str, Faults]]


@pytest.fixture
def gateway(moto: MotoServer) -> Iterator[Gateway]:
    """Start gateways in front of moto, each with the faults asked for."""
    servers: list[ServerThread] = []

    def start(**spec: Any) -> tuple[str, Faults]:
        faults = Faults(FaultSpec(**spec))
        server = ServerThread(create_gateway(moto.url, {ACCESS_KEY: SECRET_KEY}, faults=faults))
        servers.append(server.start())
        return server.url, faults

    yield start
    for server in servers:
        server.stop()


def _parts(state_dir: Path, session_id: str) -> list[Part]:
    journal = Journal.open(state_dir)
    try:
        return journal.parts(session_id)
    finally:
        journal.close()


def _facts(state_dir: Path) -> dict[str, str]:
    journal = Journal.open(state_dir)
    try:
        return journal.account_facts("moto")
    finally:
        journal.close()


@pytest.mark.parametrize("choice", ["auto", "crc32c", "sha256"])
def test_every_part_carries_the_checksum_the_store_checks(
    choice: str,
    cli: CLI,
    gateway: Gateway,
    tmp_path: Path,
    state_dir: Path,
    s3: Any,
    bucket: str,
    s3_env: None,
) -> None:
    url, faults = gateway()
    config = write_s3_config(tmp_path / "c.toml", url, bucket, checksum=choice)
    path = make_file(tmp_path / "crc.bin", 11 * MiB + 5, seed=3)
    up = cli("upload", path, "--account", "moto", *PART, "--json", config=config)
    assert up.code == 0, up.err
    name = "crc64nvme" if choice == "auto" else choice
    shown = cli("show", up.summary["session"], "--json", config=config).json_lines()
    assert shown[0]["remote"]["checksum"] == name
    data = path.read_bytes()
    parts = _parts(state_dir, up.summary["session"])
    assert [p.state for p in parts] == ["verified"] * 3
    for part in parts:
        block = data[part.start : part.end]
        assert part.md5 is None  # no MD5 pass where the store checks a faster checksum
        if name == "sha256":
            assert part.sha256 == hashlib.sha256(block).hexdigest()
        else:
            assert part.checksum == checksums.checksum(name, block)
    # moto computes a CRC32C object's own value as a CRC32 without the crc32c package, so
    # the bytes are read back without boto3's check of that value.
    plain = boto3.client(
        "s3",
        endpoint_url=s3.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(response_checksum_validation="when_required"),
    )
    assert plain.get_object(Bucket=bucket, Key="up/crc.bin")["Body"].read() == data
    if name == "crc64nvme":  # moto computes the object's own from its bytes
        head = s3.head_object(Bucket=bucket, Key="up/crc.bin", ChecksumMode="ENABLED")
        assert head["ChecksumCRC64NVME"] == checksums.checksum("crc64nvme", data)
    assert faults.stats()["part_puts"] == 3  # each part once


def test_a_part_damaged_on_the_way_gets_bad_digest_and_goes_again(
    cli: CLI, gateway: Gateway, tmp_path: Path, state_dir: Path, s3: Any, bucket: str, s3_env: None
) -> None:
    url, faults = gateway(part_corrupt=1.0, parts=(2,), limit=1)
    config = write_s3_config(tmp_path / "c.toml", url, bucket)
    path = make_file(tmp_path / "damaged.bin", 11 * MiB, seed=4)
    up = cli("upload", path, "--account", "moto", *PART, "--json", config=config)
    assert up.code == 0, up.err
    assert faults.stats()["injected"] == {"part_corrupt": 1}
    parts = _parts(state_dir, up.summary["session"])
    assert [(p.number, p.attempts, p.state) for p in parts] == [
        (1, 1, "verified"),
        (2, 2, "verified"),
        (3, 1, "verified"),
    ]
    journal = Journal.open(state_dir)
    try:
        said = [e.message or "" for e in journal.events(up.summary["session"]) if e.part == 2]
    finally:
        journal.close()
    assert any("BadDigest" in m and "CRC64NVME" in m for m in said), said
    assert s3.get_object(Bucket=bucket, Key="up/damaged.bin")["Body"].read() == path.read_bytes()


def test_a_store_that_refuses_checksums_gets_md5_said_once_and_kept(
    cli: CLI, gateway: Gateway, tmp_path: Path, state_dir: Path, s3: Any, bucket: str, s3_env: None
) -> None:
    url, faults = gateway(refuse_checksums=1)
    config = write_s3_config(tmp_path / "c.toml", url, bucket)
    first = make_file(tmp_path / "b2-1.bin", 6 * MiB, seed=5)
    up = cli("upload", first, "--account", "moto", *PART, config=config)
    assert up.code == 0, up.err
    said = [line for line in (up.out + up.err).splitlines() if "refuses crc64nvme" in line]
    assert len(said) == 1, up.out + up.err
    assert "Unsupported header 'x-amz-checksum-algorithm'" in said[0]
    assert "this account sends Content-MD5 from now on" in said[0]
    assert faults.stats()["injected"] == {"refuse_checksums": 1}
    assert "checksums_refused" in _facts(state_dir)

    # A later process knows it from the journal: it never sends the headers again.
    second = make_file(tmp_path / "b2-2.bin", 6 * MiB, seed=6)
    again = cli("upload", second, "--account", "moto", *PART, "--json", config=config)
    assert again.code == 0, again.err
    assert faults.stats()["injected"] == {"refuse_checksums": 1}
    for session in (again.summary["session"],):
        parts = _parts(state_dir, session)
        assert all(p.md5 and p.checksum is None and p.state == "verified" for p in parts)
    assert s3.get_object(Bucket=bucket, Key="up/b2-2.bin")["Body"].read() == second.read_bytes()


def test_an_object_checksum_other_than_the_parts_make_is_refused(
    gateway: Gateway, bucket: str
) -> None:
    url, _ = gateway()
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    data = b"x" * (5 * MiB) + b"tail"
    upload = client.create_multipart_upload(
        Bucket=bucket, Key="whole.bin", ChecksumAlgorithm="CRC64NVME", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    done = []
    for number, block in enumerate((data[: 5 * MiB], data[5 * MiB :]), start=1):
        value = checksums.checksum("crc64nvme", block)
        answer = client.upload_part(
            Bucket=bucket,
            Key="whole.bin",
            UploadId=upload,
            PartNumber=number,
            Body=block,
            ChecksumCRC64NVME=value,
        )
        assert answer["ChecksumCRC64NVME"] == value  # echoed, as S3 does
        done.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC64NVME": value})
    wrong = checksums.checksum("crc64nvme", data + b"!")
    with pytest.raises(ClientError) as refused:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="whole.bin",
            UploadId=upload,
            MultipartUpload={"Parts": done},
            ChecksumCRC64NVME=wrong,
            ChecksumType="FULL_OBJECT",
        )
    assert refused.value.response["Error"]["Code"] == "BadDigest"
    right = checksums.checksum("crc64nvme", data)
    finished = client.complete_multipart_upload(
        Bucket=bucket,
        Key="whole.bin",
        UploadId=upload,
        MultipartUpload={"Parts": done},
        ChecksumCRC64NVME=right,
        ChecksumType="FULL_OBJECT",
    )
    assert finished["ChecksumCRC64NVME"] == right
    assert client.get_object(Bucket=bucket, Key="whole.bin")["Body"].read() == data


# -- small files: one PutObject ---------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 3 * MiB])
def test_a_file_under_the_threshold_is_one_put_object(
    size: int,
    cli: CLI,
    gateway: Gateway,
    tmp_path: Path,
    state_dir: Path,
    s3: Any,
    bucket: str,
    s3_env: None,
) -> None:
    url, _ = gateway()
    config = write_s3_config(tmp_path / "c.toml", url, bucket, multipart_threshold=None)
    path = make_file(tmp_path / "small.bin", size, seed=7)
    up = cli("upload", path, "--account", "moto", *PART, "--no-complete", "--json", config=config)
    assert up.code == 0, up.err
    shown = cli("show", up.summary["session"], "--json", config=config).json_lines()
    assert shown[0]["remote"] == {"bucket": bucket, "key": "up/small.bin", "checksum": "crc64nvme"}
    assert [(p["state"], p["attempts"]) for p in shown[1:]] == [("verified", 1)]
    assert shown[1]["checksum"] == checksums.checksum("crc64nvme", path.read_bytes())
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    done = cli("complete", up.summary["session"][:8], "--json", config=config)
    assert done.code == 0, done.err
    assert done.summary["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/small.bin")["Body"].read() == path.read_bytes()


def test_a_put_object_refused_over_its_checksum_goes_again_with_md5(
    cli: CLI, gateway: Gateway, tmp_path: Path, state_dir: Path, s3: Any, bucket: str, s3_env: None
) -> None:
    url, faults = gateway(refuse_checksums=1)
    config = write_s3_config(tmp_path / "c.toml", url, bucket, multipart_threshold=None)
    path = make_file(tmp_path / "b2-small.bin", 2 * MiB, seed=8)
    up = cli("upload", path, "--account", "moto", "--json", config=config)
    assert up.code == 0, up.err
    assert faults.stats()["injected"] == {"refuse_checksums": 1}
    (part,) = _parts(state_dir, up.summary["session"])
    assert (part.state, part.attempts, part.md5) == (
        "verified",
        2,
        hashlib.md5(path.read_bytes()).hexdigest(),
    )
    assert "checksums_refused" in _facts(state_dir)
    assert s3.get_object(Bucket=bucket, Key="up/b2-small.bin")["Body"].read() == path.read_bytes()


def test_abort_of_a_put_object_session_says_the_object_stays(
    cli: CLI, gateway: Gateway, tmp_path: Path, s3: Any, bucket: str, s3_env: None
) -> None:
    url, _ = gateway()
    config = write_s3_config(tmp_path / "c.toml", url, bucket, multipart_threshold=None)
    path = make_file(tmp_path / "kept.bin", MiB, seed=9)
    up = cli("upload", path, "--account", "moto", "--no-complete", "--json", config=config)
    assert up.code == 0, up.err
    aborted = cli("abort", up.summary["session"][:8], config=config)
    assert aborted.code == 0, aborted.err
    assert "goes up as one PutObject" in aborted.out + aborted.err
    assert "partdeck deletes no object" in aborted.out + aborted.err
    assert s3.get_object(Bucket=bucket, Key="up/kept.bin")["Body"].read() == path.read_bytes()


def test_a_put_object_damaged_on_the_way_gets_bad_digest_and_goes_again(
    cli: CLI, gateway: Gateway, tmp_path: Path, state_dir: Path, s3: Any, bucket: str, s3_env: None
) -> None:
    url, faults = gateway(part_corrupt=1.0, limit=1)
    config = write_s3_config(tmp_path / "c.toml", url, bucket, multipart_threshold=None)
    path = make_file(tmp_path / "small-damaged.bin", 3 * MiB, seed=10)
    up = cli("upload", path, "--account", "moto", "--json", config=config)
    assert up.code == 0, up.err
    assert faults.stats()["injected"] == {"part_corrupt": 1}
    (part,) = _parts(state_dir, up.summary["session"])
    assert (part.state, part.attempts) == ("verified", 2)
    assert s3.get_object(Bucket=bucket, Key="up/small-damaged.bin")["Body"].read() == (
        path.read_bytes()
    )


def test_a_part_the_store_lists_with_its_checksum_is_not_sent_again(
    cli: CLI, gateway: Gateway, tmp_path: Path, state_dir: Path, s3: Any, bucket: str, s3_env: None
) -> None:
    # As after a crash between the store's 200 and the journal's commit: the journal says
    # pending, ListParts lists the part with its CRC64NVME, and that is proof enough.
    url, faults = gateway()
    config = write_s3_config(tmp_path / "c.toml", url, bucket)
    path = make_file(tmp_path / "listed.bin", 11 * MiB, seed=11)
    up = cli("upload", path, "--account", "moto", *PART, "--no-complete", "--json", config=config)
    assert up.code == 0, up.err
    session_id = up.summary["session"]
    journal = Journal.open(state_dir)
    try:
        parts = journal.parts(session_id)
        parts[1].state = PartState.PENDING
        journal.commit(parts=[parts[1]])
    finally:
        journal.close()
    puts = faults.stats()["part_puts"]
    resumed = cli("resume", session_id[:8], "--json", config=config)
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    assert faults.stats()["part_puts"] == puts  # nothing sent again
    assert s3.get_object(Bucket=bucket, Key="up/listed.bin")["Body"].read() == path.read_bytes()
