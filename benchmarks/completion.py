"""Benchmark complete-file: one model call (`single`) against the analyzer search, tests hidden.

    flock /tmp/model.lock .venv/bin/python benchmarks/completion.py --set humaneval
    flock /tmp/model.lock .venv/bin/python benchmarks/completion.py --set tasks
    .venv/bin/python benchmarks/completion.py --report            # the tables, from the results file

Two task sets: HumanEval as completion (the partial file is the problem's prompt, a signature
and docstring; the completion goes at its end) and benchmarks/completion_tasks/ (21 functions
cut from installed packages after their first lines, see its build.py). The tests judge only
at the end: the search never sees them. Each configuration runs the real search
(`code_generation.completion.complete_source`) with its analyzers; `single` is the first
candidate of the first round, the one call a plain completion would make (the same request and
parameters), so it costs no extra run. Configurations: `analyzers` (pyflakes, mypy, signature,
hallucination), `analyzers+doctest` (also the examples in the file's own docstrings) and
`agreement` (those analyzers, 4 candidates a round, and of the accepted ones the one whose
results most others share on inputs the model proposes: code_generation/completion/agreement.py).
Run only some with `--configs`; the default runs the first two, as the first results file did.

Rows go to benchmarks/results/completion_<commit>.jsonl as they finish; a rerun skips the
(set, task, config) rows already there, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from code_generation.completion.settings import AGREEMENT_CANDIDATES  # noqa: E402
from code_generation.evaluation.report import ResultsLog, read_rows  # noqa: E402
from code_generation.sandbox.runner import SandboxLimits, run_tests  # noqa: E402

TASKS_DIR = ROOT / "benchmarks" / "completion_tasks"
RESULTS_DIR = ROOT / "benchmarks" / "results"
BASE = ("pyflakes", "mypy", "signature", "hallucination")
CONFIGS = {"analyzers": BASE, "analyzers+doctest": (*BASE, "doctest"), "agreement": (*BASE, "doctest")}
# Per configuration, what differs from the command line's search settings.
OVERRIDES: dict[str, dict[str, Any]] = {"agreement": {"candidates": AGREEMENT_CANDIDATES, "agreement": True}}
DEFAULT_CONFIGS = "analyzers,analyzers+doctest"  # what a run without --configs runs, as the first results file did


@dataclass(frozen=True)
class Task:
    set: str
    id: str
    source: str
    line: int | None
    module: str
    test_source: str
    test_filename: str


def commit() -> str:
    """The commit the figures belong to (read only), with + when the work tree differs."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (head or "unknown") + ("+" if dirty else "")


def humaneval_tasks() -> list[Task]:
    from code_generation.evaluation.tasks import humaneval_problems, humaneval_test_source

    return [Task("humaneval", p["task_id"], p["prompt"], None, "solution", humaneval_test_source(p, "solution"),
                 "test_solution.py") for p in humaneval_problems()]


def folder_tasks() -> list[Task]:
    tasks = []
    for folder in sorted(p for p in TASKS_DIR.iterdir() if (p / "task.json").exists()):
        meta = json.loads((folder / "task.json").read_text())
        test = folder / f"test_{folder.name}.py"
        tasks.append(Task("tasks", folder.name, (folder / "partial.py").read_text(), meta["line"], folder.name,
                          test.read_text(), test.name))
    return tasks


def hidden_tests(task: Task, text: str | None) -> bool:
    if text is None:
        return False
    return run_tests(text, task.module, task.test_source, task.test_filename, limits=SandboxLimits(timeout=30)).success


