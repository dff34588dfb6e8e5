"""Strategies beyond the plain loop: several candidates per round (the CodeT / AlphaCodium idea)
and static checks before the tests (LLMcoder's analysers).

Each round samples N programs at once (the embedded model serves two at a time on its parallel
slots): one follows the feedback conversation, the others are fresh, hotter samples of the
request or hotter repairs. The best by tests passed is kept and its failures are fed back.
"""

from __future__ import annotations

from dataclasses import replace

from code_generation.loop import CodeTask, LoopOutcome, run_loop
from code_generation.strategies import StrategyContext, register_strategy


def _candidates(n: int, task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    settings = replace(ctx.settings, candidates=n)
    return run_loop(task, ctx.chat, settings, observer=ctx.observer, guard=ctx.guard, sandbox=ctx.sandbox)


@register_strategy("candidates2", "the loop with 2 candidates per round, best kept")
def candidates2(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    return _candidates(2, task, ctx)


@register_strategy("loop_static", "the loop with pyflakes checks before the tests")
def loop_static(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    settings = replace(ctx.settings, static_checks=True)
    return run_loop(task, ctx.chat, settings, observer=ctx.observer, guard=ctx.guard, sandbox=ctx.sandbox)


@register_strategy("candidates4", "the loop with 4 candidates per round, best kept")
def candidates4(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    return _candidates(4, task, ctx)
