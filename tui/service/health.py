"""What a long-lived service holds: memory, descriptors, threads, tasks and tracked
objects, as ``/resources`` reports them (for operators, and for the soak that proves a
service running for days stays flat). Linux (/proc)."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _descriptors() -> tuple[int, int]:
    """(open file descriptors, of which sockets)."""
    fds = sockets = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the listing's own descriptor, closed already
            continue
        fds += 1
        sockets += target.startswith("socket:")
    return fds, sockets


def task_names() -> list[str]:
    """The running loop's tasks by name, each with where its coroutine waits (a task left
    behind by a session shows here)."""
    names = []
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=1)
        where = f" at {frames[0].f_code.co_qualname}:{frames[0].f_lineno}" if frames else ""
        names.append(f"{task.get_name()}{where}")
    return sorted(names)


def resources(*, collect: bool = True) -> dict[str, int]:
    """This process now: ``rss_kib``, ``fds``, ``sockets``, ``threads``, ``tasks`` (of the
    running loop) and ``objects`` the garbage collector tracks (after a full collection
    when ``collect``, so that growth means something is kept)."""
    if collect:
        gc.collect()
    fds, sockets = _descriptors()
    return {
        "rss_kib": _status("VmRSS"),
        "fds": fds,
        "sockets": sockets,
        "threads": _status("Threads"),
        "tasks": len(asyncio.all_tasks()),
        "objects": len(gc.get_objects()),
    }
