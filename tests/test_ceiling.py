"""benchmarks/ceiling.py and ceiling_report.py: the estimators, program identity, the opening
request as the loop sends it, judging in the real sandbox, the docstring-only selection, and
resuming a results file."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field

from benchmarks import ceiling, ceiling_report
from code_generation.engine.loop import run_loop
from code_generation.evaluation.evaluate import EvalSettings
from code_generation.evaluation.report import ResultsLog
from code_generation.evaluation.tasks import EvalTask, humaneval_tasks
from code_generation.sandbox.runner import SandboxResult
from code_generation.types import CodeTask
from my_llm.errors import MyLLMError

TESTS = '''import unittest

from shapes import area, perimeter


class TestShapes(unittest.TestCase):
    def test_area(self):
        self.assertEqual(area(2), 4)

    def test_perimeter(self):
        self.assertEqual(perimeter(2), 8)
'''
RIGHT = "```python\ndef area(side):\n    return side * side\n\n\ndef perimeter(side):\n    return 4 * side\n```"
WRONG = "```python\ndef area(side):\n    return side * side\n\n\ndef perimeter(side):\n    return side\n```"
PROSE = "I cannot help with that."


class Recording(FakeListChatModel):
    """A fake that keeps every request and its parameters, and answers sample i (its seed says
    which) with `responses[i]`, whichever thread asks first."""

    continues_final_message: ClassVar[bool] = False
    seen: list[tuple[list[BaseMessage], dict[str, Any]]] = Field(default_factory=list)
    lock: Any = Field(default_factory=threading.Lock)

    def _call(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
              **kwargs: Any) -> str:
        with self.lock:
            self.seen.append((list(messages), {"stop": stop, **kwargs}))
            if "seed" in kwargs and kwargs["seed"] >= ceiling.SEED_BASE:
                return self.responses[(kwargs["seed"] - ceiling.SEED_BASE) % len(self.responses)]
            return super()._call(messages, stop, run_manager, **kwargs)


class Prefilled(Recording):
    """One that continues a final assistant message, as the embedded model does (so `prefill` acts)."""

    continues_final_message: ClassVar[bool] = True


def shapes_task() -> EvalTask:
    return EvalTask("shapes", CodeTask("Write area(side) and perimeter(side) of a square.", "shapes", TESTS,
                                       "test_shapes.py"), "test")


# --------------------------------------------------------------------------- estimators and identity


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    assert ceiling_report.pass_at_k(5, 2, 1) == pytest.approx(0.4)  # c / n
    assert ceiling_report.pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert ceiling_report.pass_at_k(5, 2, 3) == pytest.approx(0.9)  # 1 - C(3,3)/C(5,3) = 1 - 1/10
    assert ceiling_report.pass_at_k(5, 2, 4) == 1.0  # fewer than 4 wrong ones: every 4 hold a right one
    assert ceiling_report.pass_at_k(20, 1, 10) == pytest.approx(0.5)
    assert ceiling_report.pass_at_k(20, 0, 20) == 0.0
    assert ceiling_report.pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))  # 11/12
    with pytest.raises(ValueError):
        ceiling_report.pass_at_k(3, 1, 5)


def test_coverage_looks_at_the_first_k_samples_only() -> None:
    solved = [False, False, True, False]
    assert not ceiling_report.covered(solved, 1)
    assert not ceiling_report.covered(solved, 2)
    assert ceiling_report.covered(solved, 3)
    assert ceiling_report.covered(solved, 20)


def test_programs_differing_in_comments_docstrings_and_layout_are_one() -> None:
    one = 'def f(x):\n    """Double it."""\n    return x * 2\n'
    two = '"""A module."""\n\n# helper\ndef f( x ):  # doubles\n\n    return (x * 2)\n'
    other = "def f(x):\n    return x + x\n"
    assert ceiling.program_id(one) == ceiling.program_id(two)
    assert ceiling.program_id(one) != ceiling.program_id(other)
    assert ceiling.program_id(None) is None
    rust_one = "pub fn f(x: i32) -> i32 {\n    // double\n    x * 2\n}\n"
    rust_two = "pub fn f(x: i32) -> i32 { x * 2 }"
    assert ceiling.program_id(rust_one, "rust") == ceiling.program_id(rust_two, "rust")


def test_settings_are_parsed_from_their_names() -> None:
    assert ceiling.parse_setting("t0.2").params == {"temperature": 0.2}
    assert ceiling.parse_setting("t1.0-minp0.05").params == {"temperature": 1.0, "min_p": 0.05}
    assert ceiling.parse_setting("t0.8-topp1.0-topk0").params == {"temperature": 0.8, "top_p": 1.0, "top_k": 0}
    for bad in ("minp0.1", "t0.2-t0.3", "hot", "t0.2-foo1"):
        with pytest.raises(MyLLMError):
            ceiling.parse_setting(bad)


def test_the_sets_hold_the_tasks_the_issue_names() -> None:
    assert len(ceiling.load_set("examples")) == 15
    assert len(ceiling.load_set("validation")) == 18
    assert len(ceiling.load_set("rust")) == 13
    humaneval = ceiling.load_set("humaneval")
    assert [t.id for t in humaneval] == [f"HumanEval/{i}" for i in range(0, 161, 4)]
    assert [t.id for t in ceiling.load_set("humaneval", ["8", "HumanEval/12"])] == ["HumanEval/8", "HumanEval/12"]


# --------------------------------------------------------------------------- the opening request


def test_the_opening_request_is_the_loops_first_request() -> None:
    task = ceiling.load_set("examples", ["fizzbuzz"])[0]
    loop_chat = Prefilled(responses=[RIGHT])
    run_loop(task.task, loop_chat, EvalSettings(max_iterations=1).loop_settings(),
             sandbox=lambda *a, **k: SandboxResult("import_error"))
    sent, params = loop_chat.seen[0]
    state = ceiling.opening_state(task, Prefilled(responses=[RIGHT]))
    assert state.prefix and state.prefix.startswith("```python\n")  # skeleton + prefill on Python
    ours = ceiling.call_params(state, ceiling.parse_setting("t1.0-minp0.05"), 1007)
    assert [(m.type, m.content) for m in ceiling.request_messages(state)] == [(m.type, m.content) for m in sent]
    assert ours["stop"] == params["stop"]
    assert (ours["temperature"], ours["min_p"], ours["seed"]) == (1.0, 0.05, 1007)


def test_the_rust_opening_request_is_the_loops_too() -> None:
    task = ceiling.load_set("rust", ["slugify"])[0]
    loop_chat = Recording(responses=["no code"])
    run_loop(task.task, loop_chat, EvalSettings(max_iterations=1).loop_settings())
    sent, params = loop_chat.seen[0]
    state = ceiling.opening_state(task, Recording(responses=["x"]))
    try:
        assert state.prefix is None
        assert [(m.type, m.content) for m in ceiling.request_messages(state)] == [(m.type, m.content) for m in sent]
        ours = ceiling.call_params(state, ceiling.parse_setting("t0.2"), 1000)
        assert (ours["stop"], ours["max_tokens"]) == (params["stop"], params["max_tokens"]) == (
            list(state.language.stop_sequences), 2048)
    finally:
        from code_generation.languages import close_sandbox

        close_sandbox(state.sandbox)


# --------------------------------------------------------------------------- judging and resuming


def _run(tmp_path: Path, chat: FakeListChatModel, samples: int) -> tuple[int, list[dict[str, Any]]]:
    out = tmp_path / "ceiling.jsonl"
    run = ceiling.Run(chat, ResultsLog(out), "abc1234", "fake", parallel=2)
    written = ceiling.run_all(run, {"examples": [shapes_task()]}, [ceiling.parse_setting("t0.2")],
                              {"examples": samples})
    return written, sorted(ceiling_report.read_rows(out), key=lambda r: r["sample"])


def test_samples_are_judged_in_the_real_sandbox(tmp_path: Path) -> None:
    chat = Recording(responses=[RIGHT, WRONG, PROSE, RIGHT.replace("side * side", "side ** 2")])
    written, rows = _run(tmp_path, chat, 4)
    assert written == 4
    assert [r["sample"] for r in rows] == [0, 1, 2, 3]
    assert [r["solved"] for r in rows] == [True, False, False, True]
    assert [(r["tests_passed"], r["tests_total"]) for r in rows] == [(2, 2), (1, 2), (0, 2), (2, 2)]
    assert [r["status"] for r in rows][2] == "no_code"
    assert rows[0]["program"] != rows[3]["program"] and rows[2]["program"] is None
    assert {r["commit"] for r in rows} == {"abc1234"}
    assert sorted(params["seed"] for _, params in chat.seen) == [1000, 1001, 1002, 1003]  # one seed per sample
    assert all(params["temperature"] == 0.2 for _, params in chat.seen)


def test_a_rerun_skips_written_rows_and_asks_nothing(tmp_path: Path) -> None:
    first = Recording(responses=[RIGHT])
    assert _run(tmp_path, first, 2)[0] == 2
    again = Recording(responses=[RIGHT])
    written, rows = _run(tmp_path, again, 2)
    assert written == 0 and again.seen == [] and len(rows) == 2
    more = Recording(responses=[WRONG, WRONG, WRONG])
    written, rows = _run(tmp_path, more, 3)  # a longer run draws only the missing sample
    assert written == 1 and len(more.seen) == 1 and more.seen[0][1]["seed"] == 1002
    assert [(r["sample"], r["solved"]) for r in rows] == [(0, True), (1, True), (2, False)]


def test_a_torn_last_line_is_drawn_again(tmp_path: Path) -> None:
    _run(tmp_path, Recording(responses=[RIGHT]), 2)
    out = tmp_path / "ceiling.jsonl"
    data = out.read_bytes()
    out.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 20])  # killed while writing the last row
    written, rows = _run(tmp_path, Recording(responses=[RIGHT]), 2)
    assert written == 1 and [r["sample"] for r in rows] == [0, 1]


def test_rows_of_another_model_are_not_mixed_in(tmp_path: Path) -> None:
    _run(tmp_path, Recording(responses=[RIGHT]), 1)
    run = ceiling.Run(Recording(responses=[RIGHT]), ResultsLog(tmp_path / "ceiling.jsonl"), "abc1234", "other")
    with pytest.raises(MyLLMError, match="another model"):
        ceiling.run_all(run, {"examples": [shapes_task()]}, [ceiling.parse_setting("t0.2")], {"examples": 2})


# --------------------------------------------------------------------------- docstring-only selection


DOC = "Add two numbers.\n\n>>> add(1, 2)\n3\n>>> add(0, 0)\n0\n"


def test_docstring_examples_are_judged_one_by_one_in_the_sandbox() -> None:
    limits = EvalSettings().loop_settings().limits
    right = ceiling.examples_judged("def add(a, b):\n    return a + b\n", "solution", DOC, "add", limits)
    wrong = ceiling.examples_judged("def add(a, b):\n    return a * b\n", "solution", DOC, "add", limits)
    broken = ceiling.examples_judged("def add(a, b):\n    return a +\n", "solution", DOC, "add", limits)
    assert (right["examples_passed"], right["examples_total"]) == (2, 2)
    assert (wrong["examples_passed"], wrong["examples_total"]) == (1, 2)
    assert broken["examples_passed"] == 0
    assert len(right["behaviour"]) == 2 and right["behaviour"][1] == wrong["behaviour"][1]  # add(0, 0) agrees
    assert right["behaviour"][0] != wrong["behaviour"][0]


def test_humaneval_docstrings_come_from_the_prompt() -> None:
    task = next(t for t in humaneval_tasks() if t.id == "HumanEval/0")
    assert ">>> has_close_elements" in ceiling.docstring_of(task)


def _sample(i: int, solved: bool, examples: int, program: str, behaviour: list[str]) -> dict[str, Any]:
    return {"sample": i, "solved": solved, "has_code": True, "examples_passed": examples, "program": program,
            "code_digest": program, "behaviour": behaviour}


def test_selection_prefers_examples_then_agreement_then_the_first() -> None:
    a = _sample(0, False, 1, "a", ["x", "y"])
    b = _sample(1, True, 2, "b", ["x", "z"])
    c = _sample(2, False, 2, "c", ["w", "q"])
    d = _sample(3, True, 2, "d", ["x", "z"])
    assert ceiling_report.selected([a]) is a
    assert ceiling_report.selected([a, b]) is b  # more examples passed
    assert ceiling_report.selected([c, b]) is c  # a tie and nothing to agree on: the first
    assert ceiling_report.selected([c, b, d]) is b  # b and d agree with each other
    assert ceiling_report.selected([{"sample": 0, "has_code": False, "solved": False}]) is None


def test_summary_of_a_set(tmp_path: Path) -> None:
    rows = []
    for task, solved in (("t1", [True, False, False, False]), ("t2", [False] * 4)):
        for i, ok in enumerate(solved):
            rows.append({"set": "humaneval", "task": task, "setting": "t0.2", "sample": i, "solved": ok,
                         "has_code": True, "program": f"{task}{i % 2}", "code_digest": "d", "examples_passed": int(ok),
                         "behaviour": [], "tokens_in": 100, "tokens_out": 50, "seconds": 2.0, "call_seconds": 3.5})
    entry = ceiling_report.summarize(rows)[0]
    assert entry["pass"][1] == (pytest.approx(0.125), 2)  # (1/4 + 0) / 2
    assert entry["pass"][2] == (pytest.approx(0.25), 2)  # (1 - C(3,2)/C(4,2)) / 2 = (1 - 1/2) / 2
    assert entry["coverage"][1] == (0.5, 2) and entry["selected"][2] == (0.5, 2)
    assert 5 not in entry["pass"] and entry["programs"] == 2 and entry["seconds"] == 2.0
    ceiling_report.plot(ceiling_report.summarize(rows), tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_the_embedded_model_sends_min_p_and_top_k_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.messages import HumanMessage

    from my_llm.models import local_model

    sent: list[dict[str, Any]] = []

    class Server:
        def handle_chat_completions(self, request: dict[str, Any]) -> dict[str, Any]:
            sent.append(request)
            return {"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}], "usage": {}}

    monkeypatch.setattr(local_model._POOL, "get", lambda *a, **k: Server())
    chat = local_model.LocalChatModel(model_path="/nowhere.gguf", show_progress=False)
    chat.invoke([HumanMessage("hi")])
    chat.invoke([HumanMessage("hi")], min_p=0.05, top_k=0, seed=7, temperature=1.0)
    assert not {"min_p", "top_k", "seed"} & set(sent[0])
    assert (sent[1]["min_p"], sent[1]["top_k"], sent[1]["seed"], sent[1]["temperature"]) == (0.05, 0, 7, 1.0)
