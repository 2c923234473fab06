"""tui.core.checksums: S3's flexible checksums, checked against published check values and
an independent CRC32 (zlib), and the parts' CRCs combined into the whole object's."""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core import checksums
from tui.core.digest import CHUNK, hash_range

CHECK = b"123456789"
"""The input every CRC catalogue gives its check value for."""


def value(number: int, width: int) -> str:
    return base64.b64encode(number.to_bytes(width, "big")).decode()


@pytest.mark.parametrize(
    ("name", "check", "width"),
    [
        ("crc64nvme", 0xAE8B14860A799888, 8),  # CRC-64/NVME
        ("crc32c", 0xE3069283, 4),  # CRC-32/ISCSI
        ("crc32", 0xCBF43926, 4),  # CRC-32/ISO-HDLC
    ],
)
def test_each_crc_gives_its_published_check_value(name: str, check: int, width: int) -> None:
    assert checksums.checksum(name, CHECK) == value(check, width)


def test_hashes_travel_as_base64_of_their_bytes() -> None:
    assert (
        checksums.checksum("sha256", CHECK)
        == base64.b64encode(hashlib.sha256(CHECK).digest()).decode()
    )
    assert checksums.algorithm("sha1").header == "x-amz-checksum-sha1"
    assert checksums.algorithm("crc64nvme").s3_name == "CRC64NVME"
    assert not checksums.algorithm("sha256").full_object


def test_crc32_matches_zlib_on_random_bytes() -> None:
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
    assert checksums.checksum("crc32", data) == value(zlib.crc32(data), 4)


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=4096),
    cuts=st.lists(st.integers(min_value=0, max_value=4096), max_size=6),
    name=st.sampled_from(["crc64nvme", "crc32c", "crc32"]),
)
def test_the_parts_crcs_combine_into_the_whole_objects(
    data: bytes, cuts: list[int], name: str
) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)] or [b""]
    parts = [(checksums.checksum(name, piece), len(piece)) for piece in pieces]
    assert checksums.whole_object(name, parts) == checksums.checksum(name, data)


def test_a_running_crc_fed_in_pieces_equals_one_pass() -> None:
    data = random.Random(3).randbytes(100_000)
    running = checksums.algorithm("crc64nvme").new()
    for start in range(0, len(data), 7_777):
        running.update(memoryview(data)[start : start + 7_777])
    assert checksums.encode(running.digest()) == checksums.checksum("crc64nvme", data)


def test_unknown_names_and_hashes_without_a_whole_value_are_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="unknown checksum 'crc16'; choose one of crc64nvme"):
        checksums.algorithm("crc16")
    with pytest.raises(ValueError, match="sha256 has no full-object value"):
        checksums.whole_object("sha256", [("AA==", 1)])


def test_hash_range_reads_once_for_crcs_and_digests(tmp_path: Path) -> None:
    data = random.Random(11).randbytes(2 * CHUNK + 999)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    start, end = 1000, 2 * CHUNK + 5
    got = hash_range(str(path), start, end, ("md5", "crc64nvme", "crc32"))
    piece = data[start:end]
    assert got.md5 == hashlib.md5(piece).hexdigest()
    assert got.crcs == {
        "crc64nvme": checksums.checksum("crc64nvme", piece),
        "crc32": value(zlib.crc32(piece), 4),
    }
    assert hash_range(str(path), 0, 10).crcs == {}
