"""The proof suites' bookkeeping: the mode, the seed, and the counts they print.

Every suite draws its random choices from one seed (printed, and repeatable with
``--proof-seed``), adds what it tried to a ``Tally``, and the tally is printed at the
end of the test session, so a reader sees what was tried and how often.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

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
