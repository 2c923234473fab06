"""Run the benchmarks: ``python -m tests.bench [NAME ...] [--quick] [--only NAME] [--json PATH]``.

A NAME given alone is the same as ``--only NAME``; with none (and no ``--only``) every
benchmark runs.

Prints one line per figure (ours, baseline, ratio, target, PASS/MISS). A MISS does not
fail the run; the exit status is 1 only when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from tests.bench.aws import (
    bench_aws_cpu,
    bench_aws_server,
    bench_aws_small,
    bench_aws_small_wall,
    bench_aws_wall,
)
from tests.bench.common import Context, DataFiles, Result, Sizes, Skipped
from tests.bench.cpu import bench_cpu
from tests.bench.fingerprint import bench_fingerprint
from tests.bench.rss import bench_rss
from tests.bench.service import bench_service_attach, bench_service_event, bench_service_idle
from tests.bench.startup import bench_startup
from tests.bench.ui import bench_ui_cpu, bench_ui_parts
from tests.bench.ui_attach import bench_ui_attach
from tests.bench.ui_history import bench_ui_idle, bench_ui_open
from tests.bench.ui_service import bench_ui_cross, bench_ui_service_cpu
from tests.bench.upload import bench_upload

Bench = Callable[[Context], Result | Skipped]

BENCHES: dict[str, Bench] = {
    "upload": bench_upload,
    "fingerprint": bench_fingerprint,
    "rss": bench_rss,
    "cpu": bench_cpu,
    "ui-parts": bench_ui_parts,
    "ui-cpu": bench_ui_cpu,
    "ui-open": bench_ui_open,
    "ui-idle": bench_ui_idle,
    "service-event": bench_service_event,
    "service-attach": bench_service_attach,
    "service-idle": bench_service_idle,
    "ui-attach": bench_ui_attach,
    "ui-service-cpu": bench_ui_service_cpu,
    "ui-cross": bench_ui_cross,
    "startup": bench_startup,
    "aws-cpu": bench_aws_cpu,
    "aws-wall": bench_aws_wall,
    "aws-server": bench_aws_server,
    "aws-small": bench_aws_small,
    "aws-small-wall": bench_aws_small_wall,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"run only these benchmarks ({', '.join(BENCHES)})")  # fmt: skip
    parser.add_argument("--only", choices=sorted(BENCHES), action="append",
                        help="run only this benchmark (repeatable)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHES]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)} (choose from {', '.join(BENCHES)})")
    return args


def run_one(name: str, ctx: Context) -> dict[str, object]:
    """Run one benchmark, print its line, return its JSON record (a crash is recorded too)."""
    start = time.perf_counter()
    try:
        outcome = BENCHES[name](ctx)
    except Exception as exc:
        traceback.print_exc()
        print(f"{name:<12} ERROR {type(exc).__name__}: {exc}", flush=True)
        return {"name": name, "verdict": "ERROR", "error": f"{type(exc).__name__}: {exc}"}
    print(outcome.line(), flush=True)
    record = outcome.as_dict()
    record["seconds"] = round(time.perf_counter() - start, 2)
    return record


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; 1 when one crashed, else 0."""
    args = parse_args(argv)
    names = [*args.names, *(args.only or [])] or list(BENCHES)
    sizes = Sizes.pick(args.quick)
    records: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="partdeck-bench-") as tmp:
        ctx = Context(sizes=sizes, files=DataFiles(Path(tmp)), tmp=Path(tmp), quick=args.quick)
        for name in names:
            records.append(run_one(name, ctx))
    if args.json is not None:
        report = {"quick": args.quick, "sizes": asdict(sizes), "results": records}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(r["verdict"] == "ERROR" for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
