"""What every benchmark shares: results, sizes, test files and child-process runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (``python -m`` runs from here)."""
MiB = 1024 * 1024
GiB = 1024 * MiB
WRITE_CHUNK = 8 * MiB
CHILD_TIMEOUT = 300.0
"""Seconds any one child process may run before the benchmark gives up on it."""


@dataclass(frozen=True)
class Sizes:
    """File and part sizes for one run of the suite."""

    upload: int
    upload_part: int
    fingerprint: int
    rss: int
    cpu: int

    @classmethod
    def pick(cls, quick: bool) -> Sizes:
        """Smoke-run sizes when ``quick``, else the full ones."""
        if quick:
            return cls(256 * MiB, 32 * MiB, 256 * MiB, 512 * MiB, 64 * MiB)
        return cls(1 * GiB, 64 * MiB, 1 * GiB, 2 * GiB, 256 * MiB)


@dataclass
class Result:
    """One figure: our value against a baseline measured in the same run."""

    name: str
    unit: str
    ours: float
    baseline: float
    ratio: float
    target: str
    """Human-readable target, e.g. ``ratio >= 0.90``; ``info`` when there is none."""
    passed: bool | None
    """None for informative figures."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """PASS, MISS or INFO."""
        if self.passed is None:
            return "INFO"
        return "PASS" if self.passed else "MISS"

    def line(self) -> str:
        """One aligned line for the terminal."""
        return (
            f"{self.name:<12} ours {self.ours:>9.3f} {self.unit:<9} "
            f"baseline {self.baseline:>9.3f} {self.unit:<9} ratio {self.ratio:>6.3f}   "
            f"target {self.target:<22} {self.verdict}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON data."""
        return {
            "name": self.name,
            "unit": self.unit,
            "ours": self.ours,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "verdict": self.verdict,
            "extra": self.extra,
        }


@dataclass
class Skipped:
    """A benchmark that could not run here, and why."""

    name: str
    reason: str

    def line(self) -> str:
        """One line for the terminal."""
        return f"{self.name:<12} SKIP  {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """The skip as plain JSON data."""
        return {"name": self.name, "verdict": "SKIP", "reason": self.reason}


class DataFiles:
    """Random test files in one directory, made once per size and reused."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made: dict[int, Path] = {}

    def get(self, size: int) -> Path:
        """A file of ``size`` random bytes (written in 8 MiB chunks, so it is page-cached)."""
        path = self._made.get(size)
        if path is None:
            path = self.directory / f"data-{size}.bin"
            with open(path, "wb") as f:
                left = size
                while left:
                    n = min(WRITE_CHUNK, left)
                    f.write(os.urandom(n))
                    left -= n
            self._made[size] = path
        return path


@dataclass(frozen=True)
class Context:
    """What the runner hands every benchmark."""

    sizes: Sizes
    files: DataFiles
    tmp: Path
    quick: bool


def run_child(
    cmd: Sequence[str], env: dict[str, str], logs: Path, timeout: float = CHILD_TIMEOUT
) -> dict[str, Any]:
    """Run ``cmd`` under the ``child`` helper; its resource report plus its output."""
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / "stdout", logs / "stderr"
    helper = [sys.executable, "-m", "tests.bench.child", "--stdout", str(out)]
    helper += ["--stderr", str(err), "--", *cmd]
    done = subprocess.run(
        helper, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["stdout"] = out.read_text(errors="replace")
    report["stderr"] = err.read_text(errors="replace")
    return report


def check_child(report: dict[str, Any], what: str) -> None:
    """Raise with the child's output when it failed."""
    if report["returncode"] != 0:
        tail = (report["stderr"] or report["stdout"])[-2000:]
        raise RuntimeError(f"{what} exited {report['returncode']}:\n{tail}")


def cli_available() -> bool:
    """True once ``python -m tui`` has a command line to run."""
    return (ROOT / "tui" / "cli" / "main.py").exists()


def sink_config(path: Path, url: str, account: str = "sink", bucket: str = "bench") -> Path:
    """Write a partdeck config with one S3 account at ``url``; return its path."""
    path.write_text(
        "[engine]\n"
        "parts_in_flight = 8\n"
        "parts_per_session = 8\n"
        f"[accounts.{account}]\n"
        'provider = "s3"\n'
        f'endpoint_url = "{url}"\n'
        f'bucket = "{bucket}"\n'
        'access_key_env = "BENCH_AK"\n'
        'secret_key_env = "BENCH_SK"\n'
    )
    return path


def cli_upload_cmd(
    file: Path, account: str, part_size: str, config: Path, state_dir: Path
) -> list[str]:
    """The ``partdeck upload`` command line the subprocess benchmarks run."""
    return [
        sys.executable,
        "-m",
        "tui",
        "upload",
        str(file),
        "--account",
        account,
        "--part-size",
        part_size,
        "--parts-in-flight",
        "8",
        "--config",
        str(config),
        "--state-dir",
        str(state_dir),
        "--json",
    ]


def cli_env() -> dict[str, str]:
    """The environment for a ``partdeck`` child: the keys the config names, and the engine
    in the child itself (these figures are one process's own memory and CPU; the service
    has benchmarks of its own)."""
    return {
        **os.environ,
        "BENCH_AK": "bench-access",
        "BENCH_SK": "bench-secret",
        "PARTDECK_SERVICE": "inline",
    }
