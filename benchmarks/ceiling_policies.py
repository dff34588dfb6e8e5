"""What the ceiling's rows say about spending a budget of samples: part of `ceiling.py --report`.

Two questions the search default has to answer, computed exactly from the independent samples
(drawn without replacement, as the unbiased pass@k estimator is; no model, no simulation noise):

- **Cool or hot?** A budget of k samples split between a cool setting and a hot one: the
  expected share of tasks with a passing sample, and the expected seconds per task. On a task
  with c of n cool and d of m hot samples passing, a cool and b hot samples all fail with
  probability C(n-c, a)/C(n, a) · C(m-d, b)/C(m, b).
- **When to stop?** After the first m samples of a setting all failed, the chance that the next
  j solve the task, over the tasks of a set: expected tasks newly solved by samples m+1..m+j,
  divided by the expected tasks still unsolved after m. A small value says a run that has failed
  m times is going nowhere, whatever more samples of that setting it draws.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table

# (set, setting) -> task -> its samples in sample order: ceiling_report.by_task's shape, handed in
# by the report (this module imports nothing of it, so the two never import each other).
Grouped = dict[tuple[str, str], dict[str, list[dict[str, Any]]]]

COOL, HOT = "t0.2", "t1.0-minp0.05"
BUDGETS = (2, 4, 6, 10, 20)
MISSES = (2, 4, 6, 10)
NEXT = 4  # two rounds of two candidates


def _all_fail(n: int, c: int, k: int) -> float:
    """Probability that k of n samples, c of them correct, drawn without replacement, all fail."""
    return math.comb(n - c, k) / math.comb(n, k) if k <= n else 0.0


def _task_figures(samples: Sequence[dict[str, Any]]) -> tuple[int, int, float]:
    return len(samples), sum(bool(s["solved"]) for s in samples), statistics.mean(s["seconds"] for s in samples)


def splits(budget: int) -> list[tuple[str, int]]:
    """The mixes compared at one budget: (name, cool samples); the rest are hot."""
    return [("all cool", budget), ("1 cool, then hot", 1), ("2 cool, then hot", min(2, budget)),
            ("half and half", budget // 2), ("all hot", 0)]


def mix_table(grouped: Grouped) -> Table:
    """Per set: expected coverage (% of tasks) and seconds per task for each cool/hot split of a budget,
    over the tasks that have enough samples of both settings."""
    table = Table(title=f"a budget of k samples split between {COOL} and {HOT}: % of tasks covered, "
                        "seconds per task", title_justify="left")
    for head in ["set", "mix", *(f"k={k}" for k in BUDGETS)]:
        table.add_column(head, justify="left" if head in ("set", "mix") else "right", no_wrap=True)
    for set_name in sorted({s for s, _ in grouped}):
        cool, hot = grouped.get((set_name, COOL), {}), grouped.get((set_name, HOT), {})
        both = {t: (_task_figures(cool[t]), _task_figures(hot[t])) for t in cool.keys() & hot.keys()}
        if not both:
            continue
        for name, _ in splits(max(BUDGETS)):
            cells = []
            for budget in BUDGETS:
                a = dict(splits(budget))[name]
                ready = [f for f in both.values() if f[0][0] >= a and f[1][0] >= budget - a]
                if not ready:
                    cells.append("-")
                    continue
                share = statistics.mean(1 - _all_fail(*c[:2], a) * _all_fail(*h[:2], budget - a) for c, h in ready)
                seconds = statistics.mean(a * c[2] + (budget - a) * h[2] for c, h in ready)
                cells.append(f"{100 * share:.0f}% {seconds:.0f}s" + ("" if len(ready) == len(both) else f" ({len(ready)})"))
            table.add_row(set_name, name, *cells)
    return table


def continuation(tasks: Iterable[tuple[int, int]], misses: int, more: int) -> tuple[float, float] | None:
    """(chance that samples misses+1..misses+more solve a task whose first `misses` failed, expected
    tasks still unsolved after `misses`), over (n, c) per task with enough samples; None if none has."""
    ready = [(n, c) for n, c in tasks if n >= misses + more]
    if not ready:
        return None
    unsolved = sum(_all_fail(n, c, misses) for n, c in ready)
    newly = sum(_all_fail(n, c, misses) - _all_fail(n, c, misses + more) for n, c in ready)
    return (newly / unsolved if unsolved else 0.0), unsolved


def stop_table(grouped: Grouped) -> Table:
    """Per set and setting: after m failed samples, the chance the next NEXT solve the task."""
    table = Table(title=f"after m failed samples: chance the next {NEXT} solve the task "
                        "(expected tasks still unsolved after m)", title_justify="left")
    for head in ["set", "setting", *(f"m={m}" for m in MISSES)]:
        table.add_column(head, justify="left" if head in ("set", "setting") else "right", no_wrap=True)
    for (set_name, setting), tasks in sorted(grouped.items()):
        figures = [_task_figures(t)[:2] for t in tasks.values()]
        cells = []
        for m in MISSES:
            found = continuation(figures, m, NEXT)
            cells.append("-" if found is None else f"{100 * found[0]:.0f}% ({found[1]:.1f})")
        table.add_row(set_name, setting, *cells)
    return table
