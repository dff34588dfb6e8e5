"""The harness on Ray against its own threads, on this one machine, and what N machines would do.

    flock /tmp/model.lock .venv/bin/python benchmarks/ray_overhead.py            # local model, HumanEval every 8th
    .venv/bin/python benchmarks/ray_overhead.py --report benchmarks/results/ray_overhead_<commit>.json

The same HumanEval sample (every ``--every``-th problem: 21 of 164 by default) and strategies run
twice through ``python -m code_generation.evaluation``, one after the other so only one model is
in memory at a time: ``--jobs 2`` (threads sharing one loaded model), then ``--executor ray
--jobs 2`` (a local Ray instance with 2 CPUs: two pair tasks at once, the model loaded once in the
node's actor). Each run's wall time includes its start (model loading; Ray's start and node
check); the overhead is the difference. Solved counts must match task for task where the
model is deterministic (a seed, two slots: llama.cpp's batched arithmetic can still differ).

The throughput model takes the Ray run's wall seconds per task on this node and scales it with
nodes: a model per node scales linearly until the driver is the limit; one endpoint caps it at
its slots (``--endpoint-slots``) over the measured model seconds per task.

Rows (with the commit) go to ``--out`` (default benchmarks/results/ray_overhead_<commit>.json)
after each run; a rerun skips a finished run, and an interrupted one resumes in its own
harness folder (its wall times add up, and the row says it was resumed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.completion import commit  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MODES = {"jobs 2": [], "ray": ["--executor", "ray"]}
HUMANEVAL_TASKS = 164
NODES = (1, 2, 4, 8, 16, 32)
console = Console(stderr=True)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {"rows": []}


def save(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n")
    os.replace(tmp, path)


def harness_command(mode: str, args: argparse.Namespace, out: Path) -> list[str]:
    ids = [str(i) for i in range(0, HUMANEVAL_TASKS, args.every)]
    model = ["--model", args.model] + (["--base-url", args.base_url] if args.base_url else [])
    return [sys.executable, "-m", "code_generation.evaluation", "--tasks", "humaneval", "--strategies", args.strategies,
            "--jobs", "2", "--seed", "1", "--max-iterations", str(args.max_iterations), "--out", str(out),
            "--no-progress", *model, *MODES[mode], "--ids", *ids]


def run_mode(mode: str, args: argparse.Namespace, body: dict[str, Any]) -> None:
    """One harness run (resumed if it was cut short); its row replaces the mode's earlier one."""
    previous = next((r for r in body["rows"] if r["mode"] == mode), None)
    if previous and previous["complete"]:
        return
    out = args.out.parent / f"{args.out.stem}_{mode.replace(' ', '')}"  # the harness's own folder
    env = {**os.environ, "MY_LLM_BASE_URL": ""}
    console.print(f"[bold]{mode}[/bold]: {' '.join(harness_command(mode, args, out)[1:])}")
    started = time.monotonic()
    proc = subprocess.run(harness_command(mode, args, out), cwd=ROOT, env=env)
    wall = time.monotonic() - started + (previous["seconds"] if previous else 0.0)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
    results = out / "results.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    body["rows"] = [r for r in body["rows"] if r["mode"] != mode]
    body["rows"].append({
        "mode": mode, "commit": commit(), "complete": bool(summary and summary["complete"]) and proc.returncode == 0,
        "resumed": previous is not None, "exit": proc.returncode, "seconds": round(wall, 1),
        "pairs": len(rows), "tasks": summary["tasks"] if summary else 0,
        "solved": sorted(f"{r['task']}|{r['strategy']}" for r in rows if r["solved"]),
        "seconds_per_pair": round(sum(r["seconds"] for r in rows) / len(rows), 2) if rows else None,
        "interval": steady_interval(rows),
        "model_seconds_per_pair": round(sum(r["model_seconds"] for r in rows) / len(rows), 2) if rows else None,
        "model": rows[0]["model"] if rows else args.model, "out": os.path.relpath(out, ROOT),
    })
    save(args.out, body)
    if proc.returncode != 0:
        raise SystemExit(f"the {mode} run exited with {proc.returncode}; rerun the same command to resume")


