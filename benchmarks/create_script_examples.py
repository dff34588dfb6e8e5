"""Run the real create-script CLI on every task folder in examples/ and print what it achieved.

    python benchmarks/create_script_examples.py [--model local] [--max-iterations 5] [--only primes,fizzbuzz]
    python benchmarks/create_script_examples.py --tasks benchmarks/validation   # the validation set
    python benchmarks/create_script_examples.py --tasks benchmarks/heldout      # the held-out set (never tuned on)
    python benchmarks/create_script_examples.py --lang rust [--max-iterations 1]  # examples/rust/
    python benchmarks/create_script_examples.py --compare OLD.json NEW.json --plot compare.png

Each task runs in a fresh temporary folder (a copy of its test file), through the same command a
user types, so the figures include model loading, extraction and the sandbox. Prints per task and
in total: solved, iterations, tokens in/out, seconds; writes the rows to --out as JSON.
``--compare`` reads such files (one per commit, say) and plots the tests passed per task side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent


def task_folders(examples: Path, only: set[str] | None) -> list[Path]:
    folders = sorted(p for p in examples.iterdir() if (p / "prompt.txt").exists())
    return [p for p in folders if not only or p.name in only]


def task_files(folder: Path, lang: str) -> tuple[Path, str]:
    """A task's test file and the output file's name: test_<module>.py gives <module>.py; a Rust
    task's tests.rs gives <crate>.rs, the crate its meta.json names."""
    if lang == "rust":
        crate = json.loads((folder / "meta.json").read_text())["crate"]
        return folder / "tests.rs", f"{crate}.rs"
    test_file = next(folder.glob("test_*.py"))
    return test_file, test_file.stem.removeprefix("test_") + ".py"


def run_task(folder: Path, args: argparse.Namespace, scratch: Path) -> dict:
    test_file, output_name = task_files(folder, args.lang)
    work = scratch / folder.name
    work.mkdir()
    shutil.copy(test_file, work)
    prompt = (folder / "prompt.txt").read_text().strip()
    command = [
        sys.executable, "-m", "code_generation.create_script", prompt, str(work / output_name),
        "--test_file", str(work / test_file.name), "--json", "--no-memory", "--no-cache",  # every call real
        "--max-iterations", str(args.max_iterations), "--model", args.model,
        "--run-dir", str(work / "run"),
    ]
    if args.candidates is not None:
        command += ["--candidates", str(args.candidates)]
    if args.tactics is not None:
        command += ["--tactics", args.tactics]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    env = {k: v for k, v in os.environ.items() if k != "MY_LLM_MODEL"}
    started = time.monotonic()
    stdout, stderr, peak_mib = _run_measured(command, env)
    wall = time.monotonic() - started
    try:
        result = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"task": folder.name, "solved": False, "iterations": 0, "tokens_in": 0, "tokens_out": 0,
                "seconds": round(wall, 1), "error": stderr.strip().splitlines()[-1:] or ["no output"]}
    return {
        "task": folder.name,
        "solved": bool(result["success"]),
        "iterations": result["iterations"],
        "tests": f"{result['tests_passed']}/{result['tests_total']}",
        "tokens_in": result["tokens_in"],
        "tokens_out": result["tokens_out"],
        "seconds": round(wall, 1),
        "peak_rss_mib": peak_mib,
        **_cache_figures(result.get("calls", [])),
    }


