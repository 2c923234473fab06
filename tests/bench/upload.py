"""``upload``: the real Engine against the sink vs raw parallel httpx PUTs of the same parts.

The baseline does the minimum partdeck does per part (xxh3_128 + CRC64NVME in one read,
then a streamed PUT of the part's checksum header re-hashing with xxh3 in 1 MiB
``pread`` chunks) with no journal, events or
state machine. Both send to the same sink; ours and the baseline alternate, best of 2.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import xxhash

from tests.bench.common import Context, MiB, Result
from tests.bench.sink import sink_server, stats
from tui.core.digest import hash_range
from tui.core.engine import Engine
from tui.core.journal import Journal
from tui.core.model import SessionState
from tui.core.settings import EngineSettings
from tui.core.transfer import make_client
from tui.providers.s3 import S3Provider

IN_FLIGHT = 8
CHUNK = 1 * MiB
ROUNDS = 2
TARGET = 0.9


async def run_ours(path: Path, url: str, part_size: int) -> float:
    """Seconds for the Engine to plan and run one upload of ``path`` to the sink."""
    with tempfile.TemporaryDirectory(prefix="bench-state-") as state:
        journal = Journal.open(Path(state))
        client = make_client(IN_FLIGHT)
        provider = S3Provider(
            client, bucket="bench", access_key="bench", secret_key="bench", endpoint_url=url
        )
        settings = EngineSettings(parts_in_flight=IN_FLIGHT, parts_per_session=IN_FLIGHT)
        engine = Engine(journal, lambda _account: provider, client, settings)
        try:
            start = time.perf_counter()
            session = await engine.plan(path, "sink", part_size)
            session = await engine.run(session.id)
            elapsed = time.perf_counter() - start
        finally:
            await engine.close()
            await client.aclose()
            journal.close()
    if session.state != SessionState.COMPLETED:
        raise RuntimeError(f"engine upload ended {session.state}: {session.error}")
    return elapsed


def _read_and_hash(fd: int, offset: int, n: int, fingerprint: xxhash.xxh3_128) -> bytes:
    data = os.pread(fd, n, offset)
    fingerprint.update(data)
    return data


async def _body(fd: int, start: int, end: int, expected: str) -> AsyncIterator[bytes]:
    """The range in 1 MiB chunks read in a thread, re-hashed as it goes."""
    fingerprint = xxhash.xxh3_128()
    offset = start
    while offset < end:
        n = min(CHUNK, end - offset)
        data = await asyncio.to_thread(_read_and_hash, fd, offset, n, fingerprint)
        offset += len(data)
        yield data
    if fingerprint.hexdigest() != expected:
        raise RuntimeError("file changed during the baseline upload")


async def _put_part(
    client: httpx.AsyncClient, url: str, path: Path, fd: int, number: int, span: tuple[int, int]
) -> None:
    start, end = span
    digests = await asyncio.to_thread(hash_range, str(path), start, end, ("crc64nvme",))
    headers = {
        "Content-Length": str(end - start),
        "x-amz-checksum-crc64nvme": digests.crcs["crc64nvme"],
    }
    response = await client.put(
        f"{url}/bench/{path.name}?partNumber={number}&uploadId=baseline",
        content=_body(fd, start, end, digests.xxh3),
        headers=headers,
    )
    response.raise_for_status()


async def run_baseline(path: Path, url: str, part_size: int, size: int) -> float:
    """Seconds for raw parallel PUTs of every part of ``path``, IN_FLIGHT at a time."""
    spans = [(a, min(a + part_size, size)) for a in range(0, size, part_size)]
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    slots = asyncio.Semaphore(IN_FLIGHT)
    fd = os.open(path, os.O_RDONLY)

    async def one(number: int, span: tuple[int, int]) -> None:
        async with slots:
            await _put_part(client, url, path, fd, number, span)

    try:
        async with httpx.AsyncClient(limits=limits, timeout=300.0) as client:
            start = time.perf_counter()
            await asyncio.gather(*(one(n, s) for n, s in enumerate(spans, start=1)))
            return time.perf_counter() - start
    finally:
        os.close(fd)


def _timed(kind: str, path: Path, url: str, part_size: int) -> float:
    """One run of ``kind`` in a fresh event loop, checked against the sink's byte count."""
    size = path.stat().st_size
    before = stats(url)["bytes"]
    if kind == "ours":
        elapsed = asyncio.run(run_ours(path, url, part_size))
    else:
        elapsed = asyncio.run(run_baseline(path, url, part_size, size))
    received = stats(url)["bytes"] - before
    if received != size:
        raise RuntimeError(f"{kind}: the sink received {received:,} bytes of {size:,}")
    return elapsed


def bench_upload(ctx: Context) -> Result:
    """Best of ROUNDS for each side, alternating, against one sink process."""
    size, part_size = ctx.sizes.upload, ctx.sizes.upload_part
    path = ctx.files.get(size)
    times: dict[str, list[float]] = {"baseline": [], "ours": []}
    with sink_server() as url:
        for _ in range(ROUNDS):
            for kind in times:
                times[kind].append(_timed(kind, path, url, part_size))
    ours, baseline = min(times["ours"]), min(times["baseline"])
    ratio = baseline / ours
    return Result(
        name="upload",
        unit="s",
        ours=ours,
        baseline=baseline,
        ratio=ratio,
        target=f"base/ours >= {TARGET}",
        passed=ratio >= TARGET,
        extra={
            "size": size,
            "part_size": part_size,
            "ours_runs": times["ours"],
            "baseline_runs": times["baseline"],
            "ours_mib_s": size / MiB / ours,
            "baseline_mib_s": size / MiB / baseline,
        },
    )
