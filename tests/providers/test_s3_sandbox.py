"""The sandbox's direct S3 account: moto behind the checking gateway, with faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tui.core.units import MiB
from tui.sandbox.runner import ACCESS_KEY


def test_upload_through_the_gateway_with_a_profile(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = kit_factory("s3")
    path = make_file(tmp_path / "s3 sample.bin", 11 * MiB + 7)
    result = kit.upload(path, "--part-size", "5MiB")
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    backend = kit.sandbox.backends["s3"]
    assert asyncio.run(backend.read("s3 sample.bin")) == path.read_bytes()
    assert kit.faults.stats()["part_puts"] == 3


def test_a_failed_part_is_retried_alone(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = kit_factory("s3")
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "retry.bin", 12 * MiB, seed=2)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.code == 1
    assert first.summary["state"] == "failed"
    session = first.summary["session"]
    before = sum(kit.faults.part_puts.values())
    retried = kit.cli("retry", session[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    # Only part 2 went out again.
    assert sum(kit.faults.part_puts.values()) - before == 1
    backend = kit.sandbox.backends["s3"]
    assert asyncio.run(backend.read("retry.bin")) == path.read_bytes()


def test_the_gateway_answers_a_gone_upload_as_s3_does(
    kit_factory: Callable[[str], ProviderKit],
) -> None:
    """UploadPart, ListParts, CompleteMultipartUpload and AbortMultipartUpload of an
    aborted upload: 404 NoSuchUpload, each, as S3 documents (moto alone says 500 to two)."""
    kit = kit_factory("s3")
    backend = kit.sandbox.backends["s3"]
    client = boto3.client(
        "s3",
        endpoint_url=backend.public_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=kit.sandbox.secret_key,
        config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    where = {"Bucket": backend.bucket, "Key": "gone/probe.bin"}
    upload_id = client.create_multipart_upload(**where)["UploadId"]
    client.abort_multipart_upload(**where, UploadId=upload_id)
    calls: list[Callable[[], object]] = [
        lambda: client.upload_part(**where, UploadId=upload_id, PartNumber=1, Body=b"x"),
        lambda: client.list_parts(**where, UploadId=upload_id),
        lambda: client.complete_multipart_upload(
            **where,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0"'}]},
        ),
        lambda: client.abort_multipart_upload(**where, UploadId=upload_id),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert info.value.response["Error"]["Code"] == "NoSuchUpload"


def test_an_upload_aborted_on_the_server_is_not_retried_and_resume_starts_over(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = kit_factory("s3")
    kit.set_faults(upload_gone=1)
    path = make_file(tmp_path / "aborted elsewhere.bin", 16 * MiB + 3, seed=8)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.code == 1
    session = first.summary["session"]
    assert first.summary["state"] == "failed"
    assert first.err.count("\n") == 1  # one line
    assert "the upload is gone on the server" in first.err
    assert f"partdeck resume {session[:8]} starts a new upload" in first.err
    assert kit.faults.injected["upload_gone"] == 1
    (gone_id,) = {u for u, _ in kit.faults.part_puts}
    assert set(kit.faults.puts_for(gone_id).values()) == {1}  # nothing sent twice into it

    inspected = kit.cli("inspect", session[:8], "--json")
    assert inspected.json_lines()[0]["server"].startswith("gone on the server")

    kit.set_faults()
    resumed = kit.cli("resume", session[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    (new_id,) = {u for u, _ in kit.faults.part_puts}
    assert new_id != gone_id
    assert kit.faults.puts_for(new_id) == {1: 1, 2: 1, 3: 1, 4: 1}
    backend = kit.sandbox.backends["s3"]
    assert asyncio.run(backend.read("aborted elsewhere.bin")) == path.read_bytes()


def test_complete_of_a_gone_upload_says_so_and_resume_sends_it_all_again(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = kit_factory("s3")
    path = make_file(tmp_path / "never completed.bin", 11 * MiB, seed=9)
    up = kit.upload(path, "--part-size", "5MiB", "--no-complete")
    assert up.code == 0, up.err
    session = up.summary["session"]
    backend = kit.sandbox.backends["s3"]
    # Under the key's own prefix: the shared moto may hold other tests' hostile keys, whose
    # listing moto cannot write as XML.
    remote = json.loads(kit.cli("show", session[:8], "--json").out.splitlines()[0])["remote"]
    ((key, upload_id),) = asyncio.run(backend.uploads(prefix=remote["key"]))
    assert (key, upload_id) == (remote["key"], remote["upload_id"])
    asyncio.run(backend.abort(key, upload_id))

    completed = kit.cli("complete", session[:8])
    assert completed.code == 1
    assert completed.err.count("\n") == 1
    assert "the upload is gone on the server" in completed.err
    assert "complete-unknown" not in completed.out + completed.err

    kit.faults.reset()
    resumed = kit.cli("resume", session[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    assert sorted(n for _, n in kit.faults.part_puts) == [1, 2, 3]
    assert asyncio.run(backend.read(path.name)) == path.read_bytes()
