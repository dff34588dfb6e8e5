"""The ceiling's report: result rows in, figures, tables and the plot out (`ceiling.py --report`).

Why apart from benchmarks/ceiling.py: the report reads rows only, no model, no sandbox, no engine;
the sampling side draws and judges the rows and imports this module, never the other way round.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from benchmarks import ceiling_policies
from code_generation.completion import agreement
from code_generation.evaluation.report import jsonl_rows
from my_llm.errors import MyLLMError

if TYPE_CHECKING:
    from rich.console import Console

SETS = ("examples", "validation", "heldout", "rust", "humaneval")
KS = (1, 2, 5, 10, 20)


# --------------------------------------------------------------------------- rows and estimators


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every complete row of a ceiling results file (a torn last line is skipped)."""
    return jsonl_rows(path, "sample")


def row_key(row: dict[str, Any]) -> tuple[str, str, str, int]:
    return row["set"], row["task"], row["setting"], row["sample"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator of pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    return 1.0 if n - c < k else 1.0 - math.comb(n - c, k) / math.comb(n, k)


def covered(solved: Sequence[bool], k: int) -> bool:
    """Coverage of one task with its first k samples (in sample order): any of them passed."""
    return any(solved[:k])


# --------------------------------------------------------------------------- the report


def by_task(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, list[dict[str, Any]]]]:
    """(set, setting) -> task -> its samples in sample order (the last row of a key wins)."""
    latest = {row_key(r): r for r in rows if not r.get("error")}
    grouped: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for key in sorted(latest, key=lambda k: (k[0], k[1], k[2], k[3])):
        grouped[key[0], key[2]][key[1]].append(latest[key])
    return grouped


