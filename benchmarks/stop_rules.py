#!/usr/bin/env python
"""When should a run that is going nowhere stop? Stop rules replayed on kept whole runs.

    python benchmarks/create_script_examples.py --tasks benchmarks/validation --keep K   # the runs (model)
    python benchmarks/stop_rules.py K [K2 ...] [--out R.json]                           # the rules (no model)

A stop rule only cuts a run short: the rounds before the stop are the ones the full run made, so
every rule is judged exactly on runs made once with the default budget, not on new runs with
their own noise. Each run folder (`--keep` keeps one per task) gives its rounds: the round's wall
time (its slowest model call, the candidates run at once, plus its test runs), and whether the
best attempt so far got better (passed, then more tests passed, then code that ran where none
had; the engine's `better`). Per rule: tasks solved, solves lost against the full runs, seconds
in all, and the median seconds per solved task. Time outside the rounds (loading, writing) is
kept as it was.

It also says what solved each task solved after round 1: the kind of request the passing
attempt answered (the loop's `purpose`: fresh, feedback, focus, ...; `repair` for the loop's own
repairs without a model call) and the share of tests the best attempt passed before that round:
whether repairs pay from close attempts and fresh samples from far ones.

Rules: `full` (the runs as made), `rounds N` (at most N rounds), `stall S` (stop after S rounds
in a row in which the best did not get better), `budget T` (no round starts that would not fit
in T seconds, the rounds so far taking their average: `--time-budget`'s rule), and `stall S +
budget T`.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kept_runs  # noqa: E402

STALLS = (1, 2, 3)
BUDGETS = (120.0, 180.0, 240.0, 300.0)


@dataclass(frozen=True)
class Round:
    seconds: float
    improved: bool  # the best attempt so far got better in this round (always true in round 1)
    solved: bool  # an attempt of this round passed every test


@dataclass(frozen=True)
class Run:
    name: str
    rounds: tuple[Round, ...]
    outside: float  # the run's seconds outside its rounds: loading the model, writing files
    solver: tuple[str, float] | None = None  # a later round's solve: (request kind, best's share of tests before)

    @property
    def solved(self) -> bool:
        return any(r.solved for r in self.rounds)


def _score(result: dict) -> tuple[bool, int, bool]:
    attempt = result.get("attempt") or {}
    return bool(attempt.get("success")), int(attempt.get("passed") or 0), attempt.get("status") == "ok"


def read_run(folder: Path) -> Run | None:
    """One kept run folder (it holds run.json and attempts/) as rounds; None when it is not one."""
    try:
        run = json.loads((folder / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    by_round: dict[int, list[dict]] = {}
    for result_file in sorted(folder.glob("attempts/*/result.json")):
        result = json.loads(result_file.read_text())
        by_round.setdefault(int(result["attempt"]["iteration"]), []).append(result)
    call_seconds: dict[int, float] = {}
    for call in run.get("calls", []):
        label = str(call.get("label", ""))
        if label.startswith("code-"):
            iteration = int(label.removeprefix("code-").split(".")[0])
            call_seconds[iteration] = max(call_seconds.get(iteration, 0.0), float(call.get("seconds") or 0.0))
    kinds = {str(c.get("label")): str(c.get("purpose") or "") for c in run.get("calls", [])}
    rounds, best, solver = [], None, None
    for iteration in sorted(by_round):
        results = by_round[iteration]
        top = max(_score(r) for r in results)
        tests = sum(float((r.get("test_result") or {}).get("duration") or 0.0) for r in results)
        rounds.append(Round(call_seconds.get(iteration, 0.0) + tests, best is None or top > best, top[0]))
        if top[0] and best is not None and not best[0]:
            solver = (_kind(results, iteration, kinds), best[1] / max(1, _tests(results)))
        best = top if best is None else max(best, top)
    inside = sum(r.seconds for r in rounds)
    return Run(folder.parent.name if folder.name == "run" else folder.name, tuple(rounds),
               max(0.0, float(run.get("seconds") or inside) - inside), solver)


def _tests(results: list[dict]) -> int:
    return max(int((r.get("test_result") or {}).get("tests_run") or 0) for r in results)


def _kind(results: list[dict], iteration: int, kinds: dict[str, str]) -> str:
    """The request kind the round's first passing attempt answered; `repair` when no call made it."""
    passing = next(r["attempt"] for r in results if r["attempt"].get("success"))
    k = int(passing.get("candidate") or 0)
    return kinds.get(f"code-{iteration}" + (f".{k}" if k else ""), "") or "repair"


