"""Stop rules replayed on run folders written by create-script's own recorder."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from code_generation.api import _Recorder
from code_generation.run_folder import RunFolder
from code_generation.sandbox.verdict import SandboxResult
from code_generation.types import Attempt
from my_llm.models.usage import CallUsage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import stop_rules  # noqa: E402


def _write_run(folder: Path, rounds: list[list[int]], tests: int = 4, round_seconds: float = 10.0,
               outside: float = 5.0) -> None:
    """A run whose round i had candidates passing rounds[i] tests each (tests == passed: solved)."""
    run = RunFolder(folder)
    recorder = _Recorder(run)
    calls = []
    for iteration, passes in enumerate(rounds, start=1):
        for k, passed in enumerate(passes):
            result = SandboxResult(status="ok", tests_run=tests, passed=passed, failed=tests - passed, duration=0.5)
            recorder.attempt(Attempt(iteration, "reply", "code", [], result, 0.2, candidate=k), None)
            label = f"code-{iteration}" + (f".{k}" if k else "")
            calls.append(asdict(CallUsage(label, 100, 50, round_seconds - k, None,
                                          purpose="fresh" if k else "feedback")))
    inside = sum(round_seconds + 0.5 * len(p) for p in rounds)
    run.write_json("run.json", {"seconds": inside + outside, "calls": calls})


def test_a_run_folder_reads_as_rounds(tmp_path: Path) -> None:
    _write_run(tmp_path / "task" / "run", [[1, 2], [2, 2], [4, 1]])
    [run] = stop_rules.find_runs([tmp_path])
    assert run.name == "task" and run.solved
    assert [r.improved for r in run.rounds] == [True, False, True]
    assert [r.solved for r in run.rounds] == [False, False, True]
    assert run.rounds[0].seconds == pytest.approx(10.0 + 1.0)  # the slowest call, then both test runs
    assert run.outside == pytest.approx(5.0)
    assert run.solver == ("feedback", pytest.approx(2 / 4))  # round 3's first candidate; the best passed 2 of 4


def test_a_repair_without_a_model_call_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "t" / "run"
    _write_run(folder, [[1], [2]])
    recorder = _Recorder(RunFolder(folder))
    result = SandboxResult(status="ok", tests_run=4, passed=4, duration=0.1)
    recorder.attempt(Attempt(2, "", "repaired", [], result, 0.2, candidate=1), None)  # no call code-2.1
    [run] = stop_rules.find_runs([tmp_path])
    assert run.solver == ("repair", pytest.approx(1 / 4))


def test_rules_cut_a_run_short_and_count_what_is_lost(tmp_path: Path) -> None:
    _write_run(tmp_path / "late" / "run", [[1], [1], [1], [4]])  # solved in round 4 after two stalls
    _write_run(tmp_path / "never" / "run", [[2], [2], [2], [2], [2]])  # never solved
    _write_run(tmp_path / "first" / "run", [[4]])
    runs = stop_rules.find_runs([tmp_path])
    by_rule = {row["rule"]: row for row in stop_rules.evaluate(runs)}
    assert by_rule["full"]["solved"] == 2 and by_rule["full"]["lost"] == 0
    assert by_rule["stall 2"]["solved"] == 1 and by_rule["stall 2"]["lost"] == 1  # "late" stops after round 3
    assert by_rule["stall 3"]["solved"] == 2
    # "never" stops after round 3 under stall 2: three rounds of 10.5 s and 5 s outside.
    never = next(r for r in runs if r.name == "never")
    assert stop_rules.replay(never, stall=2) == (False, pytest.approx(3 * 10.5 + 5))
    assert by_rule["stall 2"]["seconds"] < by_rule["full"]["seconds"]
    # A budget of 25 s: after two rounds (21 s), a third would not fit (21 + 10.5 > 25).
    assert stop_rules.replay(never, budget=25.0) == (False, pytest.approx(2 * 10.5 + 5))
    assert stop_rules.replay(never, max_rounds=1) == (False, pytest.approx(10.5 + 5))


def test_no_run_folders_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert stop_rules.main([str(tmp_path)]) == 2
    assert "--keep" in capsys.readouterr().err
