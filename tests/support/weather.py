"""The soak's weather: each provider's sandbox faults change every few seconds.

Stormy spells (most of the time) break part PUTs (500, reset, stall), expire links early,
answer wrong ETags, lose some Gumroad complete answers and answer Box's commits 202; calm
spells break nothing, so sessions also make progress. The spells come from the seed; the
fault draws within them from each provider's own seeded ``Faults``.
"""

from __future__ import annotations

import dataclasses
import random
import threading

from tui.sandbox.faults import FaultSpec
from tui.sandbox.runner import Sandbox

STORM = FaultSpec(
    part_500=0.05,
    part_reset=0.04,
    part_stall=0.02,
    stall_seconds=0.5,
    expire_early=0.03,
    corrupt_etag=0.04,
)
"""The faults while a provider's weather is stormy (its share of the time: ``STORMY``)."""
STORMY = 0.6
WEATHER_SECONDS = 3.0


class Weather:
    """Changes each provider's faults every few seconds, from the seed, until stopped."""

    def __init__(self, world: Sandbox, rng: random.Random) -> None:
        self.world, self.rng = world, rng
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="soak-weather", daemon=True)
        for provider in self.world.fault_state:
            world.fault_state[provider].reset(FaultSpec(seed=rng.randrange(1 << 30)))

    def _run(self) -> None:
        while not self.stop.is_set():
            for provider in self.world.fault_state:
                faults = self.world.fault_state[provider]
                spec = FaultSpec(seed=faults.spec.seed)
                if self.rng.random() < STORMY:
                    spec = dataclasses.replace(
                        STORM,
                        seed=faults.spec.seed,
                        complete_lost=int(provider == "gumroad" and self.rng.random() < 0.3),
                        commit_202=int(provider == "box"),
                    )
                faults.spec = spec
            self.stop.wait(WEATHER_SECONDS)

    def __enter__(self) -> Weather:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        for provider in self.world.fault_state:
            self.world.fault_state[provider].spec = FaultSpec()
