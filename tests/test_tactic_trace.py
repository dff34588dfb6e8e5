"""The `trace` tactic: a failing test run again in the real sandbox with a line tracer, its values fed back."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.engine.loop import run_loop
from code_generation.engine.tactics import DEFAULT_TACTICS, parse_tactics, tactic_names
from code_generation.sandbox import runner
from code_generation.sandbox.runner import SandboxLimits, run_tests, run_trace
from code_generation.sandbox.trace_report import VALUE_CHARS, Trace, clean, parse_trace, render
from code_generation.types import CodeTask, LoopSettings
from my_llm.models.model_tiers import ModelProfile
from tests.loop_fakes import Spy

# Off by one: range(1, n) leaves out n, so total(5) is 10, not 15.
OFF_BY_ONE = """def total(n):
    s = 0
    for i in range(1, n):
        s += i
    return s
"""
RIGHT = OFF_BY_ONE.replace("range(1, n)", "range(1, n + 1)")
TESTS = """import unittest

from summing import total


class TestTotal(unittest.TestCase):
    def test_zero(self):
        self.assertEqual(total(0), 0)

    def test_five(self):
        self.assertEqual(total(0), 0)
        self.assertEqual(total(5), 15)

    def test_table(self):
        for n, want in [(0, 0), (3, 6), (10, 55)]:
            with self.subTest(n=n):
                self.assertEqual(total(n), want)
