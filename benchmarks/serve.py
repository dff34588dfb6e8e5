"""One server for many clients against the model in-process: throughput and an evaluation.

    python benchmarks/serve.py [--model local] [--requests 8] [--clients 1,2,4] [--humaneval 20]
                               [--out FILE.json] [--skip-eval] [--report FILE.json]

Part 1 sends the same fixed requests (code-writing prompts shaped like the loop's, 256 tokens at
most, each its own seed) with 1, 2 and 4 clients at once, three ways:

* ``server``: one ``my-llm serve`` process, the clients are threads speaking HTTP to it;
* ``in-process``: one model loaded in this process, the clients are threads sharing it (what one
  tool does with several candidates);
* ``own copy``: each client a process that loads its own copy (what two tools in two terminals do
  without a server), timed from the first request to the last answer, and with the loading.

Part 2 runs the evaluation harness on a HumanEval sample (every 8th problem, ``--humaneval``
of them) with ``--jobs 2``, over the server and in-process.

Only one configuration holds the model at any time (the in-process part runs in a child process,
so its copy is gone before the next starts). Every finished row is saved at once in ``--out``
(default ``benchmarks/results/serve_<commit>.json``) and skipped when the command runs again; the
evaluation resumes inside its own folder.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
console = Console(stderr=True)

TASKS = [
    "Write a Python function is_palindrome(s) that ignores case and non-letters.",
    "Write a Python function flatten(nested) that flattens arbitrarily nested lists.",
    "Write a Python function roman(n) that converts an integer to a Roman numeral.",
    "Write a Python function word_counts(text) returning a dict of lower-case word counts.",
    "Write a Python function merge_intervals(pairs) that merges overlapping intervals.",
    "Write a Python function fizzbuzz(n) returning the FizzBuzz strings from 1 to n.",
    "Write a Python class Stack with push, pop, peek and is_empty.",
    "Write a Python function binary_search(items, target) returning the index or -1.",
]
MAX_TOKENS = 256


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_rows(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    return json.loads(path.read_text()).get("rows", [])


def save_rows(path: Path | None, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"model": args.model, "requests": args.requests, "max_tokens": MAX_TOKENS, "rows": rows}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=1))
    os.replace(tmp, path)


def requests_for(count: int) -> list[tuple[str, int]]:
    return [(TASKS[i % len(TASKS)], 100 + i) for i in range(count)]


def one_call(chat: Any, prompt: str, seed: int) -> tuple[int, float, float]:
    """(completion tokens, start, end) of one request."""
    from langchain_core.messages import HumanMessage

    started = time.monotonic()
    reply = chat.invoke([HumanMessage(prompt)], seed=seed, max_tokens=MAX_TOKENS, temperature=0.2)
    usage = reply.usage_metadata or {}
    return int(usage.get("output_tokens", 0)), started, time.monotonic()


def run_clients(chat: Any, clients: int, work: list[tuple[str, int]], tick: Callable[[], None]) -> dict[str, Any]:
    """The requests shared out over ``clients`` threads at once; figures for the whole batch."""
    def call(item: tuple[str, int]) -> tuple[int, float, float]:
        result = one_call(chat, *item)
        tick()
        return result

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(call, work))
    return figures(results, time.monotonic() - started)


def figures(results: list[tuple[int, float, float]], wall: float) -> dict[str, Any]:
    tokens = sum(r[0] for r in results)
    return {"requests": len(results), "tokens_out": tokens, "seconds": round(wall, 2),
            "requests_per_s": round(len(results) / wall, 3), "tokens_per_s": round(tokens / wall, 1),
            "mean_latency_s": round(sum(r[2] - r[1] for r in results) / len(results), 2)}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(model: str) -> Iterator[str]:
    """A ``my-llm serve`` process for the block; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MY_LLM_BASE_URL", "OPENAI_API_KEY")}
    proc = subprocess.Popen([sys.executable, "-m", "my_llm.cli", "serve", "--model", model, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        with console.status(f"starting my-llm serve --model {model} ..."):
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"my-llm serve exited with {proc.returncode}")
                try:
                    with urllib.request.urlopen(url + "/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.5)
        yield url + "/v1"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def throughput_shared(mode: str, args: argparse.Namespace, rows: list[dict[str, Any]], progress: Progress) -> None:
    """`server` or `in-process`: one model, the clients as threads."""
    from my_llm.models import get_chat_model

    todo = [c for c in args.clients if not any(r["part"] == "throughput" and r["mode"] == mode and
                                               r["clients"] == c for r in rows)]
    if not todo:
        return
    work = requests_for(args.requests)
    context = serving(args.model) if mode == "server" else _no_server()
    with context as url:
        chat = (get_chat_model("openai:local", base_url=url, max_tokens=MAX_TOKENS) if url
                else get_chat_model(args.model, max_tokens=MAX_TOKENS))
        getattr(chat, "load", lambda: None)()
        one_call(chat, TASKS[0], 1)  # warm-up, not counted
        for clients in todo:
            task = progress.add_task(f"{mode}, {clients} client(s)", total=len(work))
            row = run_clients(chat, clients, work, lambda t=task: progress.advance(t))
            rows.append({"part": "throughput", "mode": mode, "clients": clients, "commit": commit(), **row})
            save_rows(args.out, rows, args)
        del chat


@contextmanager
def _no_server() -> Iterator[None]:
    yield None


def worker(args: argparse.Namespace) -> int:
    """One client with its own copy: load, answer its share, print its figures as JSON."""
    from my_llm.models import get_chat_model

    started = time.monotonic()
    chat = get_chat_model(args.model, max_tokens=MAX_TOKENS, show_progress=False)
    chat.load()  # type: ignore[attr-defined]
    loaded = time.monotonic()
    work = json.loads(args.worker)
    calls = [one_call(chat, prompt, seed) for prompt, seed in work]
    print(json.dumps({"started": started, "loaded": loaded, "calls": calls}))
    return 0


def throughput_own_copies(args: argparse.Namespace, rows: list[dict[str, Any]], progress: Progress) -> None:
    """Each client a process with its own copy of the model, started together."""
    for clients in args.copies:
        if any(r["part"] == "throughput" and r["mode"] == "own copy" and r["clients"] == clients for r in rows):
            continue
        work = requests_for(args.requests)
        shares = [work[i::clients] for i in range(clients)]
        task = progress.add_task(f"own copy, {clients} process(es)", total=clients)
        started = time.monotonic()
        procs = [subprocess.Popen([sys.executable, __file__, "--model", args.model, "--worker", json.dumps(share)],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT) for share in shares]
        outputs = []
        for proc in procs:
            out, _ = proc.communicate()
            progress.advance(task)
            if proc.returncode != 0:
                raise SystemExit(f"a worker failed with {proc.returncode}")
            outputs.append(json.loads(out.strip().splitlines()[-1]))
        wall_with_load = time.monotonic() - started
        calls = [tuple(c) for o in outputs for c in o["calls"]]
        first, last = min(c[1] for c in calls), max(c[2] for c in calls)
        row = figures(calls, last - first)  # type: ignore[arg-type]
        rows.append({"part": "throughput", "mode": "own copy", "clients": clients, "commit": commit(), **row,
                     "seconds_with_loading": round(wall_with_load, 2)})
        save_rows(args.out, rows, args)


def evaluation(mode: str, args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The harness on the HumanEval sample with --jobs 2, over the server or in-process."""
    if any(r["part"] == "evaluation" and r["mode"] == mode and r.get("complete") for r in rows):
        return
    ids = [str(i) for i in range(0, 164, 8)][: args.humaneval]
    out = RESULTS / f"serve_eval_{mode.replace(' ', '_').replace('-', '_')}"
    base = [sys.executable, "-m", "code_generation.evaluation", "--tasks", "humaneval", "--strategies", "loop",
            "--jobs", "2", "--seed", "1", "--out", str(out), "--ids", *ids]
    context = serving(args.model) if mode == "server" else _no_server()
    started = time.monotonic()
    with context as url:
        extra = ["--model", "openai:local", "--base-url", url] if url else ["--model", args.model]
        proc = subprocess.run([*base, *extra], cwd=ROOT, env={**os.environ, "MY_LLM_BASE_URL": ""})
    if proc.returncode != 0:
        raise SystemExit(f"the evaluation ({mode}) exited with {proc.returncode}; rerun to resume")
    summary = json.loads((out / "summary.json").read_text())
    loop = summary["strategies"]["loop"]
    previous = next((r for r in rows if r["part"] == "evaluation" and r["mode"] == mode), None)
    wall = time.monotonic() - started + (previous["seconds"] if previous else 0)
    rows[:] = [r for r in rows if r is not previous]
    rows.append({"part": "evaluation", "mode": mode, "commit": commit(), "tasks": summary["tasks"],
                 "complete": summary["complete"], "solved": loop["solved"], "seconds": round(wall, 1),
                 "seconds_per_task": loop["seconds_per_task"], "tokens_per_task": loop["tokens_per_task"]})
    save_rows(args.out, rows, args)


def report(rows: list[dict[str, Any]]) -> None:
    table = Table(title="Throughput: the same requests, 1-4 clients at once")
    for column in ("mode", "clients", "requests/s", "tokens/s", "mean latency s", "seconds", "with loading s"):
        table.add_column(column, justify="right" if column != "mode" else "left")
    for r in sorted((r for r in rows if r["part"] == "throughput"), key=lambda r: (r["mode"], r["clients"])):
        table.add_row(r["mode"], str(r["clients"]), f"{r['requests_per_s']:.3f}", f"{r['tokens_per_s']:.1f}",
                      f"{r['mean_latency_s']:.1f}", f"{r['seconds']:.1f}", str(r.get("seconds_with_loading", "-")))
    Console().print(table)
    evals = [r for r in rows if r["part"] == "evaluation"]
    if evals:
        table = Table(title="HumanEval sample, loop strategy, --jobs 2")
        for column in ("mode", "solved", "seconds in all", "seconds per task", "tokens per task"):
            table.add_column(column)
        for r in evals:
            table.add_row(r["mode"], f"{r['solved']} / {r['tasks']}", str(r["seconds"]), str(r["seconds_per_task"]),
                          str(r["tokens_per_task"]))
        Console().print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="local", help="the local spec served and loaded (default: local)")
    parser.add_argument("--requests", type=int, default=8, help="requests per configuration (default 8)")
    parser.add_argument("--clients", default="1,2,4", help="client counts (default 1,2,4)")
    parser.add_argument("--copies", default=None,
                        help="client counts for the own-copy rows (default: --clients; each copy holds the model)")
    parser.add_argument("--humaneval", type=int, default=20, help="HumanEval problems for part 2 (default 20)")
    parser.add_argument("--skip-eval", action="store_true", help="part 1 only")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (resumable)")
    parser.add_argument("--report", type=Path, default=None, help="print the figures of a results file and exit")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--in-process-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.report:
        report(load_rows(args.report))
        return 0
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    args.copies = [int(c) for c in args.copies.split(",") if c.strip()] if args.copies else args.clients
    args.out = args.out or RESULTS / f"serve_{commit()}.json"
    rows = load_rows(args.out)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        if args.in_process_only:  # a child of the run below: the model goes when this process ends
            throughput_shared("in-process", args, rows, progress)
            return 0
        throughput_shared("server", args, rows, progress)
        throughput_own_copies(args, rows, progress)
    child = [sys.executable, __file__, "--in-process-only", "--model", args.model, "--requests", str(args.requests),
             "--clients", ",".join(map(str, args.clients)), "--out", str(args.out)]
    if subprocess.run(child, cwd=ROOT).returncode != 0:
        raise SystemExit("the in-process run failed; rerun to resume")
    rows = load_rows(args.out)
    if not args.skip_eval:
        for mode in ("server", "in-process"):
            evaluation(mode, args, rows)
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
