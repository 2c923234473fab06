"""Test configs: one S3 account named ``moto`` with credentials read from the environment."""

from __future__ import annotations

import json
from pathlib import Path


def write_s3_config(
    path: Path,
    endpoint: str,
    bucket: str,
    *,
    checksum: str | None = None,
    multipart_threshold: int | None = 0,
    **engine: int | str,
) -> Path:
    """Write a config with an ``[engine]`` table of ``engine`` and the ``moto`` account
    (whose ``checksum`` setting is left to its default unless given). Its
    ``multipart_threshold`` is 0 unless given (None: the default, 8 MiB): these tests
    prove multipart uploads with small files, which would otherwise be one PutObject."""
    lines = ["[engine]"]
    for key, value in engine.items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines += [
        "",
        "[accounts.moto]",
        'provider = "s3"',
        f'endpoint_url = "{endpoint}"',
        'region = "us-east-1"',
        f'bucket = "{bucket}"',
        'prefix = "up/"',
        'access_key_env = "PARTDECK_TEST_AK"',
        'secret_key_env = "PARTDECK_TEST_SK"',
    ]
    if checksum is not None:
        lines.append(f'checksum = "{checksum}"')
    if multipart_threshold is not None:
        lines.append(f"multipart_threshold = {multipart_threshold}")
    path.write_text("\n".join(lines) + "\n")
    return path


def slow_s3_config(path: Path, endpoint: str, bucket: str) -> Path:
    """The ``moto`` account at ``endpoint`` (a counting proxy), slow enough that a test
    can catch an upload mid-way: 2 parts in flight at 6 MiB/s."""
    return write_s3_config(
        path, endpoint, bucket, parts_in_flight=2, parts_per_session=2, bandwidth_limit="6MiB"
    )
