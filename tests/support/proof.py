"""The proof suites' bookkeeping: the mode, the seed, and the counts they print.

Every suite draws its random choices from one seed (printed, and repeatable with
``--proof-seed``), adds what it tried to a ``Tally``, and the tally is printed at the
end of the test session, so a reader sees what was tried and how often.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pytest

Mode = Literal["short", "full"]


@dataclass
class Tally:
    """What the proof suites tried and found, by suite, in the order it was added."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, suite: str, name: str, n: int = 1) -> None:
        """Count ``n`` more of ``name`` in ``suite`` (0 makes the count show even when none)."""
        self.counts.setdefault(suite, Counter())[name] += n

    def figure(self, suite: str, name: str, value: str) -> None:
        """Show a measured figure (already formatted, with its unit) on the suite's line."""
        self.figures.setdefault(suite, {})[name] = value

    def note(self, suite: str, line: str) -> None:
        """Keep one line about one run, printed under the suite's counts."""
        self.lines.setdefault(suite, []).append(line)

    def as_data(self) -> dict[str, object]:
        """Plain dicts and lists, as a pytest-xdist worker sends them to the controller."""
        return {
            "counts": {suite: dict(c) for suite, c in self.counts.items()},
            "lines": self.lines,
            "figures": self.figures,
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add what another process (an xdist worker) tallied."""
        for suite, counts in data.get("counts", {}).items():
            self.counts.setdefault(suite, Counter()).update(counts)
        for suite, lines in data.get("lines", {}).items():
            self.lines.setdefault(suite, []).extend(lines)
        for suite, figures in data.get("figures", {}).items():
            self.figures.setdefault(suite, {}).update(figures)

    def report(self, *, verbose: bool) -> list[str]:
        """The printed summary: a line of counts per suite, then (verbose) each run."""
        out: list[str] = []
        for suite in sorted(set(self.counts) | set(self.lines) | set(self.figures)):
            counts = self.counts.get(suite, Counter())
            shown = [f"{k} {v}" for k, v in counts.items()]
            shown += [f"{k} {v}" for k, v in self.figures.get(suite, {}).items()]
            out.append(f"{suite}: " + ", ".join(shown))
            if verbose:
                out += [f"    {line}" for line in self.lines.get(suite, [])]
        return out


@dataclass(frozen=True)
class Proof:
    """The run's mode and seed, and the tally every suite adds to."""

    mode: Mode
    seed: int
    tally: Tally

    def runs(self, short: int, full: int) -> int:
        """How many runs a suite makes in this mode."""
        return full if self.mode == "full" else short

    def rng(self, *labels: object) -> random.Random:
        """A random source for one suite or run, fixed by the seed and ``labels``."""
        return random.Random(":".join(map(str, (self.seed, *labels))))


SEED_ENV = "PARTDECK_PROOF_SEED"
"""The seed when ``--proof-seed`` is not given; the test session's controller sets it
before pytest-xdist starts its workers, so every worker draws from the same seed."""
_KEY = pytest.StashKey[Proof]()


def choose_seed(config: pytest.Config) -> int:
    """The run's seed: ``--proof-seed``, else ``$PARTDECK_PROOF_SEED``, else a new one,
    which is then put in the environment for the processes this one starts."""
    seed = config.getoption("proof_seed")
    if seed is None:
        seed = int(os.environ.get(SEED_ENV) or time.time_ns() % 1_000_000)
    os.environ[SEED_ENV] = str(seed)
    return int(seed)


def proof_of(config: pytest.Config) -> Proof:
    """This test session's proof mode, seed and tally (made on first use)."""
    if _KEY not in config.stash:
        mode = cast(Mode, config.getoption("proof"))
        config.stash[_KEY] = Proof(mode, choose_seed(config), Tally())
    return config.stash[_KEY]


def held_proof(config: pytest.Config) -> Proof | None:
    """The session's proof, if any suite has used it."""
    return config.stash.get(_KEY, None)
