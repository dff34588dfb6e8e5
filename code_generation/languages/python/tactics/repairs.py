"""Tactics that improve the best attempt without a model call; a repair is kept only when it
passes more tests and breaks none that passed."""

from __future__ import annotations

from collections.abc import Callable

from code_generation.engine.loop_state import LoopState, Tactic, register_tactic
from code_generation.languages.python import extract
from code_generation.sandbox.runner import SandboxResult
from code_generation.types import Attempt, digest, improves, passed_names, variant

MAX_COMBINATIONS = 12  # test runs per round spent on combining functions from earlier attempts


def combine(
    best: Attempt, attempts: list[Attempt], names: list[str], test: Callable[[str], SandboxResult],
    label: tuple[int, int], tried: set[str],
) -> Attempt | None:
    """The best attempt with functions taken from earlier attempts, kept where they pass more.

    Two attempts often each get a different function right, and a small model rarely writes
    both right at once; the right piece can also sit in an attempt that passes nothing the best
    one fails. So every other version of each function is spliced into the best attempt in
    turn, donors passing tests the best one fails first; a combination is kept when it passes
    more and breaks nothing. No model call; at most MAX_COMBINATIONS test runs, and never code
    from an attempt that timed out.
    """
    assert best.code is not None and best.result is not None
    functions = list(extract.functions(best.code, names))
    if len(functions) < 2:
        return None
    failing = {c.name for c in best.result.cases if c.outcome in {"failed", "error"}}
    donors = sorted((a for a in attempts if a is not best and a.code and a.result
                     and a.result.status not in {"timeout", "tampered"}),
                    key=lambda a: (not passed_names(a) & failing, -a.passed))
    current, taken, runs = best, [], 0
    for donor in donors:
        assert donor.code is not None
        for name in functions:
            assert current.code is not None
            if runs >= MAX_COMBINATIONS or current.success:
                break
            theirs = extract.split_function(donor.code, name)[1]
            if not theirs or theirs == extract.split_function(current.code, name)[1]:
                continue
            code = extract.splice_function(current.code, f"```python\n{donor.code}\n```", name)
            if code is None or digest(code) in tried:
                continue
            tried.add(digest(code))
            runs += 1
            trial = variant(current, code, label, test)
            if improves(trial, current):
                current = trial
                taken.append(f"`{name}` from attempt {donor.label}")
    if current is best:
        return None
    current.notes = [f"combined {', '.join(taken)} into attempt {best.label}"]
    current.findings = []
    return current


@register_tactic("combine", "functions combined across attempts, kept where they pass more")
class Combine(Tactic):
    """After each round, other attempts' versions of each function are spliced into the best (see `combine`)."""

    languages = frozenset({"python"})

    def repair(self, best: Attempt, state: LoopState, label: tuple[int, int]) -> Attempt | None:
        return combine(best, state.attempts, state.spec.imported_names, state.test, label, state.tried)