def find_runs(roots: list[Path]) -> list[Run]:
    """Every run folder under the given folders (a `--keep` folder holds <task>/run)."""
    return [run for path in kept_runs.run_files(roots) if (run := read_run(path.parent)) is not None]


def replay(run: Run, max_rounds: int | None = None, stall: int | None = None,
           budget: float | None = None) -> tuple[bool, float]:
    """(solved, seconds) of `run` cut short by the rule."""
    spent, stalls = 0.0, 0
    for index, one in enumerate(run.rounds):
        if max_rounds is not None and index >= max_rounds:
            break
        if budget is not None and index > 0 and spent + spent / index > budget:
            break
        spent += one.seconds
        if one.solved:
            return True, spent + run.outside
        stalls = 0 if one.improved else stalls + 1
        if stall is not None and stalls >= stall:
            break
    return False, spent + run.outside


def rules() -> list[tuple[str, dict]]:
    named: list[tuple[str, dict]] = [("full", {})]
    named += [(f"rounds {n}", {"max_rounds": n}) for n in (1, 2, 3, 4)]
    named += [(f"stall {s}", {"stall": s}) for s in STALLS]
    named += [(f"budget {b:.0f}", {"budget": b}) for b in BUDGETS]
    named += [(f"stall {s} + budget 300", {"stall": s, "budget": 300.0}) for s in STALLS]
    return named


def evaluate(runs: list[Run]) -> list[dict]:
    """One row per rule: solved, lost against the full runs, seconds, median seconds per solved task."""
    rows = []
    for name, rule in rules():
        outcomes = [replay(run, **rule) for run in runs]
        solved = [s for (ok, s) in outcomes if ok]
        rows.append({"rule": name, "solved": len(solved),
                     "lost": sum(run.solved and not ok for run, (ok, _) in zip(runs, outcomes, strict=True)),
                     "seconds": round(sum(s for _, s in outcomes), 1),
                     "median_solved_s": round(statistics.median(solved), 1) if solved else None})
    return rows


def main(argv: list[str] | None = None) -> int:
    args = kept_runs.parse(__doc__.split("\n\n")[0], argv, "write the rows as JSON")
    runs = find_runs(args.folders)
    if not runs:
        return kept_runs.none_found(args.folders)
    rows = evaluate(runs)
    full = rows[0]["seconds"]
    table = Table(title=f"stop rules replayed on {len(runs)} runs", title_justify="left")
    for head in ("rule", "solved", "lost", "seconds", "saved", "median s per solved"):
        table.add_column(head, justify="left" if head == "rule" else "right")
    for r in rows:
        table.add_row(r["rule"], str(r["solved"]), str(r["lost"]), f"{r['seconds']:.0f}",
                      f"{100 * (1 - r['seconds'] / full):.0f}%" if full else "-", str(r["median_solved_s"]))
    Console().print(table)
    solvers = [run.solver for run in runs if run.solver]
    if solvers:
        Console().print("solved after round 1, by the request that solved it (best's share of tests before): "
                        + ", ".join(f"{kind} ({share:.0%})" for kind, share in sorted(solvers)))
    if args.out:
        args.out.write_text(json.dumps({"runs": [run.name for run in runs], "rows": rows,
                                        "solvers": {run.name: run.solver for run in runs if run.solver}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
