"""``rss``: peak RSS of a real ``partdeck upload`` subprocess sending a large file to the sink.

The baseline is a process that only imports the command line (``import tui.cli``), so the
ratio says how much the upload itself adds. Both run under the ``child`` helper.
"""

from __future__ import annotations

import sys

from tests.bench.common import (
    Context,
    MiB,
    Result,
    Skipped,
    check_child,
    cli_available,
    cli_env,
    cli_upload_cmd,
    run_child,
    sink_config,
)
from tests.bench.sink import sink_server, stats

LIMIT_MIB = 100.0
PART_SIZE = "100MiB"


def _peak_mib(report: dict[str, object]) -> float:
    maxrss = report["maxrss_kib"]
    assert isinstance(maxrss, int)
    return maxrss / 1024


def bench_rss(ctx: Context) -> Result | Skipped:
    """Peak RSS (``wait4`` ru_maxrss) of one CLI upload vs of importing the CLI."""
    if not cli_available():
        return Skipped("rss", "tui/cli/main.py does not exist yet; partdeck upload cannot run")
    size = ctx.sizes.rss
    path = ctx.files.get(size)
    work = ctx.tmp / "rss"
    work.mkdir(exist_ok=True)
    env = cli_env()
    base = run_child([sys.executable, "-c", "import tui.cli"], env, work / "base")
    check_child(base, "import tui.cli")
    with sink_server() as url:
        config = sink_config(work / "config.toml", url)
        cmd = cli_upload_cmd(path, "sink", PART_SIZE, config, work / "state")
        before = stats(url)["bytes"]
        ours = run_child(cmd, env, work / "ours")
        check_child(ours, "partdeck upload")
        received = stats(url)["bytes"] - before
    if received != size:
        raise RuntimeError(f"rss: the sink received {received:,} bytes of {size:,}")
    peak, baseline = _peak_mib(ours), _peak_mib(base)
    return Result(
        name="rss",
        unit="MiB",
        ours=peak,
        baseline=baseline,
        ratio=peak / baseline,
        target=f"ours <= {LIMIT_MIB:.0f} MiB",
        passed=peak <= LIMIT_MIB,
        extra={
            "size": size,
            "part_size": PART_SIZE,
            "ours_vmhwm_mib": int(ours["hwm_kib"]) / 1024,
            "baseline_vmhwm_mib": int(base["hwm_kib"]) / 1024,
            "wall_s": ours["wall"],
            "mib_s": size / MiB / float(ours["wall"]),
            "stdout_tail": str(ours["stdout"])[-500:],
        },
    )
