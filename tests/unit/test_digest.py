"""Tests for tui.core.digest: one read of a byte range gives xxh3_128 plus provider digests."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
import xxhash

from tui.core.digest import CHUNK, Digests, hash_range, hash_range_async, read_chunks
from tui.core.errors import LocalChanged, LocalFileError

SIZE = 3 * CHUNK + 12_345


@pytest.fixture(scope="module")
def data() -> bytes:
    return random.Random(1234).randbytes(SIZE)


@pytest.fixture
def blob(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    return path


def expected(data: bytes) -> Digests:
    return Digests(
        xxh3=xxhash.xxh3_128_hexdigest(data),
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
    )


RANGES = [
    (0, SIZE),
    (0, CHUNK),
    (CHUNK - 1, CHUNK + 1),
    (100, 2 * CHUNK + 5),
    (CHUNK, 3 * CHUNK),
    (SIZE - 1, SIZE),
    (7, 8),
]


@pytest.mark.parametrize(("start", "end"), RANGES)
def test_hash_range_matches_reference(blob: Path, data: bytes, start: int, end: int) -> None:
    got = hash_range(str(blob), start, end, ("md5", "sha1", "sha256"))
    assert got == expected(data[start:end])


def test_hash_range_only_what_is_asked(blob: Path, data: bytes) -> None:
    got = hash_range(str(blob), 0, 2 * CHUNK + 1, ["sha1"])
    assert got.xxh3 == xxhash.xxh3_128_hexdigest(data[: 2 * CHUNK + 1])
    assert got.sha1 == hashlib.sha1(data[: 2 * CHUNK + 1]).hexdigest()
    assert got.md5 is None
    assert got.sha256 is None


def test_hash_range_no_algorithms_gives_fingerprint_only(blob: Path, data: bytes) -> None:
    got = hash_range(str(blob), 10, 20)
    assert got == Digests(xxh3=xxhash.xxh3_128_hexdigest(data[10:20]))


def test_hash_range_empty_range(blob: Path) -> None:
    got = hash_range(str(blob), 5, 5, ("md5", "sha1", "sha256"))
    assert got == expected(b"")


def test_hash_range_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert hash_range(str(empty), 0, 0, ("md5",)) == Digests(
        xxh3=xxhash.xxh3_128_hexdigest(b""), md5=hashlib.md5(b"").hexdigest()
    )


@pytest.mark.parametrize(
    ("start", "end"), [(SIZE - 10, SIZE + 1), (0, SIZE + CHUNK), (SIZE, SIZE + 1)]
)
def test_hash_range_past_eof_is_local_changed(blob: Path, start: int, end: int) -> None:
    with pytest.raises(LocalChanged) as info:
        hash_range(str(blob), start, end)
    message = str(info.value)
    assert "\n" not in message
    assert "shrank" in message
    assert f"{SIZE:,}" in message  # where the file ended


def test_read_chunks_bounded(blob: Path) -> None:
    import os

    fd = os.open(blob, os.O_RDONLY)
    try:
        sizes = [len(c) for c in read_chunks(fd, 1, 2 * CHUNK + 2)]
    finally:
        os.close(fd)
    assert sizes == [CHUNK, CHUNK, 1]


def test_missing_file_is_local_file_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.bin"
    with pytest.raises(LocalFileError) as info:
        hash_range(str(path), 0, 10)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert "no such file" in message
    assert not isinstance(info.value, LocalChanged)


def test_directory_is_local_file_error(tmp_path: Path) -> None:
    with pytest.raises(LocalFileError) as info:
        hash_range(str(tmp_path), 0, 10)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message
    assert "directory" in message.lower()


def test_unknown_algorithm_is_value_error(blob: Path) -> None:
    with pytest.raises(ValueError, match="whirlpool"):
        hash_range(str(blob), 0, 10, ("md5", "whirlpool"))


def test_unknown_algorithm_checked_before_opening(tmp_path: Path) -> None:
    # A programming error is reported as such even when the file is also missing.
    with pytest.raises(ValueError):
        hash_range(str(tmp_path / "missing"), 0, 10, ("sha512",))


@pytest.mark.parametrize(("start", "end"), [(0, SIZE), (CHUNK - 3, 2 * CHUNK + 3), (4, 4)])
async def test_hash_range_async_same_as_sync(blob: Path, start: int, end: int) -> None:
    algorithms = iter(["md5", "sha256"])  # any iterable, even a one-shot iterator
    got = await hash_range_async(str(blob), start, end, algorithms)
    assert got == hash_range(str(blob), start, end, ("md5", "sha256"))
    assert got.sha256 is not None
    assert got.sha1 is None


async def test_hash_range_async_errors_propagate(tmp_path: Path) -> None:
    with pytest.raises(LocalFileError):
        await hash_range_async(str(tmp_path / "missing"), 0, 1)
