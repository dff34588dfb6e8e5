"""One (task, strategy) pair: run it, and what the harness keeps of it.

Separate from `evaluate` so that whatever runs a pair (a thread of this process, or a Ray worker
on another machine) runs the very same code, and only the driver writes the results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel

from code_generation.evaluation.strategies import Strategy, StrategyContext
from code_generation.evaluation.tasks import EvalTask
from code_generation.types import Attempt, LoopOutcome, LoopSettings, Sandbox, failure_reason
from my_llm.errors import MyLLMError

Row = dict[str, Any]
Record = dict[str, Any]  # the pair's run file: the row, each attempt's reply, code and test results
# The driver's hand-in for a finished pair: writes its run file and row, False if the pair is written already.
Recorder = Callable[[Row, Record], bool]
Pair = tuple[EvalTask, str]


class PairExecutor(Protocol):
    """Runs pending pairs somewhere else than this thread and hands each result to the recorder.

    The local executor (threads) does not need this: it is the harness's default path. An
    executor reports what it is doing through `status` (one line beside the progress bars).
    """

    model_label: str

    def run(self, pending: Sequence[Pair], settings: LoopSettings, model: str, record: Recorder,
            status: Callable[[str], None]) -> None: ...


def attempt_record(attempt: Attempt) -> dict[str, Any]:
    result = attempt.result
    return {
        **attempt.summary(),
        "reply": attempt.reply,
        "code": attempt.code,
        "tokens_in": attempt.usage.tokens_in if attempt.usage else None,
        "tokens_out": attempt.usage.tokens_out if attempt.usage else None,
        "result": None
        if result is None
        else {
            "status": result.status,
            "message": result.message[:2000],
            "failing": [
                {"name": c.name, "outcome": c.outcome, "message": c.message[:1500]}
                for c in result.cases
                if c.outcome in {"failed", "error"}
            ],
            "stderr": result.stderr[-1500:],
        },
    }


def pair_row(task: EvalTask, strategy: str, outcome: LoopOutcome, model: str) -> Row:
    """The results line of one finished pair (benchmarks/ablation.py writes it too)."""
    best = outcome.best
    return {
        "task": task.id,
        "strategy": strategy,
        "solved": outcome.success,
        "iterations": outcome.iterations,
        "tokens_in": outcome.usage.tokens_in,
        "tokens_out": outcome.usage.tokens_out,
        "calls": len(outcome.usage.calls),
        "seconds": round(outcome.seconds, 3),
        "model_seconds": round(outcome.usage.seconds, 3),
        "tests_passed": best.passed if best else 0,
        "tests_total": outcome.tests_total,
        "stop_reason": outcome.stop_reason,
        "tactics_acted": list(outcome.tactics_acted),
        "failure": failure_reason(outcome),
        "model": model,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def error_row(task_id: str, strategy: str, seconds: float, failure: str, model: str) -> Row:
    """A pair the harness could not finish: counted unsolved now, run again on resume."""
    return {"task": task_id, "strategy": strategy, "solved": False, "iterations": 0, "tokens_in": 0,
            "tokens_out": 0, "calls": 0, "seconds": round(seconds, 3), "model_seconds": 0.0, "tests_passed": 0,
            "tests_total": 0, "stop_reason": "error", "failure": failure[:300], "model": model, "error": True,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}


def run_pair(task: EvalTask, strategy: str, function: Strategy, chat: BaseChatModel, settings: LoopSettings,
             sandbox: Sandbox, model: str, guard: Callable[[], None] | None = None) -> tuple[Row, Record]:
    """Run one pair with the real engine; its row and run file. Writes nothing."""
    # A Rust task gets its language's sandbox (a build folder for the pair's attempts), made by the engine.
    context = StrategyContext(chat, settings, sandbox if task.task.language == "python" else None, None, guard)
    started = time.monotonic()
    try:
        outcome = function(task.task, context)
    except MyLLMError:
        raise  # the model or configuration is broken: stop the run, keep what is done
    except Exception as exc:  # a harness bug on one task must not lose hours of results
        row = error_row(task.id, strategy, time.monotonic() - started,
                        f"harness error: {type(exc).__name__}: {exc}", model)
        return row, dict(row)
    row = pair_row(task, strategy, outcome, model)
    record = {"task": task.id, "strategy": strategy, **row, "module": task.task.module_name,
              "attempts": [attempt_record(a) for a in outcome.attempts],
              "best_code": outcome.best.code if outcome.best else None}
    return row, record