def run_one(task: Task, config: str, chat: Any, args: argparse.Namespace) -> dict[str, Any]:
    from code_generation.completion import SearchSettings, complete_source

    started = time.monotonic()
    search = replace(SearchSettings(args.max_iterations, args.candidates, 0.2), **OVERRIDES.get(config, {}))
    outcome, doc = complete_source(task.source, chat, line=task.line, analyzers=CONFIGS[config], settings=search,
                                   module_name=task.module)
    first, best = outcome.first, outcome.best
    first_call = first.usage if first else None
    return {
        "set": task.set, "task": task.id, "strategy": config,
        "single_solved": hidden_tests(task, doc.text(first.completion) if first and first.completion else None),
        "solved": hidden_tests(task, doc.text(best.completion) if best and best.completion else None),
        "accepted": outcome.accepted, "rounds": outcome.rounds, "candidates": len(outcome.candidates),
        "backtracks": outcome.backtracks, "stop_reason": outcome.stop_reason,
        "errors_left": len(best.analysis.errors) if best and best.analysis else None,
        "tokens_in": outcome.usage.tokens_in, "tokens_out": outcome.usage.tokens_out,
        "single_tokens_out": first_call.tokens_out if first_call else 0,
        "single_seconds": round(first_call.seconds, 2) if first_call else 0,
        "seconds": round(time.monotonic() - started, 2), "model": args.model, "commit": args.commit,
        "max_iterations": args.max_iterations, "candidates_per_round": search.candidates, "seed": args.seed,
    }


