"""The service's event feed: every change gets the next sequence number, and a client that
asks ``since=N`` gets everything after N, or is told to take a new snapshot when N has
fallen out of the window (as Syncthing's events API does)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from tui.core.waits import wait_set

WINDOW = 20_000
"""Records kept for clients that come back: minutes of eight uploads at full speed
(``[service] events_kept``)."""
HEARTBEAT = 15.0
"""Seconds of quiet after which a stream says it is still there."""

Record = dict[str, Any]


class EventFeed:
    """Numbered records in a bounded window, and waiters woken by each new one."""

    def __init__(self, window: int = WINDOW) -> None:
        self._records: deque[Record] = deque(maxlen=window)
        self._seq = 0
        self._changed = asyncio.Event()
        self._closed = False

    @property
    def seq(self) -> int:
        """The number of the newest record (0 before the first)."""
        return self._seq

    @property
    def kept(self) -> int:
        """How many records the window holds now (at most its bound)."""
        return len(self._records)

    def publish(self, record: Record) -> int:
        """Number ``record``, keep it and wake every stream; returns its number."""
        self._seq += 1
        record["seq"] = self._seq
        self._records.append(record)
        self._changed.set()
        self._changed = asyncio.Event()
        return self._seq

    def since(self, seq: int) -> list[Record] | None:
        """Every record after ``seq``; None when some of them are no longer kept."""
        if seq >= self._seq:
            return []
        oldest = self._records[0]["seq"] if self._records else self._seq + 1
        if seq < oldest - 1:
            return None
        records = self._records  # the newest n, read from the end: no copy of the window
        return [records[-i] for i in range(self._seq - seq, 0, -1)]

    def close(self) -> None:
        """End every stream (the service is stopping)."""
        self._closed = True
        self._changed.set()

    async def batches(self, seq: int, heartbeat: float = HEARTBEAT) -> AsyncIterator[list[Record]]:
        """Records after ``seq`` as they come, every record ready at once in one list (a
        client then wakes once for a burst); ``[{"reset": true}]`` when some were missed,
        ``[{"heartbeat": seq}]`` after ``heartbeat`` seconds of quiet; ends on ``close``.
        It never holds a record back to wait for more: that costs every event its wait."""
        while not self._closed:
            batch = self.since(seq)
            if batch is None:
                yield [{"reset": True, "seq": self._seq}]
                return
            if batch:
                yield batch
                seq = batch[-1]["seq"]
                continue
            if not await wait_set(self._changed, heartbeat):
                yield [{"heartbeat": self._seq}]
