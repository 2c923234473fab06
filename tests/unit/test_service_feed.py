"""The service's event feed: gapless numbers, since=N, a window that says when it lost some."""

from __future__ import annotations

import asyncio

from tui.service.feed import EventFeed


def test_records_are_numbered_without_gaps_and_since_gives_what_follows() -> None:
    feed = EventFeed(window=100)
    for n in range(10):
        assert feed.publish({"n": n}) == n + 1
    assert feed.seq == 10
    assert [r["seq"] for r in feed.since(4) or []] == [5, 6, 7, 8, 9, 10]
    assert feed.since(10) == []
    assert feed.since(99) == []


def test_a_client_further_back_than_the_window_is_told_to_take_a_snapshot() -> None:
    feed = EventFeed(window=5)
    for n in range(12):
        feed.publish({"n": n})
    assert [r["seq"] for r in feed.since(7) or []] == [8, 9, 10, 11, 12]
    assert feed.since(6) is None  # record 7 is gone


async def test_a_stream_waits_for_new_records_and_ends_when_closed() -> None:
    feed = EventFeed()
    feed.publish({"n": 0})
    got: list[list[int]] = []

    async def read() -> None:
        async for batch in feed.batches(0):
            got.append([record["seq"] for record in batch])

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.01)
    feed.publish({"n": 1})
    feed.publish({"n": 2})
    await asyncio.sleep(0.01)
    feed.close()
    await asyncio.wait_for(reader, 1)
    assert got == [[1], [2, 3]]  # the two published in one turn go out as one batch


async def test_a_quiet_stream_says_it_is_there_and_a_lost_one_is_reset() -> None:
    feed = EventFeed(window=2)
    stream = feed.batches(0, heartbeat=0.01)
    assert await anext(stream) == [{"heartbeat": 0}]
    for n in range(5):
        feed.publish({"n": n})
    assert await anext(feed.batches(1)) == [{"reset": True, "seq": 5}]
