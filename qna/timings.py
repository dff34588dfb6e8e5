"""Where a read-repo run spends its time, phase by phase (walk, index, model load, answer, ...).

The CLI's ``--timings`` prints it and ``benchmarks/qna.py`` saves it, so "the first answer took a
minute" can always be split into the part the model costs and the part the index costs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FIRST_ANSWER_PHASES", "PhaseTimes"]

# The phases a first answer waits for; "summaries" is there only when they are built before it.
FIRST_ANSWER_PHASES = ("walk", "index", "summaries", "model load", "retrieval", "answer")


class PhaseTimes:
    """Seconds per named phase, summed when a phase runs more than once, in first-seen order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, seconds: float) -> None:
        """Record one run of a phase (an answer, a summary) that somebody else timed."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.counts[name] = self.counts.get(name, 0) + 1

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as one run of ``name``, even when it ends by an exception (Ctrl-C)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def total(self, names: tuple[str, ...] | None = None) -> float:
        """Seconds spent in these phases (all of them by default)."""
        return sum(s for n, s in self.seconds.items() if names is None or n in names)

    def line(self, names: tuple[str, ...] | None = None) -> str:
        """One line for stderr: each phase's seconds, with a count where it ran several times."""
        parts = []
        for name, seconds in self.seconds.items():
            if names is not None and name not in names:
                continue
            count = self.counts.get(name, 1)
            parts.append(f"{name} {seconds:.1f} s" + (f" ({count}x)" if count > 1 else ""))
        return ", ".join(parts) + f"; total {self.total(names):.1f} s"

    def to_json(self) -> dict[str, float]:
        """Rounded seconds per phase, as the benchmark saves them."""
        return {name: round(seconds, 3) for name, seconds in self.seconds.items()}