def paired(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Set -> configuration -> rows, only the tasks every configuration of the set has run (a
    partial run of one configuration is compared on the same tasks as the others)."""
    latest = {(r["set"], r["task"], r["strategy"]): r for r in rows}
    tasks: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for set_, task, config in latest:
        tasks[set_][config].add(task)
    by_set: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for (set_, task, config), row in sorted(latest.items(), key=lambda item: (item[0][0], item[0][2], _order(item[0][1]))):
        if all(task in done for done in tasks[set_].values()):
            by_set[set_][config].append(row)
    return by_set


def _order(task: str) -> tuple[int, str]:
    """HumanEval/10 after HumanEval/9."""
    head, _, tail = task.rpartition("/")
    return (int(tail), head) if tail.isdigit() else (0, task)


def report(rows: list[dict[str, Any]], console: Console) -> None:
    """Per set, on the tasks every configuration ran: single (the first configuration's first
    candidates) and each configuration, solved, against its own runs' single call, and cost."""
    for set_, configs in paired(rows).items():
        commits = ", ".join(sorted({r["commit"] for c in configs.values() for r in c}))
        table = Table(title=f"{set_} as completion ({commits})")
        for column in ("strategy", "tasks", "solved", "rate", "its own single", "gain (points)", "accepted",
                       "tokens out / task", "s / task", "median s"):
            table.add_column(column, justify="left" if column == "strategy" else "right")
        # A plain completion is one call alone: the single row comes from a one-candidate run when
        # there is one (with several candidates the first shares the model's batch with the others).
        first_config = next((items for items in configs.values()
                             if all(r.get("candidates_per_round", 1) == 1 for r in items)), next(iter(configs.values())))
        n = len(first_config)
        single = sum(r["single_solved"] for r in first_config)
        table.add_row("single", str(n), str(single), f"{100 * single / n:.1f}%", "-", "-", "-",
                      f"{sum(r['single_tokens_out'] for r in first_config) / n:.0f}",
                      f"{sum(r['single_seconds'] for r in first_config) / n:.1f}",
                      f"{statistics.median(r['single_seconds'] for r in first_config):.1f}")
        for config, items in configs.items():
            k = len(items)
            solved, own = sum(r["solved"] for r in items), sum(r["single_solved"] for r in items)
            table.add_row(config, str(k), str(solved), f"{100 * solved / k:.1f}%", str(own),
                          f"{100 * (solved - own) / k:+.1f}", str(sum(r["accepted"] for r in items)),
                          f"{sum(r['tokens_out'] for r in items) / k:.0f}", f"{sum(r['seconds'] for r in items) / k:.1f}",
                          f"{statistics.median(r['seconds'] for r in items):.1f}")
        console.print(table)


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Per set, each configuration's solved rate beside the single call of the same runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_set = paired(rows)
    sets = sorted(by_set)
    configs = list(dict.fromkeys(c for per in by_set.values() for c in per))
    fig, axes = plt.subplots(1, len(sets), figsize=(4 + 2.5 * len(configs), 4), squeeze=False)
    for ax, set_ in zip(axes[0], sets, strict=True):
        for i, config in enumerate(configs):
            items = by_set[set_].get(config, [])
            if not items:
                continue
            own = 100 * sum(r["single_solved"] for r in items) / len(items)
            solved = 100 * sum(r["solved"] for r in items) / len(items)
            ax.bar([i - 0.2], [own], 0.4, color="#bbbbbb", label="single (same runs)" if i == 0 else None)
            ax.bar([i + 0.2], [solved], 0.4, color="#3b7dd8", label="search" if i == 0 else None)
            ax.text(i + 0.2, solved + 1, f"{solved:.1f}", ha="center", fontsize=8)
        ax.set_xticks(range(len(configs)), configs, rotation=20, fontsize=8)
        ax.set_title(f"{set_} as completion")
        ax.set_ylabel("solved by the hidden tests (%)")
        ax.set_ylim(0, 115)
        ax.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["humaneval", "tasks", "both"], default="both")
    parser.add_argument("--configs", default=None,
                        help=f"comma-separated, from {', '.join(CONFIGS)} (default: {DEFAULT_CONFIGS}); with "
                             "--report, only these are compared")
    parser.add_argument("--limit", type=int, default=None, help="the first N tasks of each set")
    parser.add_argument("--ids", nargs="*", default=None, help="only these task ids (HumanEval/3, shlex_quote)")
    parser.add_argument("--model", default="local")
    parser.add_argument("--max-iterations", type=int, default=4)
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="results file (default benchmarks/results/completion_<commit>.jsonl)")
    parser.add_argument("--report", action="store_true", help="only print the tables of the results file")
    parser.add_argument("--with", dest="extra", type=Path, nargs="*", default=[],
                        help="with --report: more results files (other configurations, other commits)")
    parser.add_argument("--plot", type=Path, default=None, help="with --report: write a bar chart here")
    args = parser.parse_args(argv)
    args.commit = commit()
    console = Console()
    out = args.out or RESULTS_DIR / f"completion_{args.commit.rstrip('+')}.jsonl"
    if args.report:
        rows = [row for path in (out, *args.extra) for row in read_rows(path)]
        if args.configs:
            rows = [r for r in rows if r["strategy"] in args.configs.split(",")]
        report(rows, console)
        if args.plot:
            console.print(f"plot: {plot(rows, args.plot)}")
        return 0
    configs = [c for c in (args.configs or DEFAULT_CONFIGS).split(",") if c]
    tasks = (humaneval_tasks() if args.set in ("humaneval", "both") else []) + (folder_tasks() if args.set in ("tasks", "both") else [])
    if args.ids:
        tasks = [t for t in tasks if t.id in args.ids]
    if args.limit:
        per: dict[str, int] = defaultdict(int)
        tasks = [t for t in tasks if (per.__setitem__(t.set, per[t.set] + 1) or per[t.set] <= args.limit)]
    log = ResultsLog(out)
    done = {(r["set"], r["task"], r["strategy"]) for r in log.rows()}
    todo = [(t, c) for t in tasks for c in configs if (t.set, t.id, c) not in done]
    console.print(f"{len(todo)} runs to do, {len(tasks) * len(configs) - len(todo)} already in {out} (commit {args.commit})")
    if todo:
        from my_llm.models import get_chat_model

        chat = get_chat_model(args.model, temperature=0.2, seed=args.seed)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("completion", total=len(todo))
            for task, config in todo:
                progress.update(bar, description=f"{task.id} {config}")
                row = run_one(task, config, chat, args)
                log.append(row)
                mark = "[green]solved[/green]" if row["solved"] else "[red]not solved[/red]"
                progress.console.print(f"{task.id} {config}: single {'ok' if row['single_solved'] else 'no'}, "
                                       f"loop {mark} ({row['rounds']} rounds, {row['seconds']} s)")
                progress.advance(bar)
    report(log.rows(), console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
