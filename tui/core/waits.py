"""Waiting on an event with a time limit, without losing a cancellation.

Python 3.11's ``asyncio.wait_for`` swallows the cancellation of the task that awaits it
when the awaited thing finishes in the same turn of the loop (fixed in 3.12,
python/cpython#86296). Waiting on an event that fires many times a second (the service's
records) made that likely: a ^C on a following upload was lost and the upload went on.
``asyncio.timeout`` tells its own timeout from a cancellation from outside.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """True once ``event`` is set, False after ``seconds``; a cancellation always goes on."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
