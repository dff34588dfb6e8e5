"""The evaluation harness: fake models on tiny task folders, resumption, HumanEval conversion.

The real sandbox judges every attempt; LangChain's FakeListChatModel scripts the replies, one
fresh model per (task, strategy) pair, so results do not depend on the order pairs run in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel

from code_generation.engine.loop import CodeTask, LoopOutcome
from code_generation.evaluation import evaluate as evaluate_module
from code_generation.evaluation import strategies
from code_generation.evaluation.evaluate import EvalSettings, evaluate, main
from code_generation.evaluation.strategies import StrategyContext, register_strategy
from code_generation.evaluation.tasks import (
    EvalTask,
    check_humaneval,
    check_problem,
    humaneval_problems,
    humaneval_task,
    load_tasks,
)
from code_generation.languages.python.testspec import analyse_test_source
from my_llm.errors import MyLLMError

FOLDERS = {
    "adder": ("Write add(a, b) returning the sum.", "adder", "add",
              "self.assertEqual(add(2, 3), 5)\n        self.assertEqual(add(-1, 1), 0)"),
    "greeter": ("Write greet(name) returning 'Hello, <name>!'.", "greet", "greet",
                "self.assertEqual(greet('Ann'), 'Hello, Ann!')"),
    "hard": ("Write answer() returning the answer.", "hard", "answer",
             "self.assertEqual(answer(), 42)"),
}

RIGHT = {
    "adder": "```python\ndef add(a, b):\n    return a + b\n```",
    "greeter": "```python\ndef greet(name):\n    return f'Hello, {name}!'\n```",
    "hard": "```python\ndef answer():\n    return 42\n```",
}
WRONG = {
    "greeter": "```python\ndef greet(name):\n    return 'Hi'\n```",
    "hard": "```python\ndef answer():\n    return 41\n```",
}
# adder: solved at once; greeter: only with feedback; hard: never.
SCRIPT = {"adder": [RIGHT["adder"]], "greeter": [WRONG["greeter"], RIGHT["greeter"]], "hard": [WRONG["hard"]]}
SETTINGS = EvalSettings(max_iterations=3, timeout=20)


def make_folders(root: Path) -> Path:
    for name, (prompt, module, function, body) in FOLDERS.items():
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "prompt.txt").write_text(prompt + "\n")
        (folder / f"test_{module}.py").write_text(
            f"import unittest\n\nfrom {module} import {function}\n\n\n"
            f"class TestIt(unittest.TestCase):\n    def test_it(self):\n        {body}\n"
        )
        (folder / "meta.json").write_text(json.dumps({"module": module}))
    return root


@pytest.fixture
def tasks(tmp_path: Path) -> list[EvalTask]:
    return load_tasks(make_folders(tmp_path / "tasks"))


def scripted(task: EvalTask, strategy: str) -> FakeListChatModel:
    return FakeListChatModel(responses=SCRIPT[task.id])


def rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def check_expected(out: Path, summary: dict[str, Any]) -> None:
    by_pair = {(r["task"], r["strategy"]): r for r in rows(out)}
    assert len(by_pair) == len(rows(out)) == 6
    assert {k: r["solved"] for k, r in by_pair.items()} == {
        ("adder", "single"): True, ("adder", "loop"): True,
        ("greeter", "single"): False, ("greeter", "loop"): True,
        ("hard", "single"): False, ("hard", "loop"): False,
    }
    assert by_pair[("greeter", "loop")]["iterations"] == 2
    assert by_pair[("hard", "loop")]["iterations"] == 3
    assert by_pair[("hard", "single")]["failure"].startswith("0/1 tests passed; TestIt.test_it")
    assert by_pair[("adder", "loop")]["failure"] is None
    single, loop = summary["strategies"]["single"], summary["strategies"]["loop"]
    assert (single["solved"], single["total"], loop["solved"], loop["total"]) == (1, 3, 2, 3)
    assert single["solved_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert loop["solved_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert loop["tokens_per_task"] > single["tokens_per_task"] > 0
    assert loop["seconds_per_task"] >= 0 and single["seconds_per_task"] >= 0
    assert summary["complete"] is True
    assert json.loads((out / "summary.json").read_text()) == summary


def test_three_tasks_two_strategies(tasks: list[EvalTask], tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = evaluate(tasks, ["single", "loop"], out=out, chat=scripted, settings=SETTINGS, tasks_source="t")
    check_expected(out, summary)
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((out / "runs" / "loop" / "greeter.json").read_text())
    assert [a["success"] for a in record["attempts"]] == [False, True]
    assert record["attempts"][0]["result"]["failing"][0]["name"] == "TestIt.test_it"
    assert "Hello" in record["best_code"]


def test_parallel_jobs_write_each_pair_once(tasks: list[EvalTask], tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = evaluate(tasks, ["single", "loop"], out=out, chat=scripted,
                       settings=EvalSettings(max_iterations=3, timeout=20, jobs=3))
    check_expected(out, summary)


class Interrupting(FakeListChatModel):
    """Stands for the user pressing Ctrl-C during a model call."""

    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise KeyboardInterrupt


def test_interrupted_run_resumes_and_skips_finished_pairs(tasks: list[EvalTask], tmp_path: Path) -> None:
    out = tmp_path / "out"
    first_calls: list[tuple[str, str]] = []

    def until_third(task: EvalTask, strategy: str) -> FakeListChatModel:
        first_calls.append((task.id, strategy))
        return Interrupting(responses=["x"]) if len(first_calls) == 3 else scripted(task, strategy)

    with pytest.raises(KeyboardInterrupt):
        evaluate(tasks, ["single", "loop"], out=out, chat=until_third, settings=SETTINGS)
    assert [(r["task"], r["strategy"]) for r in rows(out)] == [("adder", "single"), ("adder", "loop")]
    partial = json.loads((out / "summary.json").read_text())
    assert partial["complete"] is False and partial["strategies"]["single"]["pending"] == 2
    with open(out / "results.jsonl", "a") as handle:  # a crash in the middle of a write
        handle.write('{"task": "greeter", "strategy": "sin')

    second_calls: list[tuple[str, str]] = []

    def recording(task: EvalTask, strategy: str) -> FakeListChatModel:
        second_calls.append((task.id, strategy))
        return scripted(task, strategy)

    summary = evaluate(tasks, ["single", "loop"], out=out, chat=recording, settings=SETTINGS)
    assert second_calls == [("greeter", "single"), ("greeter", "loop"), ("hard", "single"), ("hard", "loop")]
    check_expected(out, summary)
    again: list[tuple[str, str]] = []
    evaluate(tasks, ["single", "loop"], out=out, chat=lambda t, s: again.append((t.id, s)) or scripted(t, s),
             settings=SETTINGS)
    assert again == []


def test_rerun_with_other_settings_is_refused(tasks: list[EvalTask], tmp_path: Path) -> None:
    out = tmp_path / "out"
    evaluate(tasks[:1], ["single"], out=out, chat=scripted, settings=SETTINGS)
    with pytest.raises(MyLLMError, match="max_iterations 3 -> 4"):
        evaluate(tasks[:1], ["single"], out=out, chat=scripted, settings=EvalSettings(max_iterations=4, timeout=20))
    with pytest.raises(MyLLMError, match="time_budget 600.0 -> 0"):  # the loop's default budget, as create-script's
        evaluate(tasks[:1], ["single"], out=out, chat=scripted,
                 settings=EvalSettings(max_iterations=3, timeout=20, time_budget=0))
    with pytest.raises(MyLLMError, match="give_up_after 3 -> 0"):  # create-script's default, then off
        evaluate(tasks[:1], ["single"], out=out, chat=scripted,
                 settings=EvalSettings(max_iterations=3, timeout=20, give_up_after=0))
    assert EvalSettings().loop_settings().time_budget == 600.0
    assert EvalSettings(time_budget=0).loop_settings().time_budget is None


def test_registered_strategy_runs_beside_the_others(tasks: list[EvalTask], tmp_path: Path) -> None:
    @register_strategy("twice_test_only", "two attempts")
    def twice(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
        return strategies.loop(task, StrategyContext(ctx.chat, EvalSettings(max_iterations=2).loop_settings(), ctx.sandbox))

    try:
        summary = evaluate(tasks, ["single", "twice_test_only"], out=tmp_path / "o", chat=scripted, settings=SETTINGS)
        assert summary["strategies"]["twice_test_only"]["solved"] == 2
        assert summary["strategies"]["twice_test_only"]["iterations_per_task"] == pytest.approx(5 / 3, abs=1e-3)
    finally:
        strategies._REGISTRY.pop("twice_test_only")
    with pytest.raises(MyLLMError, match="unknown strategy 'nope'"):
        strategies.parse_strategies("single,nope")


def test_cli_runs_folders_and_reports_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folders = make_folders(tmp_path / "tasks")
    everything = "```python\n" + "\n\n".join(r.split("\n", 1)[1].rstrip("`\n") for r in RIGHT.values()) + "\n```"
    monkeypatch.setattr(evaluate_module, "get_chat_model", lambda *a, **k: FakeListChatModel(responses=[everything]))
    out = tmp_path / "out"
    args = ["--tasks", str(folders), "--strategies", "single,loop", "--out", str(out), "--no-progress", "--seed", "1"]
    assert main([*args, "--ids", "hard,adder"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategies"]["loop"]["solved"] == summary["strategies"]["loop"]["total"] == 2
    assert summary["run"]["seed"] == 1
    assert main([*args, "--ids", "nothere"]) == 2
    assert main([*args, "--strategies", "single,nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown task id(s): nothere" in err and "unknown strategy 'nope'" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- HumanEval


def test_humaneval_selection_is_deterministic() -> None:
    assert [t.id for t in load_tasks("humaneval", limit=3)] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    assert [t.id for t in load_tasks("humaneval", ids=["12", "HumanEval/3", "HumanEval_7"])] == [
        "HumanEval/3", "HumanEval/7", "HumanEval/12"]
    assert len(humaneval_problems()) == 164
    with pytest.raises(MyLLMError, match="unknown task id"):
        load_tasks("humaneval", ids=["HumanEval/999"])


def test_humaneval_conversion_shapes() -> None:
    problems = {p["task_id"]: p for p in humaneval_problems()}
    split = humaneval_task(problems["HumanEval/0"]).task
    spec = analyse_test_source(split.test_source, split.module_name, split.test_filename)
    assert spec.imported_names == ["has_close_elements"] and spec.test_count == 7
    assert "has_close_elements(numbers: List[float], threshold: float) -> bool" in split.prompt
    whole = humaneval_task(problems["HumanEval/38"]).task  # check() loops: kept whole
    assert "def encode_cyclic" in whole.test_source and "check(decode_cyclic)" in whole.test_source
    assert analyse_test_source(whole.test_source, "solution").test_count == 1


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/2", "HumanEval/32", "HumanEval/38", "HumanEval/151"])
def test_humaneval_canonical_passes_and_empty_fails(task_id: str) -> None:
    problem = next(p for p in humaneval_problems() if p["task_id"] == task_id)
    result = check_problem(problem)
    assert result.canonical_passes, result.detail
    assert result.empty_fails


def test_all_humaneval_canonical_solutions_pass() -> None:
    results = check_humaneval()
    assert len(results) == 164
    assert [r.task_id for r in results if not (r.canonical_passes and r.empty_fails)] == []


def test_candidates_strategy_runs_in_the_harness(tasks: list[EvalTask], tmp_path: Path) -> None:
    # greeter's two replies come back in one round of two candidates: solved in one iteration.
    out = tmp_path / "out"
    chat = lambda task, strategy: GenericFakeChatModel(messages=iter(SCRIPT[task.id] * 6))  # noqa: E731
    summary = evaluate(tasks, ["candidates2"], out=out, chat=chat, settings=SETTINGS, tasks_source="t")
    by_task = {r["task"]: r for r in rows(out)}
    assert {t: r["solved"] for t, r in by_task.items()} == {"adder": True, "greeter": True, "hard": False}
    assert by_task["greeter"]["iterations"] == 1 and by_task["greeter"]["calls"] == 2
    assert by_task["hard"]["iterations"] == 3 and by_task["hard"]["calls"] == 6
    assert summary["strategies"]["candidates2"]["solved"] == 2