def _run_measured(command: list[str], env: dict[str, str]) -> tuple[str, str, int]:
    """Run the CLI; its output and its peak resident memory (MiB), from the kernel's own count."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
        _, _, rusage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        out.seek(0)
        err.seek(0)
        return out.read(), err.read(), rusage.ru_maxrss // 1024


def _cache_figures(calls: list[dict]) -> dict:
    """Prompt tokens computed and served from the prompt cache: first requests and later rounds
    apart, and per kind of request (the loop's `purpose`: "opening", "append", "focus", ...)."""
    later = [c for c in calls if not str(c.get("label", "")).startswith("code-1")]
    by_purpose: dict[str, list[int]] = {}
    for c in calls:
        if c.get("purpose"):
            figures = by_purpose.setdefault(str(c["purpose"]), [0, 0])
            figures[0] += c.get("prompt_n") or 0
            figures[1] += c.get("cache_n") or 0
    return {
        "prompt_n": sum(c.get("prompt_n") or 0 for c in calls),
        "cache_n": sum(c.get("cache_n") or 0 for c in calls),
        "later_prompt_n": sum(c.get("prompt_n") or 0 for c in later),
        "later_cache_n": sum(c.get("cache_n") or 0 for c in later),
        "by_purpose": by_purpose,  # purpose -> [prompt_n, cache_n]
    }


def _tests(row: dict) -> float:
    passed, _, total = str(row.get("tests", "0/0")).partition("/")
    return int(passed) / int(total) if total and int(total) else 0.0


def compare(files: list[Path], plot: Path | None) -> int:
    """The share of tests passed per task in each results file, as a table and a grouped bar chart."""
    runs = {path.stem: {r["task"]: r for r in json.loads(path.read_text())["rows"]} for path in files}
    tasks = sorted({task for rows in runs.values() for task in rows})
    table = Table(title="tests passed per task (solved in bold)")
    table.add_column("task")
    for name in runs:
        table.add_column(name, justify="right")
    for task in tasks:
        cells = []
        for rows in runs.values():
            row = rows.get(task)
            cell = "-" if row is None else str(row.get("tests", "-"))
            cells.append(f"[bold]{cell}[/bold]" if row and row["solved"] else cell)
        table.add_row(task, *cells)
    table.add_row("SOLVED", *(f"{sum(r['solved'] for r in rows.values())}/{len(rows)}" for rows in runs.values()))
    Console().print(table)
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 0.45 * len(tasks) + 1.5))
        height = 0.8 / len(runs)
        for k, (name, rows) in enumerate(runs.items()):
            solved = sum(r["solved"] for r in rows.values())
            ys = [i + k * height for i in range(len(tasks))]
            ax.barh(ys, [_tests(rows[t]) if t in rows else 0.0 for t in tasks], height, label=f"{name} ({solved} solved)")
        ax.set_yticks([i + 0.4 - height / 2 for i in range(len(tasks))], tasks)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the task's tests passed by the best attempt (1.0 = solved)")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="small")
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"plot: {plot}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="local")
    parser.add_argument("--max-iterations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=None, help="programs sampled per iteration (default: the CLI's)")
    parser.add_argument("--tactics", default=None, help="the loop's tactics, comma list (default: the model's own set)")
    parser.add_argument("--only", default="", help="comma list of task folder names")
    parser.add_argument("--tasks", "--examples", dest="examples", type=Path, default=None, metavar="DIR",
                        help="folder of task folders: examples/ (tuning set, the default), benchmarks/validation, "
                             "benchmarks/heldout, examples/rust (the default with --lang rust)")
    parser.add_argument("--lang", choices=["python", "rust"], default="python",
                        help="the tasks' language: python (test_<module>.py) or rust (tests.rs and meta.json's crate)")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    parser.add_argument("--keep", type=Path, default=None, help="a new folder to keep each task's run folder in")
    parser.add_argument("--compare", type=Path, nargs="+", default=None,
                        help="results files written by --out: compare them instead of running")
    parser.add_argument("--plot", type=Path, default=None, help="with --compare: write a bar chart here")
    args = parser.parse_args()
    if args.compare:
        return compare(args.compare, args.plot)
    if args.examples is None:
        args.examples = ROOT / "examples" / ("rust" if args.lang == "rust" else "")
    only = {name.strip() for name in args.only.split(",") if name.strip()} or None
    folders = task_folders(args.examples, only)
    rows = run_all(folders, args)
    report(rows, args)
    return 0


def run_all(folders: list[Path], args: argparse.Namespace) -> list[dict]:
    """Every task in turn; with --out, rows already there are kept and their tasks skipped (resumable)."""
    saved = json.loads(args.out.read_text()) if args.out and args.out.exists() else {}
    rows: list[dict] = [r for r in saved.get("rows", []) if r["task"] in {f.name for f in folders}]
    done = {r["task"] for r in rows}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-create-script-") as temp, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console()
    ) as progress:
        bar = progress.add_task("tasks", total=len(folders), completed=len(done))
        for folder in folders:
            if folder.name in done:
                continue
            progress.update(bar, description=f"{folder.name:<22} solved {sum(r['solved'] for r in rows)}/{len(rows)}")
            row = run_task(folder, args, args.keep or Path(temp))
            rows.append({**row, "commit": _commit(), "measured": time.strftime("%Y-%m-%d %H:%M")})
            if args.out:
                _save(rows, args)
            progress.advance(bar)
    return rows


def _save(rows: list[dict], args: argparse.Namespace) -> None:
    rate = sum(r["solved"] for r in rows) / len(rows) if rows else 0.0
    args.out.write_text(json.dumps({"model": args.model, "seed": args.seed, "tasks": str(args.examples.name),
                                    "lang": args.lang, "max_iterations": args.max_iterations, "candidates": args.candidates, "tactics": args.tactics,
                                    "rows": rows, "solved_rate": rate}, indent=2))


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return proc.stdout.strip() or "unknown"


def report(rows: list[dict], args: argparse.Namespace) -> None:
    console = Console()
    table = Table(title=f"create-script on {args.examples.name}/ ({args.model}, max {args.max_iterations} iterations)")
    for column in ("task", "solved", "iterations", "tests", "tokens in", "tokens out", "seconds", "peak MiB"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for r in rows:
        table.add_row(r["task"], "yes" if r["solved"] else "no", str(r["iterations"]), r.get("tests", "-"),
                      str(r["tokens_in"]), str(r["tokens_out"]), f"{r['seconds']:.1f}", str(r.get("peak_rss_mib", "-")))
    solved = sum(r["solved"] for r in rows)
    table.add_row("TOTAL", f"{solved}/{len(rows)}", str(sum(r["iterations"] for r in rows)), "",
                  str(sum(r["tokens_in"] for r in rows)), str(sum(r["tokens_out"] for r in rows)),
                  f"{sum(r['seconds'] for r in rows):.1f}", str(max((r.get("peak_rss_mib") or 0 for r in rows), default=0)),
                  style="bold")
    console.print(table)
    rate = solved / len(rows) if rows else 0.0
    solved_seconds = sorted(r["seconds"] for r in rows if r["solved"])
    median = solved_seconds[len(solved_seconds) // 2] if solved_seconds else None
    later_cache = sum(r.get("later_cache_n", 0) for r in rows)
    later_total = later_cache + sum(r.get("later_prompt_n", 0) for r in rows)
    cache = f"{later_cache / later_total:.0%}" if later_total else "not reported"
    print(f"solved {solved}/{len(rows)} ({rate:.0%}) within {args.max_iterations} iterations; "
          f"median seconds per solved task {median}; prompt cache in later rounds {cache}")
    kinds: dict[str, list[int]] = {}
    for r in rows:
        for purpose, (computed, cached) in (r.get("by_purpose") or {}).items():
            totals = kinds.setdefault(purpose, [0, 0])
            totals[0] += computed
            totals[1] += cached
    if kinds:
        print("prompt cache by request: " + ", ".join(
            f"{purpose} {cached / (computed + cached):.0%} of {computed + cached}"
            for purpose, (computed, cached) in sorted(kinds.items()) if computed + cached))

if __name__ == "__main__":
    sys.exit(main())
