"""The sandbox's S3 gateway refuses what S3 refuses, and partdeck's signing passes it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import httpx
import pytest

from tests.conftest import ACCESS_KEY, SECRET_KEY
from tests.integration.conftest import CLI, make_file
from tests.support.config import write_s3_config
from tests.support.moto import MotoServer
from tui.sandbox.s3gateway import create_gateway
from tui.sandbox.serve import ServerThread

SKEW = {"seconds": 0.0}


@pytest.fixture
def gateway(moto: MotoServer) -> Iterator[str]:
    """The gateway in front of moto, with a clock the tests can move."""
    SKEW["seconds"] = 0.0
    app = create_gateway(
        moto.url, {ACCESS_KEY: SECRET_KEY}, clock=lambda: time.time() + SKEW["seconds"]
    )
    server = ServerThread(app).start()
    yield server.url
    server.stop()


@pytest.fixture
def gateway_config(tmp_path: Path, gateway: str, bucket: str, s3_env: None) -> Path:
    return write_s3_config(tmp_path / "gateway.toml", gateway, bucket, retries=1)


def test_partdeck_signatures_pass_and_upload_lands(
    cli: CLI, gateway_config: Path, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "signed.bin", 11 * 1024 * 1024 + 5)
    result = cli(
        "upload", path, "--account", "moto", "--part-size", "5MiB", "--json", config=gateway_config
    )
    assert result.code == 0, result.out + result.err
    assert result.summary["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/signed.bin")["Body"].read() == path.read_bytes()
    listed = cli("remote", "--account", "moto", "--json", config=gateway_config)
    assert listed.code == 0 and listed.out == ""


def test_boto3_passes_the_gateway(gateway: str, bucket: str) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=gateway,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.put_object(Bucket=bucket, Key="boto.txt", Body=b"hello")
    assert client.get_object(Bucket=bucket, Key="boto.txt")["Body"].read() == b"hello"


def _presigned(gateway: str, bucket: str, **params: Any) -> str:
    client = boto3.client(
        "s3",
        config=botocore.config.Config(signature_version="s3v4"),
        endpoint_url=gateway,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    return str(
        client.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "p.bin", **params}, ExpiresIn=60
        )
    )


def _error_code(response: httpx.Response) -> str:
    return response.text.split("<Code>")[1].split("</Code>")[0]


def test_presigned_url_checks(gateway: str, bucket: str) -> None:
    url = _presigned(gateway, bucket)
    assert httpx.put(url, content=b"ok").status_code == 200

    tampered = url.replace("p.bin", "q.bin")
    response = httpx.put(tampered, content=b"no")
    assert response.status_code == 403 and _error_code(response) == "SignatureDoesNotMatch"

    SKEW["seconds"] = 61.0
    response = httpx.put(url, content=b"late")
    assert response.status_code == 403
    assert "Request has expired" in response.text

    SKEW["seconds"] = 0.0
    wrong_key = url.replace(ACCESS_KEY, "someone-else")
    assert _error_code(httpx.put(wrong_key, content=b"x")) == "InvalidAccessKeyId"
    assert _error_code(httpx.put(url.split("?")[0], content=b"x")) == "AccessDenied"


def test_content_md5_is_checked(gateway: str, bucket: str) -> None:
    url = _presigned(gateway, bucket)
    bad = httpx.put(url, content=b"abc", headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
    assert bad.status_code == 400 and _error_code(bad) == "BadDigest"
    junk = httpx.put(url, content=b"abc", headers={"Content-MD5": "nope"})
    assert junk.status_code == 400 and _error_code(junk) == "InvalidDigest"


def test_expired_part_url_is_renewed_by_the_s3_provider(
    cli: CLI,
    gateway_config: Path,
    tmp_path: Path,
    s3: Any,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Part URLs minted for 1 s expire before they are used: the gateway says so, and the
    # provider mints new ones (S3 URLs can always be renewed) until one is used in time.
    from tui.providers.s3 import provider as s3_provider

    monkeypatch.setattr(s3_provider, "PART_URL_LIFETIME", 1)
    SKEW["seconds"] = 5.0
    path = make_file(tmp_path / "expiring.bin", 1024)
    result = cli("upload", path, "--account", "moto", "--json", config=gateway_config)
    assert result.code == 1
    shown = cli("show", result.summary["session"], "--json", config=gateway_config).json_lines()
    assert shown[1]["state"] == "expired"
    assert "has expired" in shown[1]["error"]
    SKEW["seconds"] = 0.0
    monkeypatch.setattr(s3_provider, "PART_URL_LIFETIME", 3600)
    again = cli("retry", result.summary["session"], "--json", config=gateway_config)
    assert again.code == 0, again.out
    assert s3.get_object(Bucket=bucket, Key="up/expiring.bin")["Body"].read() == path.read_bytes()
