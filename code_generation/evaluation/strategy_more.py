"""Strategies beyond the plain loop: several candidates per round (the CodeT / AlphaCodium idea)
and static checks before the tests (LLMcoder's analysers: pyflakes, and mypy for `loop_typecheck`).

Each round samples N programs at once (the embedded model serves two at a time on its parallel
slots): one follows the feedback conversation, the others are fresh, hotter samples of the
request or hotter repairs. The best by tests passed is kept and its failures are fed back.
"""

from __future__ import annotations

from code_generation.evaluation.strategies import StrategyContext, register_strategy, run_with
from code_generation.types import CodeTask, LoopOutcome


@register_strategy("candidates2", "the loop with 2 candidates per round, best kept")
def candidates2(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    return run_with(task, ctx, candidates=2)


@register_strategy("loop_static", "the loop with pyflakes checks before the tests")
def loop_static(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    return run_with(task, ctx, static_checks=True)


@register_strategy("candidates4", "the loop with 4 candidates per round, best kept")
def candidates4(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    return run_with(task, ctx, candidates=4)


@register_strategy("loop_typecheck", "the loop with pyflakes and mypy checks before the tests")
def loop_typecheck(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    return run_with(task, ctx, static_checks=True, typecheck=True)


@register_strategy("single_with_tests", "one generation, the tests' examples shown beside a request's own code")
def single_with_tests(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    """The opening request as it was before show_tests was off: kept to compare the two."""
    return run_with(task, ctx, max_iterations=1, show_tests=True)