"""
LIMITS = SandboxLimits(timeout=20)


def trace(module: str, test: str = "TestTotal.test_five", tests: str = TESTS, limits: SandboxLimits = LIMITS) -> Trace:
    return run_trace(module, "summing", tests, "test_summing.py", test, limits=limits)


# --------------------------------------------------------------------------- the traced run


def test_the_trace_names_the_values_at_the_lines_that_go_wrong() -> None:
    found = trace(OFF_BY_ONE)
    assert found.status == "ok" and found.outcome == "failed"
    text = render(found, OFF_BY_ONE, 1200)
    assert "`total(n=5)` returned 10:" in text  # the failing call, not the passing total(0) before it
    assert "          s += i    # s=10" in text and "      for i in range(1, n):    # i=4" in text  # the last lines it ran
    assert "i=5" not in text  # the value the loop never reached
    assert "Earlier calls in the test: `total(n=0)` returned 0." in text
    assert len(text) <= 1200


def test_with_subtests_the_call_shown_is_the_first_failing_one() -> None:
    text = render(trace(OFF_BY_ONE, "TestTotal.test_table"), OFF_BY_ONE, 1200)
    assert "`total(n=3)` returned 3:" in text  # total(10), called after the failure, is not the one shown
    assert "total(n=10)" not in text


def test_an_exception_in_the_code_is_named_as_raised() -> None:
    module = "def total(n):\n    values = list(range(n))\n    return values[n]\n"
    tests = "from summing import total\n\ndef test_five():\n    assert total(5) == 15\n"
    found = trace(module, "test_five", tests)
    assert found.outcome == "error"
    text = render(found, module, 1000)
    assert "`total(n=5)` raised IndexError:" in text and "      values = list(range(n))    # values=[0, 1, 2, 3, 4]" in text


def test_class_fixtures_run_before_the_traced_test() -> None:
    tests = ("import unittest\nfrom summing import total\n\nclass TestFixture(unittest.TestCase):\n"
             "    @classmethod\n    def setUpClass(cls):\n        cls.n = 4\n\n"
             "    def test_n(self):\n        self.assertEqual(total(self.n), 10)\n")
    found = trace(OFF_BY_ONE, "TestFixture.test_n", tests)
    assert found.outcome == "failed" and "`total(n=4)` returned 6:" in render(found, OFF_BY_ONE, 1000)


def test_a_test_that_passes_or_does_not_exist_gives_no_text() -> None:
    assert render(trace(RIGHT), RIGHT, 1000) == ""
    missing = trace(OFF_BY_ONE, "TestTotal.test_nothing")
    assert missing.status == "not_found" and render(missing, OFF_BY_ONE, 1000) == ""


def test_a_module_that_loops_forever_is_stopped_by_the_limit_and_gives_no_trace() -> None:
    looping = "def total(n):\n    s = 0\n    while True:\n        s += 1\n"
    started = time.monotonic()
    found = trace(looping, limits=SandboxLimits(timeout=3))
    assert time.monotonic() - started < 15
    assert found.status == "timeout" and found.calls == ()
    assert render(found, looping, 1000) == ""


def test_a_module_that_prints_megabytes_yields_trimmed_text() -> None:
    noisy = ("def total(n):\n    big = 'x' * 3_000_000\n    print(big)\n    rows = [list(range(1000))] * 1000\n"
             "    s = 0\n    for i in range(1, n):\n        print(big)\n        s += i\n    return s\n")
    found = trace(noisy)
    assert found.status == "ok"
    values = [v for s in found.calls[-1].first + found.calls[-1].last for _, v in s.values]
    assert values and all(len(v) <= VALUE_CHARS for v in values)
    text = render(found, noisy, 600)
    assert "returned 10" in text and "big=" in text and len(text) <= 600
    assert "x" * 100 not in text


def test_what_the_code_prints_into_a_repr_is_escaped_and_cut() -> None:
    module = ('class Loud:\n    def __repr__(self):\n        return "\\x1b[2J\\u202e" + "y" * 10_000\n\n'
              "def total(n):\n    noise = Loud()\n    return n\n")
    text = render(trace(module), module, 800)
    assert "noise=" in text
    assert all(c.isprintable() for c in text.replace("\n", ""))  # no escape sequence or direction mark left
    assert "\\x1b" in text and "y" * 100 not in text


def test_a_forged_or_malformed_report_is_read_as_bounded_text() -> None:
    events = [{"event": "trace", "found": True, "outcome": "failed", "calls_before": "many", "calls": [
        {"function": "f\x07" * 100, "args": [["n", "1" * 10_000], ["bad"], 3], "first": [["f", "x", [["a", 1]]]],
         "last": "nope", "skipped": -5, "result": ["not", "text"], "raised": "yes"}, "junk"]}]
    found = parse_trace(events, "TestX.test_y", "crashed")
    call = found.calls[0]
    assert len(found.calls) == 1 and found.calls_before == 0
    assert len(call.function) <= 40 and "\x07" not in call.function
    assert call.args == (("n", "1" * 57 + "..."),) and call.first[0].line == 0 and call.last == ()
    assert call.skipped == 0 and call.result == "" and call.raised is False
    assert len(render(found, "", 300)) <= 300
    assert parse_trace([], "t", "timeout").status == "timeout"
    assert parse_trace([{"event": "trace", "found": True, "_from_init": True}], "t", "crashed").status == "no_trace"
    assert clean("a\nb\tc\u202e", 100) == "a\\nb\\tc\\u202e"


# --------------------------------------------------------------------------- the tactic in the loop


def task() -> CodeTask:
    return CodeTask("Write total(n), the sum of 1 to n.", "summing", TESTS, "test_summing.py")


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def second_feedback(tactics: tuple[str, ...]) -> tuple[str, Spy, list]:
    spy = Spy()
    settings = LoopSettings(max_iterations=2, limits=LIMITS, tactics=tactics)
    outcome = run_loop(task(), FakeListChatModel(responses=[fenced(OFF_BY_ONE), fenced(RIGHT)]), settings,
                       observer=spy)
    assert outcome.success
    return str(spy.calls[1][1][-1].content), spy, [a.summary() for a in outcome.attempts]


def test_the_tactic_puts_the_trace_into_the_second_rounds_feedback() -> None:
    feedback, spy, _ = second_feedback(("skeleton", "trace"))
    assert "Runtime trace of the failing test TestTotal.test_five" in feedback
    assert "`total(n=5)` returned 10:" in feedback and "# s=10" in feedback
    assert "FAIL: TestTotal.test_five" in feedback  # the failures are still there
    trace_part = feedback.split("Runtime trace", 1)[1].split("\n\n", 1)[0]
    assert len("Runtime trace" + trace_part) <= LoopSettings().feedback_budget * 0.3
    assert any("with a line tracer: a trace" in e for e in spy.events)


def test_with_the_tactic_off_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    traced, _, traced_attempts = second_feedback(("skeleton", "trace"))

    def refuse(*args: object, **kwargs: object) -> Trace:
        raise AssertionError("the trace ran with the tactic off")

    monkeypatch.setattr(runner, "run_trace", refuse)
    plain, spy, plain_attempts = second_feedback(("skeleton",))
    paragraph = traced[traced.index("Runtime trace"):].split("\n\n", 1)[0] + "\n\n"
    assert plain == traced.replace(paragraph, "") and "Runtime trace" not in plain
    assert plain_attempts == traced_attempts  # same verdicts, tests passed and notes
    assert not any("line tracer" in e for e in spy.events)
    default = LoopSettings(max_iterations=2, limits=LIMITS)
    outcome = run_loop(task(), FakeListChatModel(responses=[fenced(OFF_BY_ONE), fenced(RIGHT)]), default)
    assert outcome.success  # the default set never calls the tracer


def test_the_tactic_is_registered_but_not_in_the_default_set() -> None:
    assert "trace" not in DEFAULT_TACTICS
    assert "trace" not in tactic_names(LoopSettings(), ModelProfile())
    assert parse_tactics("skeleton,trace") == ("skeleton", "trace")
    assert tactic_names(LoopSettings(tactics=("trace", "skeleton")), ModelProfile()) == ("skeleton", "trace")


def test_only_an_assertion_failure_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(*args: object, **kwargs: object) -> Trace:
        calls.append(str(args[4]))
        return Trace(str(args[4]), "no_trace")

    monkeypatch.setattr(runner, "run_trace", counting)
    broken = "import not_a_module\n\ndef total(n):\n    return 0\n"
    raising = "def total(n):\n    raise ValueError('no')\n"
    settings = LoopSettings(max_iterations=3, limits=LIMITS, tactics=("trace",))
    responses = [fenced(broken), fenced(raising), fenced(RIGHT)]
    outcome = run_loop(task(), FakeListChatModel(responses=responses), settings)
    assert outcome.success and calls == []  # an import error, then only errors: nothing to trace
    run_loop(task(), FakeListChatModel(responses=[fenced(OFF_BY_ONE), fenced(RIGHT)]), replace(settings))
    assert calls == ["TestTotal.test_five"]  # the first test that failed an assertion, once


def test_the_judging_run_is_untouched_by_the_trace_run() -> None:
    before = run_tests(OFF_BY_ONE, "summing", TESTS, "test_summing.py", limits=LIMITS)
    trace(OFF_BY_ONE)
    after = run_tests(OFF_BY_ONE, "summing", TESTS, "test_summing.py", limits=LIMITS)
    assert before.status == after.status == "ok"
    assert [(c.name, c.outcome) for c in before.cases] == [(c.name, c.outcome) for c in after.cases]
    assert before.passed == 1
    tracing = "import sys\n\nsys.settrace(lambda *a: None)\n\n" + RIGHT
    judged = run_tests(tracing, "summing", TESTS, "test_summing.py", limits=LIMITS)
    assert judged.status == "tampered" and "trace" in judged.message  # a judging run still forbids tracers
