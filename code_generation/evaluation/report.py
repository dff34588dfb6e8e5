"""The evaluation harness's output folder: results log, summary, table and plot.

``results.jsonl`` is the source of truth: one line per finished (task, strategy) pair, appended
under a lock and fsynced, so an interrupted run loses at most the pairs in flight and a rerun
can skip everything already there. A torn last line (a crash mid-write) is cut off on reopen.
Everything else (``summary.json``, the table, ``summary.png``) is derived from it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from code_generation.run_folder import atomic_write
from my_llm.files import append_lines

if TYPE_CHECKING:
    pass

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
PLOT = "summary.png"


class ResultsLog:
    """Append-only JSON lines, safe for several threads and processes (my_llm.files.append_lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()

    def _repair(self) -> None:
        """Cut a torn last line so the next append starts on a line of its own."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, row: dict[str, Any]) -> None:
        append_lines(self.path, [json.dumps(row, ensure_ascii=False, default=str)])

    def rows(self) -> list[dict[str, Any]]:
        return read_rows(self.path)


def jsonl_rows(path: Path, *keys: str) -> list[dict[str, Any]]:
    """Every complete row of a results file (JSON objects, one a line) that has ``keys``.

    Results files are appended to row by row, so a stop can cut the last line: an unparsable
    line is ignored, and a rerun writes that row again. Every benchmark reads its rows here.
    """
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and all(key in row for key in keys):
            rows.append(row)
    return rows


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every complete row of an evaluation's results file."""
    return jsonl_rows(path, "task", "strategy")


def latest(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The last row of each (task, strategy) pair."""
    return {(r["task"], r["strategy"]): r for r in rows}


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summarize(
    rows: Iterable[dict[str, Any]], task_ids: Sequence[str], strategies: Sequence[str], run: dict[str, Any]
) -> dict[str, Any]:
    """Per strategy: solved, total, solved_rate, tokens_per_task, seconds_per_task and more."""
    by_pair = latest(rows)
    per_strategy: dict[str, Any] = {}
    for strategy in strategies:
        done = [by_pair[(t, strategy)] for t in task_ids if (t, strategy) in by_pair]
        solved = [r for r in done if r["solved"]]
        tokens = [r["tokens_in"] + r["tokens_out"] for r in done]
        per_strategy[strategy] = {
            "solved": len(solved),
            "total": len(done),
            "solved_rate": round(len(solved) / len(done), 4) if done else None,
            "tokens_per_task": _mean(tokens),
            "tokens_in_per_task": _mean([r["tokens_in"] for r in done]),
            "tokens_out_per_task": _mean([r["tokens_out"] for r in done]),
            "tokens_per_solved_task": round(sum(tokens) / len(solved), 1) if solved else None,
            "seconds_per_task": _mean([r["seconds"] for r in done]),
            "iterations_per_task": _mean([r["iterations"] for r in done]),
            "errors": sum(1 for r in done if r.get("error")),
            "pending": len(task_ids) - len(done),
        }
    return {
        "run": run,
        "tasks": len(task_ids),
        "complete": all(s["pending"] == 0 for s in per_strategy.values()),
        "strategies": per_strategy,
    }


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    path = out / SUMMARY
    atomic_write(path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return path


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def summary_table(summary: dict[str, Any]) -> Table:
    """The terminal comparison of strategies."""
    run = summary.get("run", {})
    table = Table(title=f"{run.get('tasks_source', '')} · {run.get('model_short', run.get('model', ''))}", title_justify="left")
    for column in ("strategy", "solved", "rate", "tokens/task", "tokens/solved", "s/task", "iter/task"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for name, s in summary["strategies"].items():
        rate = "-" if s["solved_rate"] is None else f"{100 * s['solved_rate']:.1f}%"
        pending = f" (+{s['pending']} pending)" if s["pending"] else ""
        table.add_row(
            name,
            f"{s['solved']}/{s['total']}{pending}",
            rate,
            _fmt(s["tokens_per_task"]),
            _fmt(s["tokens_per_solved_task"]),
            _fmt(s["seconds_per_task"], 1),
            _fmt(s["iterations_per_task"], 2),
        )
    return table


def plot_summary(summary: dict[str, Any], path: Path) -> Path:
    """Two bar charts side by side: solved rate, and tokens per solved task, per strategy."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(summary["strategies"])
    stats = [summary["strategies"][n] for n in names]
    rates = [100 * (s["solved_rate"] or 0.0) for s in stats]
    tokens = [s["tokens_per_solved_task"] or 0.0 for s in stats]
    figure = Figure(figsize=(4 + 1.2 * len(names), 3.6), layout="constrained")
    FigureCanvasAgg(figure)  # the Agg backend, without touching pyplot's global state
    left, right = figure.subplots(1, 2)
    colours = [f"C{i}" for i in range(len(names))]
    bars = left.bar(names, rates, color=colours)
    left.bar_label(bars, labels=[f"{r:.1f}%\n{s['solved']}/{s['total']}" for r, s in zip(rates, stats, strict=True)], fontsize=8)
    left.set_ylim(0, 115)
    left.set_ylabel("solved (%)")
    left.set_title("solved rate")
    bars = right.bar(names, tokens, color=colours)
    right.bar_label(bars, labels=[_fmt(s["tokens_per_solved_task"]) for s in stats], fontsize=8)
    right.set_ylim(0, max(tokens + [1.0]) * 1.2)
    right.set_ylabel("tokens (in + out)")
    right.set_title("tokens per solved task")
    run = summary.get("run", {})
    figure.suptitle(f"{run.get('tasks_source', '')}: {summary['tasks']} tasks · {run.get('model_short', run.get('model', ''))}", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path
