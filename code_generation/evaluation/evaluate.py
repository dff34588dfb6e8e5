"""Measure the generator: run strategies side by side over a task set with the same model.

    python -m code_generation.evaluation --tasks humaneval --strategies single,loop --out eval/he \\
        [--limit N] [--ids 0 7 HumanEval/12] [--jobs 2] [--model local] [--max-iterations 5] [--seed 1]

Every (task, strategy) pair runs the real engine (`code_generation.engine.loop.run_loop`), so every run
of generated code goes through the sandbox. The output folder holds ``results.jsonl`` (one line
per finished pair: the source of truth, appended as pairs finish), ``summary.json``,
``summary.png``, ``run.json`` (the settings) and ``runs/<strategy>/<task>.json`` (each pair's
replies, code and test results, to see why a task failed). A rerun into the same folder skips
finished pairs, so an interrupted run resumes where it stopped.

Exit codes: 0 the run finished; 2 bad input or configuration; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python code_generation/evaluation/evaluate.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from code_generation.engine.tactics import parse_tactics
from code_generation.evaluation import report as eval_report
from code_generation.evaluation.report import ResultsLog
from code_generation.evaluation.strategies import (
    Strategy,
    StrategyContext,
    get_strategy,
    parse_strategies,
)
from code_generation.evaluation.tasks import EvalTask, load_tasks, slug
from code_generation.run_folder import atomic_write
from code_generation.sandbox.runner import SandboxLimits, run_tests
from code_generation.types import Attempt, LoopOutcome, LoopSettings, Sandbox, failure_reason
from my_llm.errors import MyLLMError
from my_llm.models import describe_model, get_chat_model

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
RUN_FILE = "run.json"
# Settings that change what a result means: a rerun into the same folder must keep them.
SAME_RUN_KEYS = ("tasks_source", "model", "max_iterations", "temperature", "timeout", "seed", "tactics")


ChatFactory = Callable[[EvalTask, str], BaseChatModel]


class _Stopped(BaseException):
    """Raised in a worker between model calls once the run is being interrupted."""


@dataclass
class EvalSettings:
    """The budget rules shared by every strategy in a run."""

    max_iterations: int = 5
    temperature: float = 0.2
    timeout: float = 30.0
    seed: int | None = None
    jobs: int = 1
    tactics: tuple[str, ...] | None = None  # the loop's tactics by name; None: the model's default set

    def loop_settings(self) -> LoopSettings:
        return LoopSettings(
            max_iterations=self.max_iterations,
            temperature=self.temperature,
            limits=SandboxLimits(timeout=self.timeout),
            tactics=self.tactics,
        )


# --------------------------------------------------------------------------- one pair


def _attempt_record(attempt: Attempt) -> dict[str, Any]:
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


def pair_row(task: EvalTask, strategy: str, outcome: LoopOutcome, model: str) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- the run


def _check_run_file(out: Path, run: dict[str, Any]) -> None:
    """Refuse to mix results of different settings in one folder; record the settings."""
    path = out / RUN_FILE
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            previous = {}
        changed = [k for k in SAME_RUN_KEYS if k in previous and previous[k] != run.get(k)]
        if changed:
            diff = ", ".join(f"{k} {previous[k]!r} -> {run.get(k)!r}" for k in changed)
            raise MyLLMError(
                f"{out} holds results of another configuration ({diff}): use another --out, or the same options to resume"
            )
    atomic_write(path, json.dumps(run, indent=2) + "\n")


class _ProgressView:
    """One bar per strategy with its running solved count (silent when disabled)."""

    def __init__(self, strategies: Sequence[str], totals: dict[str, int], console: Console | None) -> None:
        self.progress: Progress | None = None
        self.bars: dict[str, Any] = {}
        self.solved = dict.fromkeys(strategies, 0)
        if console is None:
            return
        width = max(len(s) for s in strategies)
        self.progress = Progress(
            TextColumn(f"{{task.description:<{width}}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("solved [bold]{task.fields[solved]}[/bold]"),
            TimeElapsedColumn(),
            console=console,
        )
        for s in strategies:
            self.bars[s] = self.progress.add_task(s, total=totals[s], solved=0)

    def __enter__(self) -> _ProgressView:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress:
            self.progress.stop()

    def done(self, row: dict[str, Any]) -> None:
        strategy = row["strategy"]
        self.solved[strategy] += bool(row["solved"])
        if self.progress:
            self.progress.update(self.bars[strategy], advance=1, solved=self.solved[strategy])


def _check_request(tasks: Sequence[EvalTask], strategies: Sequence[str], settings: EvalSettings) -> dict[str, Strategy]:
    """Refuse a run that cannot work before anything runs; the strategies by name."""
    if settings.jobs < 1:
        raise MyLLMError("--jobs must be at least 1")
    if settings.max_iterations < 1:
        raise MyLLMError("--max-iterations must be at least 1")
    if not tasks:
        raise MyLLMError("no tasks selected")
    functions = {name: get_strategy(name) for name in strategies}
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise MyLLMError("task ids must be unique")
    return functions


def _run_record(tasks: Sequence[EvalTask], strategies: Sequence[str], settings: EvalSettings, model: str,
                tasks_source: str) -> dict[str, Any]:
    """The settings that make a run what it is, for ``run.json``."""
    return {
        "tasks_source": tasks_source,
        "model": model,
        "model_short": model.split("/")[-1].split(" (")[0],
        "max_iterations": settings.max_iterations,
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "seed": settings.seed,
        **({"tactics": list(settings.tactics)} if settings.tactics is not None else {}),
        "jobs": settings.jobs,
        "strategies": list(strategies),
        "tasks": len(tasks),
    }


@dataclass
class _PairRunner:
    """Runs one (task, strategy) pair and records it: its run file, then its results line."""

    functions: dict[str, Strategy]
    chat: BaseChatModel | ChatFactory
    loop_settings: LoopSettings
    sandbox: Sandbox
    model: str
    out: Path
    log: ResultsLog
    stop: threading.Event

    def guard(self) -> None:
        if self.stop.is_set():
            raise _Stopped

    def __call__(self, task: EvalTask, strategy: str) -> dict[str, Any]:
        chat = self.chat
        model_for_pair = chat if isinstance(chat, BaseChatModel) else chat(task, strategy)
        # A Rust task gets its language's sandbox (a build folder for the pair's attempts), made by the engine.
        sandbox = self.sandbox if task.task.language == "python" else None
        context = StrategyContext(model_for_pair, replace(self.loop_settings), sandbox, None, self.guard)
        self.guard()
        started = time.monotonic()
        try:
            outcome = self.functions[strategy](task.task, context)
            row = pair_row(task, strategy, outcome, self.model)
            record = {"task": task.id, "strategy": strategy, **row, "module": task.task.module_name,
                      "attempts": [_attempt_record(a) for a in outcome.attempts],
                      "best_code": outcome.best.code if outcome.best else None}
        except MyLLMError:
            raise  # the model or configuration is broken: stop the run, keep what is done
        except Exception as exc:  # a harness bug on one task must not lose hours of results
            row = {"task": task.id, "strategy": strategy, "solved": False, "iterations": 0, "tokens_in": 0,
                   "tokens_out": 0, "calls": 0, "seconds": round(time.monotonic() - started, 3),
                   "model_seconds": 0.0, "tests_passed": 0, "tests_total": 0, "stop_reason": "error",
                   "failure": f"harness error: {type(exc).__name__}: {exc}"[:300], "model": self.model,
                   "error": True, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
            record = dict(row)
        atomic_write(self.out / "runs" / slug(strategy) / f"{slug(task.id)}.json",
                     json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")
        self.log.append(row)
        return row


def _summarise(out: Path, log: ResultsLog, ids: list[str], strategies: Sequence[str], run: dict[str, Any],
               console: Console | None) -> dict[str, Any]:
    """The summary of every finished pair, written with its plot, and shown."""
    summary = eval_report.summarize(log.rows(), ids, strategies, run)
    eval_report.write_summary(out, summary)
    if any(s["total"] for s in summary["strategies"].values()):
        eval_report.plot_summary(summary, out / eval_report.PLOT)
    if console is not None:
        console.print(eval_report.summary_table(summary))
    return summary


def evaluate(
    tasks: Sequence[EvalTask],
    strategies: Sequence[str],
    *,
    out: Path,
    chat: BaseChatModel | ChatFactory,
    settings: EvalSettings | None = None,
    sandbox: Sandbox = run_tests,
    tasks_source: str = "",
    model_label: str | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run every (task, strategy) pair not yet in ``out/results.jsonl``; return the summary.

    `chat` is one model shared by all pairs (thread-safe for ``jobs > 1``) or a factory
    ``(task, strategy) -> model`` (tests use it to script LangChain fake models per pair).
    `console` shows a progress bar and the table; None runs silently. KeyboardInterrupt stops
    the run after the pairs in flight reach their next model call; finished pairs are kept.
    """
    settings = settings or EvalSettings()
    functions = _check_request(tasks, strategies, settings)
    ids = [t.id for t in tasks]
    shared = chat if isinstance(chat, BaseChatModel) else None
    model = model_label or (describe_model(shared) if shared is not None else "custom")
    run = _run_record(tasks, strategies, settings, model, tasks_source)
    out.mkdir(parents=True, exist_ok=True)
    _check_run_file(out, run)
    log = ResultsLog(out / eval_report.RESULTS)
    finished = {k: r for k, r in eval_report.latest(log.rows()).items() if not r.get("error")}
    pending = [(t, s) for t in tasks for s in strategies if (t.id, s) not in finished]
    stop = threading.Event()
    run_pair = _PairRunner(functions, chat, settings.loop_settings(), sandbox, model, out, log, stop)
    view = _ProgressView(strategies, dict.fromkeys(strategies, len(tasks)), console)
    selected = set(ids)
    for (task_id, strategy), row in finished.items():
        if strategy in view.solved and task_id in selected:
            view.done(row)
    failure: BaseException | None = None
    try:
        with view:
            if settings.jobs == 1:
                for task, strategy in pending:
                    view.done(run_pair(task, strategy))
            else:
                _run_parallel(pending, run_pair, settings.jobs, view, stop, console)
    except BaseException as exc:  # interrupted or failed: still summarise what is finished
        failure = exc
    summary = _summarise(out, log, ids, strategies, run, console)
    if isinstance(failure, _Stopped):
        raise KeyboardInterrupt from failure
    if failure is not None:
        raise failure
    return summary


