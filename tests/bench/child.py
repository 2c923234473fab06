"""Run one command as the only child of a fresh, small process and report its resources.

``python -m tests.bench.child --stdout FILE --stderr FILE -- CMD...`` prints one JSON line:
the return code, wall seconds, user and system CPU seconds, ``maxrss_kib`` from ``wait4``
(which can include this helper's own small RSS, inherited at spawn) and ``hwm_kib``, the
last VmHWM read from /proc while the command ran (the command's own peak, sampled).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

POLL = 0.02
"""Seconds between VmHWM samples."""


def vm_hwm(pid: int) -> int:
    """The process's peak RSS in KiB so far, or 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(cmd: list[str], stdout: str, stderr: str) -> dict[str, float | int]:
    """Run ``cmd`` to completion; its resource usage as a dict."""
    start = time.perf_counter()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
    hwm = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        hwm = max(hwm, vm_hwm(proc.pid))
        time.sleep(POLL)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": proc.returncode,
        "wall": time.perf_counter() - start,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
        "hwm_kib": hwm,
    }


def main() -> None:
    """Parse the command line, run the command, print the JSON report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdout", default=os.devnull)
    parser.add_argument("--stderr", default=os.devnull)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    print(json.dumps(run(cmd, args.stdout, args.stderr)), flush=True)


if __name__ == "__main__":
    main()
