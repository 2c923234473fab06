"""S3's flexible checksums: the algorithms, their running state, and whole-object values.

S3 checks an ``x-amz-checksum-<name>`` header on every UploadPart against the bytes it
received, and answers BadDigest on a mismatch; at CompleteMultipartUpload a full-object
checksum (CRC64NVME, CRC32C, CRC32) covers the whole object. The CRCs come from awscrt
(the AWS SDKs' own, hardware-accelerated: some 10 GiB/s a core here against MD5's 0.7),
and a part's CRCs combine into the object's without reading the file again.

Values travel as S3 writes them: the digest's big-endian bytes in base64.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Protocol


class Running(Protocol):
    """A checksum being computed: fed the bytes in order, then read."""

    def update(self, data: bytes | memoryview) -> None: ...

    def digest(self) -> bytes: ...


@cache
def _crt() -> ModuleType:
    """awscrt's checksums, imported when first used (its native library takes ~60 ms)."""
    import importlib

    return importlib.import_module("awscrt.checksums")


class _Crc:
    """A running CRC of ``width`` bytes, continued by awscrt from its last value."""

    __slots__ = ("_step", "_value", "_width")

    def __init__(self, step: str, width: int) -> None:
        self._step: Callable[[bytes, int], int] = getattr(_crt(), step)
        self._width = width
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._step(bytes(data) if isinstance(data, memoryview) else data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


@dataclass(frozen=True)
class Algorithm:
    """One checksum S3 takes: how to compute it and how S3 names it."""

    name: str
    """As partdeck's settings write it: ``crc64nvme``."""
    s3_name: str
    """As S3's ``x-amz-checksum-algorithm`` writes it: ``CRC64NVME``."""
    new: Callable[[], Running]
    combiner: str | None = None
    """For a CRC, awscrt's function of (crc of A, crc of B, length of B) -> crc of A then
    B; None for a hash, which has no full-object value S3 would check."""

    def combine(self, first: int, second: int, second_length: int) -> int:
        """The CRC of two blocks in a row, from the CRC of each (a CRC only)."""
        if self.combiner is None:
            raise ValueError(f"{self.name} has no full-object value; use a CRC")
        result: int = getattr(_crt(), self.combiner)(first, second, second_length)
        return result

    @property
    def header(self) -> str:
        """The header a part's or the object's value travels in."""
        return f"x-amz-checksum-{self.name}"

    @property
    def full_object(self) -> bool:
        """True when the parts' values combine into the whole object's."""
        return self.combiner is not None


def _crc(step: str, width: int) -> Callable[[], Running]:
    return lambda: _Crc(step, width)


def _hash(name: str) -> Callable[[], Running]:
    return lambda: hashlib.new(name)


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("crc64nvme", "CRC64NVME", _crc("crc64nvme", 8), "combine_crc64nvme"),
        Algorithm("crc32c", "CRC32C", _crc("crc32c", 4), "combine_crc32c"),
        Algorithm("crc32", "CRC32", _crc("crc32", 4), "combine_crc32"),
        Algorithm("sha256", "SHA256", _hash("sha256")),
        Algorithm("sha1", "SHA1", _hash("sha1")),
    )
}
"""Every checksum S3 takes on UploadPart, by partdeck's name (MD5 travels as Content-MD5
and the ETag, so it is not one of these)."""


SETTINGS = ("auto", "crc64nvme", "crc32c", "crc32", "sha256", "md5")
"""What an S3 account's ``checksum`` setting takes: ``auto`` is CRC64NVME, falling back
to MD5 by itself on a store that refuses flexible checksums."""


def algorithm(name: str) -> Algorithm:
    """The algorithm called ``name``; a one-line ValueError naming the choices."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(
            f"unknown checksum {name!r}; choose one of {', '.join(ALGORITHMS)} (or md5)"
        ) from None


def encode(digest: bytes) -> str:
    """A digest as S3 writes it in its headers and XML: base64 of its bytes."""
    return base64.b64encode(digest).decode("ascii")


def checksum(name: str, data: bytes) -> str:
    """The S3 value of ``data`` under the algorithm ``name``."""
    running = algorithm(name).new()
    running.update(data)
    return encode(running.digest())


def whole_object(name: str, parts: Iterable[tuple[str, int]]) -> str:
    """The full-object value of an object made of these parts, in order, each given as
    (its S3 value, its length in bytes): the CRCs combined, with no byte read again."""
    algo = algorithm(name)
    if not algo.full_object:
        raise ValueError(f"{name} has no full-object value; use crc64nvme, crc32c or crc32")
    total: int | None = None
    width = 0
    for value, length in parts:
        raw = base64.b64decode(value)
        width = len(raw)
        crc = int.from_bytes(raw, "big")
        total = crc if total is None else algo.combine(total, crc, length)
    if total is None:
        return encode(algo.new().digest())  # the empty object's
    return encode(total.to_bytes(width, "big"))
