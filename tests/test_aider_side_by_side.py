"""benchmarks/aider_side_by_side.py without a model or Aider: the rows file (resume, error rows,
a cut line), the totals, the judge (the real sandbox, a forged pass refused) and one run of the
driver with fake sides."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import aider_side_by_side as bench
from benchmarks.serve_load import Target
from code_generation.evaluation.tasks import folder_task

ROOT = Path(__file__).resolve().parent.parent
PASCAL = ROOT / "benchmarks" / "validation" / "pascal_triangle"
REFERENCE = (ROOT / "benchmarks" / "reference" / "validation" / "pascal_triangle" / "pascal.py").read_text()
FORGED = "import os\nos._exit(0)\n"  # pytest run by hand would exit 0: the sandbox must not count it


def row(task: str, side: str, **extra: Any) -> dict[str, Any]:
    return {"task": task, "side": side, "seed": 1, "max_iterations": 5, "solved": False, "seconds": 1.0, **extra}


def test_rows_resume_and_error_rows_run_again(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    for each in (row("a", "ours", solved=True), row("a", "aider", error="boom"), row("b", "ours", seed=2)):
        bench.append_row(out, each)
    with out.open("a") as handle:
        handle.write('{"task": "c", "si')  # a write cut by a stop
    rows = bench.load_rows(out)
    assert len(rows) == 3
    assert bench.done_keys(rows) == {("a", "ours", 1, 5), ("b", "ours", 2, 5)}
    bench.append_row(out, row("a", "aider", solved=True))
    assert bench.latest(bench.load_rows(out))[("a", "aider", 1, 5)]["solved"] is True


def test_side_summary() -> None:
    rows = [row("a", "aider", solved=True, seconds=4.0, prompt_tokens=10, completion_tokens=2, model_calls=3,
                all_prompt_tokens=30, all_completion_tokens=6, rounds=2),
            row("b", "aider", solved=True, seconds=2.0, prompt_tokens=5, completion_tokens=1, model_calls=1, rounds=1),
            row("c", "aider", seconds=9.0, rounds=5)]
    s = bench.side_summary(rows)
    assert (s["solved"], s["tasks"], s["rounds"], s["model_calls"]) == (2, 3, 8, 4)
    assert (s["prompt_tokens"], s["completion_tokens"], s["all_tokens"]) == (15, 3, 42)
    assert s["median_solved_seconds"] == 3.0
    assert bench.median([]) is None


def test_judge_is_the_sandbox_and_refuses_a_forged_pass() -> None:
    task = folder_task(PASCAL)
    assert bench.judge(task, REFERENCE) == {"solved": True, "tests_passed": 4, "tests_total": 4, "judge": "ok"}
    forged = bench.judge(task, FORGED)
    assert not forged["solved"] and forged["tests_passed"] == 0
    assert bench.judge(task, None) == {"solved": False, "tests_passed": 0, "tests_total": 4, "judge": "no file"}


def test_driver_writes_a_row_per_side_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake(source: str | None) -> Any:
        def run(task: Any, work: Path, target: Target, args: argparse.Namespace) -> dict[str, Any]:
            calls.append(work.name)
            assert (bench.prepare(task, work)).name == "pascal.py"
            return {"rounds": 1, "prompt_tokens": 7, "completion_tokens": 3, "model_calls": 1, "source": source}
        return run

    monkeypatch.setitem(bench.RUNNERS, "ours", fake(REFERENCE))
    monkeypatch.setitem(bench.RUNNERS, "aider", fake(FORGED))
    args = bench.parse_args(["--out", str(tmp_path / "r.jsonl"), "--tasks", "pascal_triangle"])
    target = Target("http://127.0.0.1:9/v1", "local")
    tasks = bench.select_tasks(args)
    bench.run_all(tasks, target, args)
    rows = {r["side"]: r for r in bench.load_rows(args.out)}
    assert rows["ours"]["solved"] and rows["ours"]["tests_passed"] == 4
    assert not rows["aider"]["solved"] and rows["aider"]["model"] == "local"
    assert "source" not in rows["ours"] and json.dumps(rows)
    bench.run_all(tasks, target, args)  # everything there: nothing runs again
    assert calls == ["pascal_triangle-ours", "pascal_triangle-aider"]
    totals = bench.report(list(rows.values()), args)
    assert totals["ours"]["solved"] == 1 and totals["aider"]["solved"] == 0
    picture = bench.plot(list(rows.values()), totals, tmp_path / "r.png")
    assert picture is None if importlib.util.find_spec("matplotlib") is None else picture.exists()
