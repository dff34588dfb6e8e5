"""create-script and Aider side by side on the validation set, on one served model, judged alike.

    flock /tmp/model.lock .venv/bin/python benchmarks/aider_side_by_side.py [--tasks pascal_triangle,luhn_checksum]
        [--sides ours,aider] [--max-iterations 5] [--seed 1] [--model local] [--out FILE.jsonl]
    .venv/bin/python benchmarks/aider_side_by_side.py --url http://127.0.0.1:8080/v1 [...]   # a running server
    .venv/bin/python benchmarks/aider_side_by_side.py --report --out FILE.jsonl   # the tables and plot only

Without ``--url`` it starts ``my-llm serve --model MODEL`` on a free loopback port (as
benchmarks/serve_load.py does) and stops it at the end; both sides call that one server, under
the name it serves (``/v1/models``), one task at a time. Each (task, side) runs in a fresh temporary
folder holding prompt.txt and the task's test file:

* ours: ``create-script PROMPT <module>.py --test_file ... --model openai:NAME --base-url URL``
  with its defaults, ``--max-iterations N``, ``--time-budget 0`` (rounds alone limit both
  sides, as Aider has no time budget), ``--seed``, ``--no-cache`` (every call real);
* aider: benchmarks/aider_runner.py, run by the python of Aider's own virtual environment
  (``--aider-venv``, made on first use with ``pip install aider-chat``), drives
  ``aider.coders.Coder`` on ``openai/NAME``: the module file to edit, the test file read-only,
  no git, no repo map, no lint, auto-test with ``pytest`` under this project's python (the
  interpreter the sandbox runs), ``max_reflections`` N-1, so at most N model rounds as ours.

The judge is the same for both and outside the generated code's reach: once a side is done, the
file it produced (ours: the output file, or the run folder's best.py when unsolved) runs in the
project's sandbox (``code_generation.sandbox.runner.run_tests``) against the task's pristine test
file, as the evaluation harness judges. Per (task, side, seed, max-iterations): solved, tests
passed, rounds, prompt and completion tokens (Aider's: its coder's counters; the requests its
history summaries add are counted apart, ``all_*_tokens``), model requests, wall seconds (with
process start; ``run_seconds`` without), appended one by one to
``benchmarks/results/aider_side_by_side_<commit>.jsonl`` (``--out``); a rerun skips rows there
(error rows run again). A table per side and a plot beside the results (``.png``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import RESULTS, commit  # noqa: E402
from benchmarks.serve_load import START_TIMEOUT, Target, target_for  # noqa: E402
from code_generation.evaluation.report import jsonl_rows  # noqa: E402
from code_generation.evaluation.tasks import EvalTask, folder_task  # noqa: E402
from code_generation.sandbox.runner import run_tests  # noqa: E402
from code_generation.sandbox.verdict import defined_tests  # noqa: E402
from my_llm.models.model_tiers import ModelProfile  # noqa: E402
from my_llm.models.serve import DEFAULT_MAX_TOKENS  # noqa: E402

console = Console(stderr=True)
TASKS = ROOT / "benchmarks" / "validation"
RUNNER = Path(__file__).with_name("aider_runner.py")
DEFAULT_VENV = Path.home() / ".cache" / "my_llm" / "aider-venv"
SIDES = ("ours", "aider")
ROUND_SECONDS = 900.0  # per round at most: a request may queue (600 s in the tools) plus the tests
SCRUBBED_ENV = ("MY_LLM_BASE_URL", "MY_LLM_MODEL", "MY_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL")
KEPT_FOR_AIDER = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM")
DUMMY_KEY = "not-needed"  # my-llm serve on loopback takes no key; LiteLLM wants one all the same


# --------------------------------------------------------------------------- Aider's environment

def ensure_aider(venv: Path) -> Path:
    """The python of Aider's own virtual environment, made and filled on first use (never ours)."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import aider.coders"], capture_output=True).returncode == 0:
        return python
    console.print(f"making Aider's environment in {venv} (python3 -m venv, pip install aider-chat) ...")
    subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "aider-chat"], check=True)
    return python


