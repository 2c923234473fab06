"""``startup``: CPU seconds (user + system) of one short ``partdeck`` process, start to exit.

Two figures, each the median of several runs, one after the other:

- ``startup-version``: ``partdeck --version``.
- ``startup-sessions``: ``partdeck sessions`` on a state dir whose journal holds 600
  finished sessions of 3 parts each (the listing goes to a file), with no config file and
  ``PARTDECK_SERVICE=inline`` (``sessions`` reads the journal itself either way).

The command is the venv's ``partdeck`` console script (``python -m tui`` where there is
none). CPU is the child's own user + system time from ``wait4``, nothing of this process.
``PYTHONDONTWRITEBYTECODE`` is dropped from the children's environment, so the figures are
those of an installed partdeck, whose modules are byte-compiled, not compiled at each start.

The baseline is ``aws --version`` (the AWS CLI's own start) when the ``aws`` executable
is on PATH (a pyenv shim is resolved to the real script, so the shim's start is not
counted), else the bare interpreter (``python -c pass``); ``extra["baseline"]`` says which.
``extra["floor"]`` is always the bare interpreter's median, the bound below which no
Python command line can start. Target: ours <= 0.15 CPU-s for each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.bench.common import Context, MiB, Result, Skipped, cli_available
from tests.bench.cpu import find_aws
from tui.core.journal import Journal
from tui.core.model import Part, Session, SessionState

TARGET_CPU_S = 0.15
SESSIONS = 600


def partdeck_cmd() -> list[str]:
    """The ``partdeck`` console script beside this interpreter, else ``python -m tui``."""
    script = Path(sys.executable).parent / "partdeck"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui"]


def cpu_seconds(cmd: Sequence[str], env: dict[str, str], out: Path) -> float:
    """Run ``cmd`` to its end (stdout to ``out``); its own user + system CPU seconds."""
    with open(out, "wb") as stdout:
        proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()  # small: read before waiting, so a full pipe cannot block
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err[-2000:]!r}")
    return usage.ru_utime + usage.ru_stime


def median_cpu(cmd: Sequence[str], env: dict[str, str], out: Path, runs: int) -> list[float]:
    """CPU seconds of ``runs`` runs of ``cmd`` (one warm-up run first, not counted: it
    also writes the bytecode cache, as installing a package does)."""
    cpu_seconds(cmd, env, out)
    return [cpu_seconds(cmd, env, out) for _ in range(runs)]


def make_journal(state_dir: Path, sessions: int) -> None:
    """``sessions`` completed sessions of 3 parts each."""
    journal = Journal.open(state_dir)
    try:
        for index in range(sessions):
            sid = f"{index:012x}" + "5" * 20
            session = Session(sid, "sink", "s3", f"/nowhere/{index}.bin", 3 * MiB, 1, MiB,
                              state=SessionState.COMPLETED, remote={"upload_id": sid},
                              created_at=1e9 + index, updated_at=1e9 + index)  # fmt: skip
            journal.create(session, [Part(sid, n, (n - 1) * MiB, n * MiB) for n in (1, 2, 3)])
    finally:
        journal.close()


def _result(name: str, runs: list[float], base: list[float], extra: dict[str, object]) -> Result:
    ours, baseline = statistics.median(runs), statistics.median(base)
    return Result(
        name=name,
        unit="CPU-s",
        ours=ours,
        baseline=baseline,
        ratio=ours / baseline if baseline else float("inf"),
        target=f"ours <= {TARGET_CPU_S} CPU-s",
        passed=ours <= TARGET_CPU_S,
        extra={**extra, "runs": runs, "baseline_runs": base},
    )


def bench_startup(ctx: Context) -> Result | Skipped:
    """``startup-version`` as the result; ``startup-sessions`` printed before it and kept,
    with its own verdict, in its ``extra["sessions"]``."""
    if not cli_available():
        return Skipped("startup", "no command line yet")
    runs = 5 if ctx.quick else 11
    work = ctx.tmp / "startup"
    state_dir = work / "state"
    make_journal(state_dir, SESSIONS)
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PARTDECK_CONFIG": "",
        "PARTDECK_SERVICE": "inline",
        "XDG_CONFIG_HOME": str(work / "no-config"),
    }
    out = work / "stdout"
    pd = partdeck_cmd()
    floor = median_cpu([sys.executable, "-c", "pass"], env, out, runs)
    aws = find_aws()
    if aws is not None:
        base, base_name = median_cpu([aws, "--version"], env, out, runs), "aws --version"
    else:
        base, base_name = floor, "python -c pass"
    common = {"baseline": base_name, "floor": statistics.median(floor), "floor_runs": floor}
    version = median_cpu([*pd, "--version"], env, out, runs)
    sessions_cmd = [*pd, "sessions", "--state-dir", str(state_dir)]
    sessions = median_cpu(sessions_cmd, env, out, runs)
    listed = len(out.read_text().splitlines())
    if listed != SESSIONS:
        raise RuntimeError(f"partdeck sessions listed {listed} lines, not {SESSIONS}")
    second = _result("startup-sessions", sessions, base, {**common, "sessions": SESSIONS})
    print(second.line(), flush=True)
    first = _result("startup-version", version, base, common)
    first.extra["sessions"] = second.as_dict()
    return first
