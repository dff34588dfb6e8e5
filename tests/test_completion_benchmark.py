"""The complete-file benchmark's report: each configuration against the single calls of its own runs, and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks.completion import CONFIGS, OVERRIDES, main, paired, plot, report


def row(task: str, strategy: str, single: bool, solved: bool, set_: str = "humaneval") -> dict[str, object]:
    return {"set": set_, "task": task, "strategy": strategy, "single_solved": single, "solved": solved,
            "accepted": solved, "tokens_out": 100, "single_tokens_out": 40, "single_seconds": 1.0, "seconds": 3.0,
            "commit": "abc1234"}


ROWS = [row("HumanEval/0", "analyzers", True, True), row("HumanEval/1", "analyzers", False, False),
        row("HumanEval/0", "agreement", True, True), row("HumanEval/1", "agreement", False, True)]


def test_each_configuration_is_compared_with_the_single_calls_of_its_own_runs() -> None:
    console = Console(record=True, width=200)
    report(ROWS, console)
    text = console.export_text()
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.split("│")[1:-1]]
                                          for line in text.splitlines() if line.startswith("│"))}
    # strategy, tasks, solved, rate, its own single, gain (points), ...
    assert rows["agreement"][1:6] == ["2", "2", "100.0%", "1", "+50.0"]
    assert rows["analyzers"][1:6] == ["2", "1", "50.0%", "1", "+0.0"]
    assert rows["single"][1:4] == ["2", "1", "50.0%"]


def test_the_plot_is_written(tmp_path: Path) -> None:
    path = plot(ROWS, tmp_path / "completion.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_agreement_runs_four_candidates_with_the_same_analyzers_as_doctest() -> None:
    assert CONFIGS["agreement"] == CONFIGS["analyzers+doctest"]
    assert OVERRIDES["agreement"] == {"candidates": 4, "agreement": True}


def test_only_tasks_every_configuration_ran_are_compared_and_single_is_a_lone_call() -> None:
    many = [{**r, "candidates_per_round": 4, "single_solved": False} for r in ROWS if r["strategy"] == "agreement"]
    lone = [{**r, "candidates_per_round": 1} for r in ROWS if r["strategy"] == "analyzers"]
    partial = [*many, *lone, row("HumanEval/2", "analyzers", True, True)]  # only one configuration ran /2
    assert {c: [r["task"] for r in rs] for c, rs in paired(partial)["humaneval"].items()} == {
        "agreement": ["HumanEval/0", "HumanEval/1"], "analyzers": ["HumanEval/0", "HumanEval/1"]}
    console = Console(record=True, width=200)
    report(partial, console)
    single = next(line for line in console.export_text().splitlines() if line.startswith("│ single"))
    assert [c.strip() for c in single.split("│")[1:-1]][1:4] == ["2", "1", "50.0%"]  # the lone call's, not 0 of 2


def test_report_compares_only_the_configurations_asked_for(tmp_path: Path, capsys: object,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table's names in full

    out = tmp_path / "completion.jsonl"
    lone = [{**r, "candidates_per_round": 1} for r in ROWS if r["strategy"] == "analyzers"]
    partial = [*ROWS, row("HumanEval/2", "agreement", True, True), *lone,
               row("HumanEval/2", "analyzers+doctest", False, True)]
    partial += [{**r, "strategy": "analyzers+doctest", "candidates_per_round": 1, "seconds": 5.0} for r in lone]
    out.write_text("".join(json.dumps(r) + "\n" for r in partial))
    assert main(["--report", "--out", str(out), "--configs", "analyzers+doctest,agreement"]) == 0
    text = capsys.readouterr().out  # type: ignore[attr-defined]
    lines = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
             for line in text.splitlines() if line.startswith("│")}
    assert "analyzers" not in lines  # left out, so HumanEval/2 (which it never ran) is compared too
    assert lines["agreement"][1:3] == ["3", "3"] and lines["analyzers+doctest"][1:3] == ["3", "2"]
    assert lines["analyzers+doctest"][-1] == "5.0"  # the median seconds