def aider_env(venv: Path) -> dict[str, str]:
    """A minimal environment: no key or setting of the user's reaches Aider, its home is in its venv."""
    env = {k: os.environ[k] for k in KEPT_FOR_AIDER if k in os.environ}
    home = venv / "home"  # ~/.aider (caches, analytics id) stays beside Aider, not in the user's home
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home), "OPENAI_API_KEY": DUMMY_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "NO_COLOR": "1", "COLUMNS": "120", "PYTHONDONTWRITEBYTECODE": "1"}


def served_context(base_url: str) -> int:
    """Tokens per request slot: llama.cpp's ``/props``, else the tiers' default context."""
    try:
        props = httpx.get(base_url.removesuffix("/v1") + "/props", timeout=5).json()
        n_ctx = props["default_generation_settings"]["n_ctx"]
        return int(n_ctx) if isinstance(n_ctx, int) and n_ctx > 0 else ModelProfile().n_ctx
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return ModelProfile().n_ctx


# --------------------------------------------------------------------------- rows

def row_key(row: dict[str, Any]) -> tuple[str, str, Any, Any]:
    return (row["task"], row["side"], row.get("seed"), row.get("max_iterations"))


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The rows written so far; a line cut by a stop in the middle of a write is ignored."""
    return jsonl_rows(path, "task", "side")


def done_keys(rows: Iterable[dict[str, Any]]) -> set[tuple[str, str, Any, Any]]:
    """Keys whose row needs no rerun (an error row runs again)."""
    return {row_key(r) for r in rows if not r.get("error")}


def latest(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str, Any, Any], dict[str, Any]]:
    """The last row of each key: a rerun of an error row replaces it."""
    return {row_key(r): r for r in rows}


def append_row(path: Path, row: dict[str, Any]) -> None:
    """One line, flushed; after a line cut by a stop, on a line of its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cut = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    with path.open("a") as handle:
        handle.write(("\n" if cut else "") + json.dumps(row) + "\n")
        handle.flush()


