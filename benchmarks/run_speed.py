#!/usr/bin/env python
"""Where samples per minute come from, inside whole runs: the prompt cache, n-gram drafting and the
parallel slots, read from kept run folders (no model).

    python benchmarks/create_script_examples.py --keep K ...   # the runs (model)
    python benchmarks/run_speed.py K [K2 ...] [--out R.json]

Per kind of request (the loop's `purpose`) and in all: calls; prompt tokens served from llama.cpp's
prompt cache of all prompt tokens; tokens generated and the generation speed (tokens per second
of the call's own time); drafted tokens accepted of those drafted (n-gram drafting); and per run,
samples per minute of wall time, which the two slots raise when a round asks for several.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kept_runs  # noqa: E402


def calls_of(roots: list[Path]) -> list[tuple[float, list[dict]]]:
    """(run seconds, model calls) of every kept run folder under the given folders."""
    runs = []
    for path in kept_runs.run_files(roots):
        try:
            run = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        runs.append((float(run.get("seconds") or 0.0), [c for c in run.get("calls", []) if isinstance(c, dict)]))
    return runs


def figures(calls: list[dict]) -> dict:
    """The speed figures of a set of calls (llama.cpp's own counts; None where it gave none)."""
    prompt = sum((c.get("prompt_n") or 0) + (c.get("cache_n") or 0) for c in calls)
    cached = sum(c.get("cache_n") or 0 for c in calls)
    drafted = sum(c.get("draft_n") or 0 for c in calls)
    speeds = [c["tokens_per_s"] for c in calls if c.get("tokens_per_s")]
    return {"calls": len(calls), "prompt_tokens": prompt, "cache_share": cached / prompt if prompt else None,
            "tokens_out": sum(c.get("tokens_out") or 0 for c in calls),
            "tokens_per_s": statistics.median(speeds) if speeds else None,
            "drafted": drafted, "accepted": sum(c.get("draft_accepted") or 0 for c in calls)}


def report(runs: list[tuple[float, list[dict]]]) -> tuple[Table, dict]:
    every = [c for _, calls in runs for c in calls]
    kinds = sorted({str(c.get("purpose") or "other") for c in every})
    rows = {kind: figures([c for c in every if str(c.get("purpose") or "other") == kind]) for kind in kinds}
    rows["all"] = figures(every)
    table = Table(title=f"inside {len(runs)} whole runs", title_justify="left")
    for head in ("request", "calls", "prompt tokens", "from cache", "tokens out", "median tokens/s",
                 "drafted accepted"):
        table.add_column(head, justify="left" if head == "request" else "right")
    for kind, f in rows.items():
        share = "-" if f["cache_share"] is None else f"{f['cache_share']:.0%}"
        speed = "-" if f["tokens_per_s"] is None else f"{f['tokens_per_s']:.1f}"
        draft = f"{f['accepted']} / {f['drafted']}" if f["drafted"] else "-"
        table.add_row(kind, str(f["calls"]), str(f["prompt_tokens"]), share, str(f["tokens_out"]), speed, draft)
    wall = sum(seconds for seconds, _ in runs)
    summary = {"by_request": rows, "samples_per_minute": 60 * len(every) / wall if wall else None}
    return table, summary


def main(argv: list[str] | None = None) -> int:
    args = kept_runs.parse(__doc__.split("\n\n")[0], argv, "write the figures as JSON")
    runs = calls_of(args.folders)
    if not runs:
        return kept_runs.none_found(args.folders)
    table, summary = report(runs)
    console = Console()
    console.print(table)
    if summary["samples_per_minute"] is not None:
        console.print(f"samples per minute of wall time, model loading included: {summary['samples_per_minute']:.2f}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
