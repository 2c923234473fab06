"""``aws-*``: partdeck beside ``aws s3 cp`` on the same moto server, in one run.

Both clients upload to one fresh moto server (a child process) on loopback, one after
the other, with 16 MiB parts and 8 requests at a time (aws: ``multipart_chunksize =
16MB``, ``max_concurrent_requests = 8``; partdeck: ``--part-size 16MiB
--parts-in-flight 8``, in-process engine). Client CPU is user + system of the client's
process tree (``wait4``), so moto is not counted in it; the server's CPU is moto's own
(``/proc/PID/stat``) over each client's upload. Both send checksums the server is asked
to check (aws: CRC32, its default; partdeck: CRC64NVME, its default).

* ``aws-cpu``: 1 GiB (256 MiB with --quick): client CPU-s per GiB, ours / aws.
  Target <= 0.6.
* ``aws-wall``: the same uploads' wall time, ours / aws. Target <= 1.0.
* ``aws-server``: moto's CPU while serving each, ours / aws. Target <= 1.0.
* ``aws-small``: 100 files of 4 MiB (20 with --quick) in one batch (``partdeck upload
  F...``; ``aws s3 cp DIR --recursive``): client CPU, ours / aws; wall in ``extra``.
  Target <= 1.0 for both.

The three ``aws-*`` figures of the big file share one pair of uploads, measured the
first time one of them is asked for in a run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from tests.bench.common import (
    Context,
    GiB,
    MiB,
    Result,
    Skipped,
    check_child,
    cli_env,
    run_child,
    sink_config,
)
from tests.bench.cpu import find_aws
from tests.support.moto import moto_server
from tests.support.procs import command_lines, cpu_seconds

BUCKET = "bench"
KEY = "AK"
SECRET = "SK"
AWS_CONFIG = (
    "[default]\ns3 =\n  multipart_chunksize = 16MB\n  multipart_threshold = 8MB\n"
    "  max_concurrent_requests = 8\n"
)
_RUNS: dict[tuple[Path, str], dict[str, Any]] = {}
"""Measurements already taken in this run, by (work dir, kind)."""


def _moto_pid(port: int) -> int:
    """The pid of the moto server listening on ``port`` (from /proc)."""
    for pid, argv in command_lines():
        if b"moto.server" in argv and str(port).encode() in argv:
            return pid
    raise RuntimeError(f"aws: no moto server process on port {port}")


def _aws_env(work: Path) -> dict[str, str]:
    config = work / "aws-config"
    config.write_text(AWS_CONFIG)
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-credentials"),
    }


def _ours_cmd(files: list[Path], config: Path, state: Path) -> list[str]:
    return [
        sys.executable,
        "-m", "tui", "upload", *map(str, files), "--account", "moto",
        "--part-size", "16MiB", "--parts-in-flight", "8",
        "--config", str(config), "--state-dir", str(state), "--json",
    ]  # fmt: skip


def _measure(ctx: Context, kind: str) -> dict[str, Any]:
    """One upload by each client (``big``: one file; ``small``: a batch), with the
    client's CPU, its wall time and moto's CPU over it."""
    cached = _RUNS.get((ctx.tmp, kind))
    if cached is not None:
        return cached
    aws = find_aws()
    if aws is None:
        raise LookupError("aws cli not found; nothing to compare with")
    work = ctx.tmp / f"aws-{kind}"
    work.mkdir(exist_ok=True)
    if kind == "big":
        files = [ctx.files.get(256 * MiB if ctx.quick else GiB)]
    else:
        source = work / "small"
        source.mkdir(exist_ok=True)
        one = ctx.files.get(4 * MiB)
        files = []
        for n in range(20 if ctx.quick else 100):
            link = source / f"f{n:03}.bin"
            if not link.exists():
                os.link(one, link)
            files.append(link)
    figures: dict[str, Any] = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
    with moto_server() as moto:
        boto3.client(
            "s3", endpoint_url=moto.url, region_name="us-east-1",
            aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        ).create_bucket(Bucket=BUCKET)  # fmt: skip
        pid = _moto_pid(moto.port)
        config = sink_config(work / "config.toml", moto.url, account="moto", bucket=BUCKET)
        runs = {
            "ours": (_ours_cmd(files, config, work / "state"), cli_env()),
            "aws": (
                [aws, "s3", "cp", str(files[0]), f"s3://{BUCKET}/aws/{files[0].name}"]
                if kind == "big"
                else [aws, "s3", "cp", str(files[0].parent), f"s3://{BUCKET}/aws/", "--recursive"],
                _aws_env(work),
            ),
        }
        for who, (cmd, env) in runs.items():
            served0, t0 = cpu_seconds(pid), time.perf_counter()
            if who == "aws":
                cmd = [*cmd, "--endpoint-url", moto.url, "--no-progress", "--only-show-errors"]
            report = run_child(cmd, env, work / who)
            check_child(report, f"{who} upload")
            figures[who] = {
                "cpu_s": float(report["user"]) + float(report["sys"]),
                "wall_s": time.perf_counter() - t0,
                "server_cpu_s": cpu_seconds(pid) - served0,
            }
    _RUNS[(ctx.tmp, kind)] = figures
    return figures


def _figure(ctx: Context, kind: str, name: str, field: str, target: float) -> Result | Skipped:
    try:
        runs = _measure(ctx, kind)
    except LookupError as exc:
        return Skipped(name, str(exc))
    ours, theirs = runs["ours"][field], runs["aws"][field]
    per_gib = kind == "big" and field == "cpu_s"
    scale = runs["bytes"] / GiB if per_gib else 1.0
    ratio = ours / theirs if theirs else float("nan")
    return Result(
        name=name,
        unit="CPU-s/GiB" if per_gib else ("s" if field == "wall_s" else "CPU-s"),
        ours=ours / scale,
        baseline=theirs / scale,
        ratio=ratio,
        target=f"ratio <= {target:.1f} (aws s3 cp)",
        passed=ratio <= target,
        extra=runs,
    )


def bench_aws_cpu(ctx: Context) -> Result | Skipped:
    """Client CPU per GiB of a 1 GiB upload, ours / aws."""
    return _figure(ctx, "big", "aws-cpu", "cpu_s", 0.6)


def bench_aws_wall(ctx: Context) -> Result | Skipped:
    """Wall time of the same upload, ours / aws."""
    return _figure(ctx, "big", "aws-wall", "wall_s", 1.0)


def bench_aws_server(ctx: Context) -> Result | Skipped:
    """moto's CPU serving the same upload, ours / aws."""
    return _figure(ctx, "big", "aws-server", "server_cpu_s", 1.0)


def bench_aws_small(ctx: Context) -> Result | Skipped:
    """Client CPU of a batch of small files, ours / aws (wall in ``extra``)."""
    return _figure(ctx, "small", "aws-small", "cpu_s", 1.0)


def bench_aws_small_wall(ctx: Context) -> Result | Skipped:
    """Wall time of the same batch, ours / aws."""
    return _figure(ctx, "small", "aws-small-wall", "wall_s", 1.0)
