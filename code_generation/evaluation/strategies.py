"""Generation strategies the evaluation harness compares, by name.

A strategy turns one `CodeTask` into a `LoopOutcome` using the model, budget and sandbox it is
handed, so every strategy in a run shares the same model and rules. Add one with the decorator::

    @register_strategy("best_of_3", "three candidates, keep the best")
    def best_of_3(task: CodeTask, ctx: StrategyContext) -> LoopOutcome: ...

in this module or in a module ``code_generation/evaluation/strategy_<anything>.py`` (those are imported
by `load_strategy_modules`, so a feature can ship its strategy without editing this file).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from code_generation.engine.loop import run_loop
from code_generation.sandbox.runner import run_tests
from code_generation.types import CodeTask, LoopOutcome, LoopSettings, Observer, Sandbox
from my_llm.errors import MyLLMError


@dataclass
class StrategyContext:
    """Everything a strategy may use; the harness builds one per (task, strategy) run."""

    chat: BaseChatModel
    settings: LoopSettings
    sandbox: Sandbox | None = run_tests  # None: the task's language makes one (Rust's build folder)
    observer: Observer | None = None
    guard: Callable[[], None] | None = None  # call between model calls: raises to stop early


Strategy = Callable[[CodeTask, StrategyContext], LoopOutcome]


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    function: Strategy
    description: str


_REGISTRY: dict[str, StrategyInfo] = {}


def register_strategy(name: str, description: str = "") -> Callable[[Strategy], Strategy]:
    """Decorator: make `function` available as ``--strategies name``."""

    def decorate(function: Strategy) -> Strategy:
        if name in _REGISTRY and _REGISTRY[name].function is not function:
            raise ValueError(f"strategy {name!r} is already registered")
        doc = (function.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = StrategyInfo(name, function, description or (doc[0] if doc else ""))
        return function

    return decorate


def load_strategy_modules() -> None:
    """Import ``code_generation.evaluation.strategy_*`` modules so their strategies register themselves."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("strategy_"):
            importlib.import_module(f"{__package__}.{module.name}")


def available_strategies() -> dict[str, str]:
    """Name -> one-line description of every registered strategy."""
    load_strategy_modules()
    return {name: info.description for name, info in sorted(_REGISTRY.items())}


def get_strategy(name: str) -> Strategy:
    """The strategy called `name`; an unknown name is a user error listing the known ones."""
    if name not in _REGISTRY:
        load_strategy_modules()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise MyLLMError(f"unknown strategy {name!r}: choose from {known}")
    return _REGISTRY[name].function


def parse_strategies(text: str) -> list[str]:
    """``"single,loop"`` -> checked, de-duplicated names in the given order."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise MyLLMError("--strategies is empty: e.g. --strategies single,loop")
    for name in names:
        get_strategy(name)
    return names


def run_with(task: CodeTask, ctx: StrategyContext, **changes: object) -> LoopOutcome:
    """The engine with the run's model, sandbox and budget, and `changes` to its LoopSettings."""
    settings = replace(ctx.settings, **changes)  # type: ignore[arg-type]
    return run_loop(task, ctx.chat, settings, observer=ctx.observer, guard=ctx.guard, sandbox=ctx.sandbox)


@register_strategy("single", "one generation, no feedback")
def single(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    """One generation judged by the tests: the model's first answer, as pass@1 measures it."""
    return run_with(task, ctx, max_iterations=1)


@register_strategy("loop", "the create-script feedback loop")
def loop(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    """The feedback loop with the run's iteration budget, exactly as create-script runs it."""
    return run_with(task, ctx)
