"""Measure the generator: run strategies side by side over a task set with the same model.

    python -m code_generation.evaluation --tasks humaneval --strategies single,loop --out eval/he \\
        [--limit N] [--ids 0 7 HumanEval/12] [--jobs 2] [--model local] [--max-iterations 5] [--seed 1] \\
        [--executor ray [--ray-address HEAD:6379]]

Every (task, strategy) pair runs the real engine (`code_generation.engine.loop.run_loop`), so every run
of generated code goes through the sandbox. The output folder holds ``results.jsonl`` (one line
per finished pair: the source of truth, appended as pairs finish), ``summary.json``,
``summary.png``, ``run.json`` (the settings) and ``runs/<strategy>/<task>.json`` (each pair's
replies, code and test results, to see why a task failed). A rerun into the same folder skips
finished pairs, so an interrupted run resumes where it stopped. ``--executor ray`` runs each pair
as a Ray task (`ray_executor`); this process still writes every row.

Exit codes: 0 the run finished; 2 bad input or configuration; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python code_generation/evaluation/evaluate.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from langchain_core.language_models import BaseChatModel
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from code_generation.engine.tactics import parse_tactics
from code_generation.evaluation import report as eval_report
from code_generation.evaluation.pairs import PairExecutor, pair_row, run_pair
from code_generation.evaluation.report import ResultsLog
from code_generation.evaluation.strategies import Strategy, get_strategy, parse_strategies
from code_generation.evaluation.tasks import EvalTask, load_tasks, slug
from code_generation.plugins import load_plugins
from code_generation.run_folder import atomic_write
from code_generation.sandbox.runner import SandboxLimits, run_tests
from code_generation.sandbox.tools import run_tool
from code_generation.script_settings import DEFAULT_GIVE_UP_AFTER, DEFAULT_TIME_BUDGET
from code_generation.types import LoopSettings, Sandbox
from code_generation.validate_input import give_up_after_type, time_budget_type
from my_llm.errors import MyLLMError
from my_llm.models import describe_model, get_chat_model
from my_llm.user_input import OneLineParser, add_common_flags

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
RUN_FILE = "run.json"
# Settings that change what a result means: a rerun into the same folder must keep them.
SAME_RUN_KEYS = ("tasks_source", "model", "max_iterations", "time_budget", "give_up_after", "temperature", "timeout",
                 "seed", "tactics")


ChatFactory = Callable[[EvalTask, str], BaseChatModel]
__all__ = ["EvalSettings", "evaluate", "main", "pair_row"]  # pair_row: benchmarks/ablation.py imports it from here


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
    # Seconds a pair's search may take, as create-script's default (0 or None: rounds alone). With
    # --jobs above the model's slots, pairs wait for each other and meet it sooner.
    time_budget: float | None = DEFAULT_TIME_BUDGET
    give_up_after: int | None = DEFAULT_GIVE_UP_AFTER  # as create-script's --give-up-after (0 or None: never)

    def loop_settings(self) -> LoopSettings:
        return LoopSettings(
            max_iterations=self.max_iterations,
            time_budget=self.time_budget or None,
            give_up_after=self.give_up_after or None,
            temperature=self.temperature,
            limits=SandboxLimits(timeout=self.timeout),
            tactics=self.tactics,
        )


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


class _StatusProgress(Progress):
    """rich's Progress with one line of status under the bars (an executor's nodes and tasks in flight)."""

    status: str = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield from super().get_renderables()
        if self.status:
            yield Text(self.status, style="dim")


class _ProgressView:
    """One bar per strategy with its running solved count (silent when disabled)."""

    def __init__(self, strategies: Sequence[str], totals: dict[str, int], console: Console | None) -> None:
        self.progress: _StatusProgress | None = None
        self.bars: dict[str, Any] = {}
        self.solved = dict.fromkeys(strategies, 0)
        if console is None:
            return
        width = max(len(s) for s in strategies)
        self.progress = _StatusProgress(
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

    def status(self, text: str) -> None:
        if self.progress:
            self.progress.status = text
            self.progress.refresh()


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
        "time_budget": settings.time_budget or 0,
        "give_up_after": settings.give_up_after or 0,
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
    commit: str | None = None

    def guard(self) -> None:
        if self.stop.is_set():
            raise _Stopped

    def __call__(self, task: EvalTask, strategy: str) -> dict[str, Any]:
        chat = self.chat
        model_for_pair = chat if isinstance(chat, BaseChatModel) else chat(task, strategy)
        self.guard()
        row, record = run_pair(task, strategy, self.functions[strategy], model_for_pair, replace(self.loop_settings),
                               self.sandbox, self.model, self.guard)
        row = write_pair(self.out, self.log, row, record, self.commit)
        return row


def write_pair(out: Path, log: ResultsLog, row: dict[str, Any], record: dict[str, Any],
               commit: str | None) -> dict[str, Any]:
    """The pair's run file, then its results line (with the commit the harness ran at)."""
    if commit is not None:
        row = {**row, "commit": commit}
    atomic_write(out / "runs" / slug(row["strategy"]) / f"{slug(row['task'])}.json",
                 json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")
    log.append(row)
    return row


def code_commit() -> str | None:
    """The project's commit, with + when tracked files differ from it; None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = run_tool(["git", "rev-parse", "--short", "HEAD"], cwd=root, timeout=10)
        dirty = run_tool(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0 or not head.stdout.strip():
        return None
    return head.stdout.strip() + ("+" if dirty.returncode == 0 and dirty.stdout.strip() else "")


class _Recorder:
    """The driver's hand-in for pairs run elsewhere: each (task, strategy) is written once."""

    def __init__(self, out: Path, log: ResultsLog, written: set[tuple[str, str]], view: _ProgressView,
                 commit: str | None) -> None:
        self.out, self.log, self.written, self.view, self.commit = out, log, written, view, commit

    def __call__(self, row: dict[str, Any], record: dict[str, Any]) -> bool:
        key = (row["task"], row["strategy"])
        if key in self.written:
            return False
        written = write_pair(self.out, self.log, row, record, self.commit)
        self.written.add(key)
        self.view.done(written)
        return True


def _no_chat(task: EvalTask, strategy: str) -> BaseChatModel:
    raise MyLLMError("no chat model: the executor runs every pair")


def _summarise(out: Path, log: ResultsLog, ids: list[str], strategies: Sequence[str], run: dict[str, Any],
               console: Console | None) -> dict[str, Any]:
    """The summary of every finished pair, written with its plot, and shown."""
    summary = eval_report.summarize(log.rows(), ids, strategies, run)
    eval_report.write_summary(out, summary)
    if any(s["total"] for s in summary["strategies"].values()):
        try:
            eval_report.plot_summary(summary, out / eval_report.PLOT)
        except ImportError:  # matplotlib is an extra: the figures are in summary.json all the same
            if console is not None:
                console.print("no plot: matplotlib is not installed (pip install 'tdd-scriptgen[eval]')")
    if console is not None:
        console.print(eval_report.summary_table(summary))
    return summary


def evaluate(
    tasks: Sequence[EvalTask],
    strategies: Sequence[str],
    *,
    out: Path,
    chat: BaseChatModel | ChatFactory | None = None,
    settings: EvalSettings | None = None,
    sandbox: Sandbox = run_tests,
    tasks_source: str = "",
    model_label: str | None = None,
    console: Console | None = None,
    executor: PairExecutor | None = None,
) -> dict[str, Any]:
    """Run every (task, strategy) pair not yet in ``out/results.jsonl``; return the summary.

    `chat` is one model shared by all pairs (thread-safe for ``jobs > 1``) or a factory
    ``(task, strategy) -> model`` (tests use it to script LangChain fake models per pair).
    `executor` runs the pairs elsewhere instead (Ray: `ray_executor.RayExecutor`, which brings
    its own model); this process still writes every row. `console` shows a progress bar and the
    table; None runs silently. KeyboardInterrupt stops the run after the pairs in flight reach
    their next model call; finished pairs are kept.
    """
    settings = settings or EvalSettings()
    functions = _check_request(tasks, strategies, settings)
    if chat is None and executor is None:
        raise MyLLMError("evaluate() needs a chat model (or factory) or an executor")
    ids = [t.id for t in tasks]
    shared = chat if isinstance(chat, BaseChatModel) else None
    model = model_label or (executor.model_label if executor is not None else None) or (
        describe_model(shared) if shared is not None else "custom")
    run = _run_record(tasks, strategies, settings, model, tasks_source)
    out.mkdir(parents=True, exist_ok=True)
    _check_run_file(out, run)
    log = ResultsLog(out / eval_report.RESULTS)
    finished = {k: r for k, r in eval_report.latest(log.rows()).items() if not r.get("error")}
    pending = [(t, s) for t in tasks for s in strategies if (t.id, s) not in finished]
    stop = threading.Event()
    commit = code_commit()
    run_pair = _PairRunner(functions, chat or _no_chat, settings.loop_settings(), sandbox, model, out, log, stop,
                           commit)
    view = _ProgressView(strategies, dict.fromkeys(strategies, len(tasks)), console)
    selected = set(ids)
    for (task_id, strategy), row in finished.items():
        if strategy in view.solved and task_id in selected:
            view.done(row)
    failure: BaseException | None = None
    load_plugins()  # before any thread: plugins.load_plugins is not safe to enter from two threads at once
    try:
        with view:
            if executor is not None:
                record = _Recorder(out, log, set(finished), view, commit)
                executor.run(pending, settings.loop_settings(), model, record, view.status)
            elif settings.jobs == 1:
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
    parser = OneLineParser(
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
    parser.add_argument("--time-budget", type=time_budget_type, default=DEFAULT_TIME_BUDGET, metavar="SECONDS",
                        help="seconds a pair's search may take, as create-script's --time-budget (0: no limit)")
    parser.add_argument("--give-up-after", type=give_up_after_type, default=DEFAULT_GIVE_UP_AFTER, metavar="ROUNDS",
                        help="stop a pair's search after this many rounds in a row without a better attempt, as create-script's (0: never)")
    parser.add_argument("--temperature", type=float, default=0.2, help="sampling temperature")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed for each test run")
    parser.add_argument("--seed", type=int, default=None, help="sampling seed, for reproducible runs")
    parser.add_argument("--tactics", default=None, help="comma list of the loop's tactics (default: the model's own set; 'none' for none)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where pairs run: threads here, or Ray tasks (pip install '.[ray]')")
    parser.add_argument("--ray-address", default=None,
                        help="with --executor ray: an existing cluster's head (HOST:6379); default: a local "
                             "instance on 127.0.0.1 with --jobs CPUs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (as --quiet)")
    add_common_flags(parser, "tracebacks on errors")
    return parser


def _check_executor(args: argparse.Namespace) -> None:
    """The executor's options, before anything is loaded or built: Ray must be installed to ask for it."""
    if args.ray_address and args.executor != "ray":
        raise MyLLMError("--ray-address works only with --executor ray")
    if args.executor == "ray":
        from code_generation.evaluation.ray_executor import require_ray

        require_ray(args.ray_address)


def _evaluate_on_ray(args: argparse.Namespace, tasks: Sequence[EvalTask], strategies: Sequence[str],
                     settings: EvalSettings, source: str, console: Console) -> dict[str, Any]:
    """Connect (or start a local instance), check the nodes, place the model, run, stop what was started."""
    from code_generation.evaluation.ray_executor import RayExecutor, RayOptions
    from code_generation.evaluation.ray_worker import ModelSpec

    model = ModelSpec.from_cli(args.model, args.base_url, args.temperature, args.seed)
    with RayExecutor(model, RayOptions(args.ray_address, args.jobs), console) as executor:
        console.print(f"[bold]{len(tasks)} tasks × {', '.join(strategies)}[/bold] · {executor.model_label} · "
                      f"ray ({'model per node' if model.where == 'node' else 'endpoint'}) · out {args.out}")
        return evaluate(tasks, strategies, out=args.out, settings=settings, tasks_source=source,
                        console=None if (args.no_progress or args.quiet) else console, executor=executor)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    try:
        _check_executor(args)
        strategies = parse_strategies(args.strategies)
        tactics = parse_tactics(args.tactics) if args.tactics is not None else None
        ids = [i for item in args.ids or [] for i in item.split(",") if i.strip()] or None
        tasks = load_tasks(args.tasks, args.limit, ids)
        source = "humaneval" if args.tasks.lower() == "humaneval" else str(Path(args.tasks).resolve())
        settings = EvalSettings(args.max_iterations, args.temperature, args.timeout, args.seed, args.jobs, tactics,
                                time_budget=args.time_budget, give_up_after=args.give_up_after)
        if settings.jobs < 1 or settings.max_iterations < 1 or settings.timeout <= 0:
            raise MyLLMError("--jobs and --max-iterations must be at least 1, --timeout positive")
        if args.executor == "ray":
            summary = _evaluate_on_ray(args, tasks, strategies, settings, source, console)
        else:
            chat = get_chat_model(args.model, base_url=args.base_url, temperature=args.temperature, seed=args.seed)
            load = getattr(chat, "load", None)
            if callable(load):
                load()  # show model loading before the progress bar starts
            console.print(f"[bold]{len(tasks)} tasks × {', '.join(strategies)}[/bold] · {describe_model(chat)} · out {args.out}")
            summary = evaluate(tasks, strategies, out=args.out, chat=chat, settings=settings,
                               tasks_source=source, console=None if (args.no_progress or args.quiet) else console)
        if (args.no_progress or args.quiet):
            console.print(eval_report.summary_table(summary))
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]: finished pairs are in {args.out}; rerun the same command to resume")
        return EXIT_INTERRUPTED
    except MyLLMError as exc:
        if args.verbose:
            console.print_exception()
        console.print(f"[red]error:[/red] {escape(' '.join(str(exc).split()))}", soft_wrap=True)  # one line
        return EXIT_BAD_INPUT
    console.print(f"results: {args.out / eval_report.RESULTS} · summary: {args.out / eval_report.SUMMARY} · plot: {args.out / eval_report.PLOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
