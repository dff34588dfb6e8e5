"""The ceiling's budget tables: exact expectations over samples drawn without replacement."""

from __future__ import annotations

import math

import pytest

from benchmarks import ceiling_policies
from benchmarks.ceiling_policies import COOL, HOT
from benchmarks.ceiling_report import by_task


def _rows(task: str, setting: str, solved: list[bool], seconds: float) -> list[dict]:
    return [{"set": "examples", "task": task, "setting": setting, "sample": i, "solved": ok, "seconds": seconds}
            for i, ok in enumerate(solved)]


def test_all_fail_is_the_hypergeometric_chance_of_no_success() -> None:
    assert ceiling_policies._all_fail(20, 0, 5) == 1.0
    assert ceiling_policies._all_fail(20, 16, 5) == 0.0  # only 4 failing samples to draw from
    assert ceiling_policies._all_fail(20, 1, 5) == pytest.approx(15 / 20)
    assert ceiling_policies._all_fail(4, 1, 2) == pytest.approx(math.comb(3, 2) / math.comb(4, 2))


def test_continuation_counts_only_what_the_first_misses_left_unsolved() -> None:
    # A task always solved is never still unsolved after misses; one never solved stays unsolved:
    # neither is solved by more samples, so the chance is 0 over 1 expected unsolved task.
    assert ceiling_policies.continuation([(20, 20), (20, 0)], 2, 4) == (0.0, 1.0)
    # One success in 20: unsolved after 2 misses with 18/20, solved by the next 4 with 4/20.
    chance, unsolved = ceiling_policies.continuation([(20, 1)], 2, 4)
    assert unsolved == pytest.approx(18 / 20)
    assert chance == pytest.approx((4 / 20) / (18 / 20))
    assert ceiling_policies.continuation([(5, 1)], 2, 4) is None  # too few samples to tell


def test_the_mix_table_sets_a_cool_split_against_a_hot_one() -> None:
    rows = [*_rows("easy", COOL, [True] * 20, 10.0), *_rows("easy", HOT, [True] * 10 + [False] * 10, 20.0),
            *_rows("hard", COOL, [False] * 20, 10.0), *_rows("hard", HOT, [True] + [False] * 19, 20.0)]
    table = ceiling_policies.mix_table(by_task(rows))
    cells = {row: [c for c in col._cells] for row, col in enumerate(table.columns)}
    mixes, k2 = cells[1], cells[2]
    # All cool at k=2: the easy task always, the hard one never: 50%, 2 × 10 s.
    assert k2[mixes.index("all cool")] == "50% 20s"
    # All hot at k=2: easy 1 - (10·9)/(20·19), hard 2/20; 2 × 20 s.
    expected = 100 * ((1 - 90 / 380) + 2 / 20) / 2
    assert k2[mixes.index("all hot")] == f"{expected:.0f}% 40s"
    # One cool then hot: the easy task always, the hard one 1/20.
    assert k2[mixes.index("1 cool, then hot")] == f"{100 * (1 + 1 / 20) / 2:.0f}% 30s"


def test_the_task_table_counts_solved_of_drawn_per_setting() -> None:
    from benchmarks.ceiling_report import task_table

    rows = [*_rows("easy", COOL, [True, True, False], 1.0), *_rows("easy", HOT, [False], 1.0),
            *_rows("hard", COOL, [False, False], 1.0)]
    table = task_table(rows)
    columns = {c.header: list(c._cells) for c in table.columns}
    assert columns["task"] == ["easy", "hard"]
    assert columns[COOL] == ["2 / 3", "0 / 2"] and columns[HOT] == ["0 / 1", "-"]