def median(values: list[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def side_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of one side's rows: solved, tokens, seconds, median seconds per solved task."""
    return {"tasks": len(rows), "solved": sum(bool(r["solved"]) for r in rows),
            "prompt_tokens": sum(r.get("prompt_tokens") or 0 for r in rows),
            "completion_tokens": sum(r.get("completion_tokens") or 0 for r in rows),
            "all_tokens": sum((r.get("all_prompt_tokens") or r.get("prompt_tokens") or 0)
                              + (r.get("all_completion_tokens") or r.get("completion_tokens") or 0) for r in rows),
            "model_calls": sum(r.get("model_calls") or 0 for r in rows),
            "rounds": sum(r.get("rounds") or 0 for r in rows), "seconds": round(sum(r["seconds"] for r in rows), 1),
            "median_solved_seconds": median([r["seconds"] for r in rows if r["solved"]]),
            "errors": sum(bool(r.get("error")) for r in rows)}


# --------------------------------------------------------------------------- the judge

def judge(task: EvalTask, source: str | None) -> dict[str, Any]:
    """The project's sandbox on the produced source against the task's own test file."""
    code = task.task
    expected = len(defined_tests(code.test_source) or [])
    if source is None or not source.strip():
        return {"solved": False, "tests_passed": 0, "tests_total": expected, "judge": "no file"}
    result = run_tests(source, code.module_name, code.test_source, code.test_filename)
    return {"solved": result.success, "tests_passed": result.passed, "tests_total": result.tests_run or expected,
            "judge": result.status}


def read_source(*paths: Path) -> tuple[str | None, str]:
    """The first of ``paths`` that exists: its text and which one it was."""
    for path in paths:
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace"), path.name
    return None, "none"


# --------------------------------------------------------------------------- the two sides

def prepare(task: EvalTask, work: Path) -> Path:
    """A fresh folder with the prompt and the test file; the module's path in it."""
    shutil.rmtree(work, ignore_errors=True)  # with --keep, what an earlier run of the pair left
    work.mkdir(parents=True)
    (work / "prompt.txt").write_text(task.task.prompt + "\n")
    shutil.copy(Path(task.source) / task.task.test_filename, work / task.task.test_filename)
    return work / f"{task.task.module_name}.py"


def run_ours(task: EvalTask, work: Path, target: Target, args: argparse.Namespace) -> dict[str, Any]:
    module = prepare(task, work)
    command = [sys.executable, "-m", "code_generation.create_script", task.task.prompt, str(module),
               "--test_file", str(work / task.task.test_filename), "--json", "--no-memory", "--no-cache",
               "--max-iterations", str(args.max_iterations), "--time-budget", "0", "--model", f"openai:{target.model}",
               "--base-url", target.base_url, "--run-dir", str(work / "run")]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          timeout=ROUND_SECONDS * args.max_iterations + 120)
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    source, judged = read_source(module, work / "run" / "best.py")
    return {"rounds": result["iterations"], "prompt_tokens": result["tokens_in"],
            "completion_tokens": result["tokens_out"], "model_calls": len(result.get("calls") or []),
            "own_verdict": f"{result['tests_passed']}/{result['tests_total']}", "run_seconds": result["seconds"],
            "judged_file": judged, "source": source}


def run_aider(task: EvalTask, work: Path, target: Target, args: argparse.Namespace) -> dict[str, Any]:
    module = prepare(task, work)
    test_cmd = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider {task.task.test_filename}"
    spec = {"work": str(work), "module_file": module.name, "test_file": task.task.test_filename,
            "prompt": task.task.prompt, "model": target.model, "base_url": target.base_url,
            "api_key": target.api_key or DUMMY_KEY, "seed": args.seed, "rounds": args.max_iterations,
            "context": args.context, "max_output": DEFAULT_MAX_TOKENS, "test_cmd": test_cmd,
            "ignore": ["prompt.txt", task.task.test_filename]}
    spec_file, result_file = work.parent / f"{work.name}.spec.json", work.parent / f"{work.name}.result.json"
    spec_file.write_text(json.dumps(spec))
    result_file.unlink(missing_ok=True)
    with (work.parent / f"{work.name}.aider.log").open("w+") as log:
        subprocess.run([args.aider_python, str(RUNNER), str(spec_file), str(result_file)], cwd=work,
                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=aider_env(args.aider_venv),
                       timeout=ROUND_SECONDS * args.max_iterations + 120)
        log.seek(0)
        tail = [line for line in log.read().splitlines() if line.strip()][-1:]
    if not result_file.exists():
        return {"error": (tail or ["no output"])[-1][:300]}
    result = json.loads(result_file.read_text())
    source, judged = read_source(module)
    return {"rounds": result["rounds"], "prompt_tokens": result["tokens_sent"],
            "completion_tokens": result["tokens_received"], "model_calls": result["model_calls"],
            "all_prompt_tokens": result["all_prompt_tokens"], "all_completion_tokens": result["all_completion_tokens"],
            "own_verdict": {True: "pass", False: "fail", None: "not run"}[result["aider_tests_passed"]],
            "aider_version": result["aider_version"], "edit_format": result["edit_format"],
            "run_seconds": result["run_seconds"], "judged_file": judged, "source": source}


RUNNERS = {"ours": run_ours, "aider": run_aider}


def run_one(task: EvalTask, side: str, scratch: Path, target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """One (task, side): run it, then judge what it left; a side that broke gets an error row."""
    started = time.monotonic()
    try:
        found = RUNNERS[side](task, scratch / f"{task.id}-{side}", target, args)
    except subprocess.TimeoutExpired as exc:
        found = {"error": f"timed out after {exc.timeout:.0f} s"}
    seconds = round(time.monotonic() - started, 1)
    verdict = judge(task, found.pop("source", None)) if "error" not in found else judge(task, None)
    return {"task": task.id, "side": side, "seed": args.seed, "max_iterations": args.max_iterations,
            "model": target.model, "solved": verdict["solved"], "tests_passed": verdict["tests_passed"],
            "tests_total": verdict["tests_total"], "judge": verdict["judge"], "rounds": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "model_calls": 0, **found, "seconds": seconds, "commit": args.commit,
            "measured": time.strftime("%Y-%m-%d %H:%M")}


def run_all(tasks: list[EvalTask], target: Target, args: argparse.Namespace) -> None:
    """Every (task, side) not in --out yet, a row appended as soon as it is judged."""
    done = done_keys(load_rows(args.out))
    pending = [(t, s) for t in tasks for s in args.sides
               if (t.id, s, args.seed, args.max_iterations) not in done]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-aider-") as temp, Progress(*columns, console=console) as progress:
        bar = progress.add_task("tasks", total=len(tasks) * len(args.sides),
                                completed=len(tasks) * len(args.sides) - len(pending))
        for task, side in pending:
            progress.update(bar, description=f"{task.id:<18} {side:<5}")
            row = run_one(task, side, args.keep or Path(temp), target, args)
            append_row(args.out, row)
            verdict = "error: " + row["error"] if row.get("error") else ("solved" if row["solved"] else "not solved")
            progress.console.print(f"{task.id} {side}: {row['tests_passed']}/{row['tests_total']} {verdict}, "
                                   f"{row['rounds']} rounds, {row['seconds']} s")
            progress.advance(bar)


# --------------------------------------------------------------------------- report

def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """A table per side, then the totals side by side; returns the totals."""
    totals = {}
    for side in args.sides:
        mine = [r for r in rows if r["side"] == side]
        table = Table(title=f"{side} on {args.tasks_dir.name}/ ({mine[0]['model'] if mine else '-'}, "
                            f"max {args.max_iterations} rounds, seed {args.seed})")
        for column in ("task", "solved", "tests", "rounds", "calls", "tokens in", "tokens out", "seconds"):
            table.add_column(column, justify="left" if column == "task" else "right", no_wrap=column == "task")
        for r in mine:
            table.add_row(r["task"], "error" if r.get("error") else ("yes" if r["solved"] else "no"),
                          f"{r['tests_passed']}/{r['tests_total']}", str(r["rounds"]), str(r["model_calls"]),
                          str(r["prompt_tokens"]), str(r["completion_tokens"]), f"{r['seconds']:.1f}")
        s = totals[side] = side_summary(mine)
        table.add_row("TOTAL", f"{s['solved']}/{s['tasks']}", "", str(s["rounds"]), str(s["model_calls"]),
                      str(s["prompt_tokens"]),
                      str(s["completion_tokens"]), f"{s['seconds']:.1f}", style="bold")
        Console().print(table)
        print(f"{side}: solved {s['solved']}/{s['tasks']}; median seconds per solved task "
              f"{s['median_solved_seconds']}; {s['model_calls']} model requests, {s['all_tokens']} tokens in all"
              + (f"; {s['errors']} error rows" if s["errors"] else ""))
    return totals


def plot(rows: list[dict[str, Any]], totals: dict[str, dict[str, Any]], path: Path) -> Path | None:
    """Left: the share of each task's tests passed, per side; right: solved tasks per side."""
    try:
        import matplotlib
    except ImportError:
        console.print("matplotlib is not installed (the 'eval' extra): no plot")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({r["task"] for r in rows})
    sides = list(totals)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.4 * len(tasks) + 2), width_ratios=[3, 1])
    height = 0.8 / max(1, len(sides))
    for k, side in enumerate(sides):
        by_task = {r["task"]: r for r in rows if r["side"] == side}
        shares = [by_task[t]["tests_passed"] / by_task[t]["tests_total"]
                  if t in by_task and by_task[t]["tests_total"] else 0.0 for t in tasks]
        left.barh([i + k * height for i in range(len(tasks))], shares, height, label=side)
    left.set_yticks([i + 0.4 - height / 2 for i in range(len(tasks))], tasks)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("share of the task's tests passed in the sandbox (1.0 = solved)")
    left.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(sides), fontsize="small")
    bars = right.bar(sides, [totals[s]["solved"] for s in sides], color=["C0", "C1"][: len(sides)])
    for bar, side in zip(bars, sides, strict=True):
        t = totals[side]
        right.annotate(f"{t['solved']}/{t['tasks']}\n{(t['prompt_tokens'] + t['completion_tokens']) / 1000:.1f}k tok"
                       f"\nmed {t['median_solved_seconds'] or '-'} s", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                       ha="center", va="bottom", fontsize="small")
    right.set_ylabel("tasks solved")
    right.set_ylim(0, max([t["tasks"] for t in totals.values()] + [1]) * 1.35)
    fig.suptitle(f"create-script vs Aider, same model, max {rows[0]['max_iterations']} rounds ({rows[0]['commit']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="", help="comma list of task folder names (default: all 18)")
    parser.add_argument("--tasks-dir", type=Path, default=TASKS, help=argparse.SUPPRESS)
    parser.add_argument("--sides", default="ours,aider", help="comma list of ours, aider (default both)")
    parser.add_argument("--max-iterations", type=int, default=5, help="model rounds for each side (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed sent by both sides (default 1)")
    parser.add_argument("--model", default="local", help="what my-llm serve loads (default: local)")
    parser.add_argument("--url", default=None, help="use this running OpenAI-compatible server instead")
    parser.add_argument("--aider-venv", type=Path, default=DEFAULT_VENV, help=f"Aider's own venv (default {DEFAULT_VENV})")
    parser.add_argument("--out", type=Path, default=None,
                        help="results (default benchmarks/results/aider_side_by_side_<commit>.jsonl; plot beside it)")
    parser.add_argument("--report", action="store_true", help="only print the tables and plot of the rows in --out")
    parser.add_argument("--keep", type=Path, default=None, help="keep each run's folder (and Aider's log) here")
    args = parser.parse_args(argv)
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if not args.sides or set(args.sides) - set(SIDES):
        parser.error(f"--sides takes a comma list of {', '.join(SIDES)}")
    if args.max_iterations < 1:
        parser.error("--max-iterations must be at least 1")
    args.api_key, args.pid, args.parallel, args.ctx, args.start_timeout = None, None, None, None, START_TIMEOUT
    args.commit = commit()  # the code this process runs, even if the checkout moves on meanwhile
    args.out = args.out or RESULTS / f"aider_side_by_side_{args.commit}.jsonl"
    return args


def select_tasks(args: argparse.Namespace) -> list[EvalTask]:
    wanted = {name.strip() for name in args.tasks.split(",") if name.strip()}
    folders = sorted(p for p in args.tasks_dir.iterdir() if (p / "prompt.txt").is_file())
    unknown = wanted - {p.name for p in folders}
    if unknown:
        raise SystemExit(f"no such task in {args.tasks_dir}: {', '.join(sorted(unknown))}")
    return [folder_task(p) for p in folders if not wanted or p.name in wanted]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tasks = select_tasks(args)
    if args.report:
        return show(tasks, args)
    if "aider" in args.sides:
        import importlib.util

        if importlib.util.find_spec("pytest") is None:
            raise SystemExit(f"Aider's test command runs pytest under {sys.executable}: install it ('.[test]')")
        args.aider_python = ensure_aider(args.aider_venv)
    with target_for(args) as target:
        args.context = served_context(target.base_url)
        console.print(f"{len(tasks)} tasks x {', '.join(args.sides)} on {target.base_url} ({target.model}); "
                      f"rows in {args.out}")
        run_all(tasks, target, args)
    return show(tasks, args)


def show(tasks: list[EvalTask], args: argparse.Namespace) -> int:
    """The tables and the plot of the rows in --out for these tasks (what a run ends with)."""
    wanted = {(t.id, s, args.seed, args.max_iterations) for t in tasks for s in args.sides}
    rows = [r for key, r in latest(load_rows(args.out)).items() if key in wanted]
    totals = report(rows, args)
    picture = plot(rows, totals, args.out.with_suffix(".png")) if rows else None
    console.print(f"Results: {args.out}" + (f", {picture}" if picture else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
