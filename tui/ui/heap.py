"""Keeps the cyclic garbage collector off the heap the app built to start.

A full collection walks every tracked object: with the app, its styles and a history
read, that is some 100,000, about 50 ms a time, and the allocations of a busy tick
(strips, segments, styles) bring one every few seconds. Once the app is up, what it
holds is moved to the permanent generation (``gc.freeze``), so later collections walk
only what was made since; objects frozen are still freed when nothing refers to them,
but a cycle among them is not, so the heap is thawed when the app's screen goes (a
process that runs many apps, a test session, frees each one's cycles).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect the garbage of starting up, then freeze what is left."""
    gc.collect()
    gc.freeze()


def thaw_heap() -> None:
    """Give the frozen objects back to the collector (their cycles are freed again)."""
    gc.unfreeze()
