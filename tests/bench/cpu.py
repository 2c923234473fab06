"""``cpu``: client CPU seconds per GiB, ``partdeck upload`` vs ``aws s3 cp``, both to moto.

Informative only. Both clients use 16 MiB parts; CPU is user + system time of the client
process (and anything it waited for) from ``wait4``, so moto's own work is not counted.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3

from tests.bench.common import (
    Context,
    GiB,
    Result,
    Skipped,
    check_child,
    cli_available,
    cli_env,
    cli_upload_cmd,
    run_child,
    sink_config,
)
from tests.support.moto import moto_server

BUCKET = "bench"
KEY = "AK"
SECRET = "SK"
PART_SIZE = "16MiB"
AWS_CONFIG = "[default]\ns3 =\n  multipart_chunksize = 16MB\n  multipart_threshold = 8MB\n"


def find_aws() -> str | None:
    """The real ``aws`` executable; a pyenv shim is resolved so its startup is not counted."""
    found = shutil.which("aws") or (
        "/root/.pyenv/shims/aws" if Path("/root/.pyenv/shims/aws").exists() else None
    )
    if found is None or "/shims/" not in found:
        return found
    pyenv = shutil.which("pyenv") or str(Path(found).parent.parent / "bin" / "pyenv")
    try:
        done = subprocess.run(
            [pyenv, "which", "aws"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return found
    return done.stdout.strip() or found


def _cpu(report: dict[str, Any]) -> float:
    return float(report["user"]) + float(report["sys"])


def _object_size(url: str, key: str) -> int:
    s3 = boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET,
    )  # fmt: skip
    return int(s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"])


def _run_aws(aws: str, path: Path, url: str, work: Path) -> dict[str, Any]:
    config = work / "aws-config"
    config.write_text(AWS_CONFIG)
    env = {
        **cli_env(),
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-credentials"),
    }
    cmd = [aws, "s3", "cp", str(path), f"s3://{BUCKET}/aws-{path.name}", "--endpoint-url", url]
    report = run_child([*cmd, "--no-progress"], env, work / "aws")
    check_child(report, "aws s3 cp")
    return report


def _run_ours(path: Path, url: str, work: Path) -> dict[str, Any]:
    config = sink_config(work / "config.toml", url, account="moto", bucket=BUCKET)
    cmd = cli_upload_cmd(path, "moto", PART_SIZE, config, work / "state")
    report = run_child(cmd, cli_env(), work / "ours")
    check_child(report, "partdeck upload")
    return report


def bench_cpu(ctx: Context) -> Result | Skipped:
    """One upload each to a fresh moto server; CPU-s/GiB and the ratio ours / aws."""
    aws = find_aws()
    if aws is None:
        return Skipped("cpu", "aws cli not found; nothing to compare with")
    if not cli_available():
        return Skipped("cpu", "tui/cli/main.py does not exist yet; partdeck upload cannot run")
    size = ctx.sizes.cpu
    path = ctx.files.get(size)
    work = ctx.tmp / "cpu"
    work.mkdir(exist_ok=True)
    with moto_server() as moto:
        boto3.client(
            "s3", endpoint_url=moto.url, region_name="us-east-1",
            aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        ).create_bucket(Bucket=BUCKET)  # fmt: skip
        ours = _run_ours(path, moto.url, work)
        theirs = _run_aws(aws, path, moto.url, work)
        for key in (path.name, f"aws-{path.name}"):
            if _object_size(moto.url, key) != size:
                raise RuntimeError(f"cpu: s3://{BUCKET}/{key} is not {size:,} bytes")
    gib = size / GiB
    ours_cpu, aws_cpu = _cpu(ours) / gib, _cpu(theirs) / gib
    return Result(
        name="cpu",
        unit="CPU-s/GiB",
        ours=ours_cpu,
        baseline=aws_cpu,
        ratio=ours_cpu / aws_cpu,
        target="info (ours/aws)",
        passed=None,
        extra={
            "size": size,
            "aws": aws,
            "ours_user_s": ours["user"],
            "ours_sys_s": ours["sys"],
            "ours_wall_s": ours["wall"],
            "aws_user_s": theirs["user"],
            "aws_sys_s": theirs["sys"],
            "aws_wall_s": theirs["wall"],
        },
    )