def selected(samples: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The sample a selector seeing only the docstring picks: most examples passed, then of those
    the program whose results on the example calls most others share (copies count), then the first."""
    with_code = [s for s in samples if s.get("has_code")]
    if not with_code:
        return None
    most = max(s.get("examples_passed", 0) for s in with_code)
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in with_code:
        if s.get("examples_passed", 0) == most:
            groups.setdefault(s.get("program") or s["code_digest"], []).append(s)
    heads = [g[0] for g in groups.values()]
    weights = [len(g) for g in groups.values()]
    width = max(len(h.get("behaviour") or []) for h in heads)
    behaviours = [tuple(h.get("behaviour") or [agreement.NO_RESULT] * width) for h in heads]
    scores = agreement.agreement(behaviours, weights) if width else [0] * len(heads)
    return heads[max(range(len(heads)), key=lambda i: (scores[i], weights[i], -i))]


def summarize(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per set and setting: pass@k, coverage@k, selected@k (HumanEval), programs, cost."""
    entries = []
    grouped = by_task(rows)
    for (set_name, setting) in sorted(grouped, key=lambda k: (SETS.index(k[0]) if k[0] in SETS else 9, k[1])):
        tasks = grouped[set_name, setting]
        samples = [s for task in tasks.values() for s in task]
        entry: dict[str, Any] = {"set": set_name, "setting": setting, "tasks": len(tasks), "samples": len(samples),
                                 "n_min": min(len(t) for t in tasks.values()), "pass": {}, "coverage": {},
                                 "selected": {}, "curve": [], "solved_any": sum(any(s["solved"] for s in t)
                                                                                for t in tasks.values())}
        for k in range(1, max(len(t) for t in tasks.values()) + 1):
            ready = [t for t in tasks.values() if len(t) >= k]
            value = statistics.mean(pass_at_k(len(t), sum(s["solved"] for s in t), k) for t in ready)
            entry["curve"].append((k, value, len(ready)))
            if k in KS:
                entry["pass"][k] = (value, len(ready))
                entry["coverage"][k] = (statistics.mean(covered([s["solved"] for s in t], k) for t in ready), len(ready))
                if set_name == "humaneval":
                    picks = [selected(t[:k]) for t in ready]
                    entry["selected"][k] = (statistics.mean(bool(p and p["solved"]) for p in picks), len(ready))
        entry["programs"] = statistics.mean(len({s["program"] for s in t if s.get("program")}) for t in tasks.values())
        entry["tokens_in"] = statistics.mean(s["tokens_in"] + s.get("plan_tokens_in", 0) for s in samples)
        entry["tokens_out"] = statistics.mean(s["tokens_out"] + s.get("plan_tokens_out", 0) for s in samples)
        entry["seconds"] = statistics.mean(s["seconds"] for s in samples)
        entry["call_seconds"] = statistics.mean(s["call_seconds"] for s in samples)
        entry["load"] = statistics.mean(s.get("load", 0.0) for s in samples)
        entry["hours"] = sum(s["seconds"] for s in samples) / 3600
        entries.append(entry)
    return entries


def _pct(value: tuple[float, int] | None, tasks: int) -> str:
    if value is None:
        return "-"
    share, ready = value
    return f"{100 * share:.0f}" + ("" if ready == tasks else f"({ready})")


def report_tables(entries: Sequence[dict[str, Any]]) -> list[Table]:
    """Reach per k (pass@k / coverage@k, and / selected@k on HumanEval, in %), then programs and
    cost; a cell over fewer tasks than the set has says how many in brackets."""
    reach = Table(title="ceiling, % of tasks: pass@k / coverage@k (HumanEval: / selected@k)", title_justify="left")
    cost = Table(title="programs and cost per sample", title_justify="left")
    for head in ["set", "setting", "n", *(f"k={k}" for k in KS), "any"]:
        reach.add_column(head, justify="left" if head in ("set", "setting") else "right", no_wrap=True)
    for head in ["set", "setting", "programs/task", "tok in", "tok out", "s/sample", "s/call", "hours", "load"]:
        cost.add_column(head, justify="left" if head in ("set", "setting") else "right", no_wrap=True)
    for e in entries:
        tasks = e["tasks"]
        cells = [" / ".join(_pct(e[kind].get(k), tasks) for kind in ("pass", "coverage", "selected") if e[kind])
                 if k in e["pass"] else "-" for k in KS]
        reach.add_row(e["set"], e["setting"], str(e["n_min"]), *cells, f"{e['solved_any']}/{tasks}")
        cost.add_row(e["set"], e["setting"], f"{e['programs']:.1f}", f"{e['tokens_in']:.0f}", f"{e['tokens_out']:.0f}",
                     f"{e['seconds']:.1f}", f"{e['call_seconds']:.1f}", f"{e['hours']:.2f}", f"{e['load']:.1f}")
    return [reach, cost]


def plot(entries: Sequence[dict[str, Any]], path: Path) -> None:
    """Coverage (pass@k) against samples and against seconds, one line per set and setting."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_k, by_s) = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    colours = {name: f"C{i}" for i, name in enumerate(SETS)}
    styles = ["-", "--", ":", "-."]
    settings = sorted({e["setting"] for e in entries})
    for e in entries:
        ks = [k for k, _, _ in e["curve"]]
        ys = [100 * v for _, v, _ in e["curve"]]
        style = dict(color=colours.get(e["set"], "k"), linestyle=styles[settings.index(e["setting"]) % 4],
                     marker="o", markersize=3)
        by_k.plot(ks, ys, label=f"{e['set']} {e['setting']}", **style)
        by_s.plot([k * e["seconds"] for k in ks], ys, **style)
        if e["selected"]:
            picked = sorted(e["selected"].items())
            by_k.plot([k for k, _ in picked], [100 * v for _, (v, _) in picked], color=style["color"],
                      linestyle="none", marker="x", markersize=8, label=f"{e['set']} {e['setting']} selected@k")
    by_k.set(xlabel="samples per task (k)", ylabel="tasks covered, % (pass@k estimate)", xscale="log")
    by_s.set(xlabel="seconds per task (k × seconds per sample)", xscale="log")
    by_k.set_xticks(list(KS))
    for axis in (by_k, by_s):
        axis.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.grid(alpha=0.3)
    by_k.legend(fontsize=7)
    fig.suptitle("Ceiling of the opening request (embedded Qwen2.5-Coder-1.5B)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def task_table(rows: Iterable[dict[str, Any]]) -> Table:
    """Samples solved of those drawn, per task and setting."""
    grouped = by_task(rows)
    settings = sorted({setting for _, setting in grouped})
    table = Table(title="samples solved / drawn, per task", title_justify="left")
    for head in ["set", "task", *settings]:
        table.add_column(head, justify="left" if head in ("set", "task") else "right", no_wrap=True)
    tasks = sorted({(s, t) for (s, _), found in grouped.items() for t in found},
                   key=lambda k: (SETS.index(k[0]) if k[0] in SETS else 9, k[1]))
    for set_name, task in tasks:
        cells = []
        for setting in settings:
            samples = grouped.get((set_name, setting), {}).get(task, [])
            cells.append(f"{sum(bool(s['solved']) for s in samples)} / {len(samples)}" if samples else "-")
        table.add_row(set_name, task, *cells)
    return table


def report(out: Path, plot_path: Path, console: Console, per_task: bool = False) -> None:
    entries = summarize(read_rows(out))
    if not entries:
        raise MyLLMError(f"{out} holds no rows yet")
    commits = sorted({r["commit"] for r in read_rows(out)})
    for table in report_tables(entries):
        console.print(table)
    console.print(f"rows of commit(s) {', '.join(commits)}. n: fewest samples of a task; (N): tasks with k samples "
                  "when not all; coverage: a passing sample among the first k; selected: the pick seeing only the "
                  "docstring passes; s/sample: wall seconds a sample adds (the slots overlap); s/call: one call's "
                  "latency; load: the machine's mean load average while sampling", soft_wrap=True)
    rows = read_rows(out)
    if per_task:
        console.print(task_table(rows))
    grouped = by_task(rows)
    console.print(ceiling_policies.mix_table(grouped))
    console.print(ceiling_policies.stop_table(grouped))
    plot(entries, plot_path)
    console.print(f"plot: {plot_path}")
