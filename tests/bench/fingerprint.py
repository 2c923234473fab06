"""``fingerprint``: ``digest.hash_range`` (xxh3_128 + MD5) vs plain hashlib + xxhash.

Both hash the same 64 MiB ranges of one page-cached file on 2 threads; the baseline reads
each range with ``readinto`` into one reused buffer instead of a new ``bytes`` per chunk.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import xxhash

from tests.bench.common import Context, MiB, Result
from tui.core.digest import CHUNK, hash_range

RANGE = 64 * MiB
THREADS = 2
ROUNDS = 3
TARGET = 0.9

Span = tuple[int, int]


def ours_range(path: Path, span: Span) -> str:
    """The engine's fingerprint pass over one range."""
    digests = hash_range(str(path), span[0], span[1], ("md5",))
    return f"{digests.xxh3}:{digests.md5}"


def baseline_range(path: Path, span: Span) -> str:
    """MD5 + xxh3_128 over one range, read with ``readinto`` into one buffer."""
    start, end = span
    md5, xxh = hashlib.md5(), xxhash.xxh3_128()
    view = memoryview(bytearray(CHUNK))
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        left = end - start
        while left:
            n = f.readinto(view[: min(CHUNK, left)])
            if not n:
                raise RuntimeError("file ended early")
            md5.update(view[:n])
            xxh.update(view[:n])
            left -= n
    return f"{xxh.hexdigest()}:{md5.hexdigest()}"


def timed(
    hasher: Callable[[Path, Span], str], path: Path, spans: list[Span]
) -> tuple[float, list[str]]:
    """Seconds to hash every span on THREADS threads, and the digests."""
    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        digests = list(pool.map(lambda s: hasher(path, s), spans))
    return time.perf_counter() - start, digests


def bench_fingerprint(ctx: Context) -> Result:
    """Best of ROUNDS for each side, alternating."""
    size = ctx.sizes.fingerprint
    path = ctx.files.get(size)
    spans = [(a, min(a + RANGE, size)) for a in range(0, size, RANGE)]
    runs: dict[str, list[float]] = {"baseline": [], "ours": []}
    results: dict[str, list[str]] = {}
    for _ in range(ROUNDS):
        for kind, hasher in (("baseline", baseline_range), ("ours", ours_range)):
            elapsed, results[kind] = timed(hasher, path, spans)
            runs[kind].append(elapsed)
    if results["ours"] != results["baseline"]:
        raise RuntimeError("fingerprint: ours and the baseline disagree on the digests")
    ours, baseline = min(runs["ours"]), min(runs["baseline"])
    ratio = baseline / ours
    return Result(
        name="fingerprint",
        unit="s",
        ours=ours,
        baseline=baseline,
        ratio=ratio,
        target=f"base/ours >= {TARGET}",
        passed=ratio >= TARGET,
        extra={
            "size": size,
            "ours_runs": runs["ours"],
            "baseline_runs": runs["baseline"],
            "ours_mib_s": size / MiB / ours,
            "baseline_mib_s": size / MiB / baseline,
        },
    )