def steady_interval(rows: list[dict[str, Any]]) -> float | None:
    """Seconds between finished pairs once running: the first to the last finish over the pairs between.

    Start-up (loading the model, starting Ray) is before the first finish, so it is left out."""
    times = sorted(datetime.fromisoformat(r["finished_at"]).timestamp() for r in rows if r.get("finished_at"))
    return round((times[-1] - times[0]) / (len(times) - 1), 2) if len(times) > 2 else None


def throughput(ray_row: dict[str, Any], slots: int) -> tuple[float, list[tuple[int, float, float]]]:
    """Seconds per pair on one node, and per node count: pairs/hour with a model per node, and
    through one endpoint of `slots` slots (each as fast as one of this machine's two)."""
    per_pair = ray_row["interval"] or ray_row["seconds"] / max(1, ray_row["pairs"])
    model = ray_row["model_seconds_per_pair"] or per_pair
    cap = slots * 3600 / model
    return per_pair, [(n, n * 3600 / per_pair, min(n * 3600 / per_pair, cap)) for n in NODES]


def report(body: dict[str, Any], slots: int) -> None:
    rows = {r["mode"]: r for r in body["rows"]}
    table = Table(title=f"HumanEval every {body.get('every')}th, {body.get('strategies', '')}, 2 pairs at once, 1 machine")
    for column in ("mode", "commit", "pairs", "solved", "wall s", "s apart", "s/pair", "model s/pair", "note"):
        table.add_column(column, justify="left" if column in ("mode", "note") else "right")
    for r in rows.values():
        note = ("resumed: wall time not comparable; " if r["resumed"] else "") + ("" if r["complete"] else "incomplete")
        table.add_row(r["mode"], r["commit"], str(r["pairs"]), str(len(r["solved"])), f"{r['seconds']:.1f}",
                      str(r["interval"]), str(r["seconds_per_pair"]), str(r["model_seconds_per_pair"]), note)
    Console().print(table)
    local, ray = rows.get("jobs 2"), rows.get("ray")
    if not (local and ray and ray["pairs"]):
        return
    same = local["solved"] == ray["solved"]
    differ = sorted(set(local["solved"]) ^ set(ray["solved"]))
    Console().print(f"solved the same: {'yes' if same else 'no (' + ', '.join(differ) + ')'} · Ray's overhead: "
                    f"{ray['seconds'] - local['seconds']:+.1f} s in all, "
                    f"{(ray['seconds'] - local['seconds']) / ray['pairs']:+.2f} s per pair")
    per_pair, rows_by_nodes = throughput(ray, slots)
    start = ray["seconds"] - per_pair * ray["pairs"]
    Console().print(f"throughput model: one 2-core node finishes a pair every {per_pair:.1f} s once running "
                    f"(start-up about {start:.0f} s a run); one endpoint of {slots} slots, each as fast as one of "
                    f"this machine's, caps it at {slots} / {ray['model_seconds_per_pair']} model s per pair")
    model = Table()
    for column in ("nodes", "pairs/hour (a model per node)", "hours for 164 pairs", f"pairs/hour ({slots}-slot endpoint)"):
        model.add_column(column, justify="right")
    for nodes, per_node, endpoint in rows_by_nodes:
        model.add_row(str(nodes), f"{per_node:,.0f}", f"{HUMANEVAL_TASKS / per_node:.2f}", f"{endpoint:,.0f}")
    Console().print(model)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="local", help="the harness's --model (default: local, a copy per node)")
    parser.add_argument("--base-url", default=None, help="the harness's --base-url (Ray then calls it: endpoint)")
    parser.add_argument("--strategies", default="loop", help="the harness's --strategies (default: loop)")
    parser.add_argument("--every", type=int, default=8, help="every N-th HumanEval problem (default 8: 21 problems)")
    parser.add_argument("--max-iterations", type=int, default=5, help="the harness's --max-iterations")
    parser.add_argument("--endpoint-slots", type=int, default=8, help="slots of the endpoint in the model (default 8)")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (resumable)")
    parser.add_argument("--report", type=Path, default=None, help="print the figures of a results file and exit")
    args = parser.parse_args()
    if args.report:
        report(load(args.report), args.endpoint_slots)
        return 0
    args.tag = commit().rstrip("+")
    args.out = args.out or RESULTS / f"ray_overhead_{args.tag}.json"
    body = load(args.out)
    body.update({"strategies": args.strategies, "every": args.every, "max_iterations": args.max_iterations})
    for mode in MODES:
        run_mode(mode, args, body)
    report(body, args.endpoint_slots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
