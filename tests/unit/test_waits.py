"""A wait on an event that fires as the waiting task is cancelled: ``wait_set`` lets the
cancellation through (3.11's ``asyncio.wait_for`` loses it: python/cpython#86296)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import pytest

from tui.core.waits import wait_set


async def _set_as_cancelled(wait: Callable[[asyncio.Event], Awaitable[object]]) -> bool:
    """True when the waiting task ended cancelled, the event set in the same loop turn
    as its cancellation (the event's waiter wakes first, then the cancel lands)."""
    event = asyncio.Event()
    task = asyncio.create_task(wait(event))
    await asyncio.sleep(0)  # the task now waits on the event
    event.set()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


async def test_wait_set_keeps_a_cancellation_that_comes_with_the_event() -> None:
    assert await _set_as_cancelled(lambda event: wait_set(event, 10.0))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for keeps it from 3.12")
async def test_wait_for_on_3_11_loses_it() -> None:
    assert not await _set_as_cancelled(lambda event: asyncio.wait_for(event.wait(), 10.0))


async def test_wait_set_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    event.set()
    assert await wait_set(event, 0.01) is True