def _run_parallel(
    pending: Sequence[tuple[EvalTask, str]],
    run_pair: Callable[[EvalTask, str], dict[str, Any]],
    jobs: int,
    view: _ProgressView,
    stop: threading.Event,
    console: Console | None,
) -> None:
    """Threads sharing one model (the local model serves parallel slots); first error stops all."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="eval")
    futures: set[Future[dict[str, Any]]] = {pool.submit(run_pair, t, s) for t, s in pending}
    try:
        while futures:
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                view.done(future.result())
    except BaseException:
        stop.set()
        running = sum(1 for f in futures if f.running())
        if console is not None and running:
            console.print(f"[yellow]stopping: waiting for {running} running task(s) to reach their next step[/yellow]")
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m code_generation.evaluation",
        description="Compare generation strategies on HumanEval or task folders, with the same model and budget.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--tasks", required=True, help="'humaneval' or a folder of task folders (prompt.txt + test_<module>.py)")
    parser.add_argument("--strategies", default="single,loop", help="comma list of strategy names")
    parser.add_argument("--out", type=Path, required=True, help="output folder; rerunning into it resumes")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks (source order)")
    parser.add_argument("--ids", nargs="+", default=None, help="only these task ids (HumanEval: 0, HumanEval/0 or HumanEval_0; folders: folder names)")
    parser.add_argument("--jobs", type=int, default=1, help="pairs run at once (threads sharing the model; the embedded model has 2 slots)")
    parser.add_argument("--model", default=None, help="local | local:/path/model.gguf | openai:<model> (default as create-script)")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server URL")
    parser.add_argument("--max-iterations", type=int, default=5, help="attempts per task for 'loop'")
    parser.add_argument("--temperature", type=float, default=0.2, help="sampling temperature")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed for each test run")
    parser.add_argument("--seed", type=int, default=None, help="sampling seed, for reproducible runs")
    parser.add_argument("--tactics", default=None, help="comma list of the loop's tactics (default: the model's own set; 'none' for none)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    try:
        strategies = parse_strategies(args.strategies)
        tactics = parse_tactics(args.tactics) if args.tactics is not None else None
        ids = [i for item in args.ids or [] for i in item.split(",") if i.strip()] or None
        tasks = load_tasks(args.tasks, args.limit, ids)
        source = "humaneval" if args.tasks.lower() == "humaneval" else str(Path(args.tasks).resolve())
        settings = EvalSettings(args.max_iterations, args.temperature, args.timeout, args.seed, args.jobs, tactics)
        if settings.jobs < 1 or settings.max_iterations < 1 or settings.timeout <= 0:
            raise MyLLMError("--jobs and --max-iterations must be at least 1, --timeout positive")
        chat = get_chat_model(args.model, base_url=args.base_url, temperature=args.temperature, seed=args.seed)
        load = getattr(chat, "load", None)
        if callable(load):
            load()  # show model loading before the progress bar starts
        console.print(f"[bold]{len(tasks)} tasks × {', '.join(strategies)}[/bold] · {describe_model(chat)} · out {args.out}")
        summary = evaluate(tasks, strategies, out=args.out, chat=chat, settings=settings,
                           tasks_source=source, console=None if args.no_progress else console)
        if args.no_progress:
            console.print(eval_report.summary_table(summary))
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]: finished pairs are in {args.out}; rerun the same command to resume")
        return EXIT_INTERRUPTED
    except MyLLMError as exc:
        if args.verbose:
            console.print_exception()
        console.print(f"[red]error:[/red] {' '.join(str(exc).split())}", soft_wrap=True)  # one line
        return EXIT_BAD_INPUT
    console.print(f"results: {args.out / eval_report.RESULTS} · summary: {args.out / eval_report.SUMMARY} · plot: {args.out / eval_report.PLOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
