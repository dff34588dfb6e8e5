"""The engine's logic with LangChain's fake chat models and the real sandbox."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import replace

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.loop import (
    Attempt,
    CodeTask,
    LoopOutcome,
    LoopSettings,
    passed_names,
    run_loop,
)
from code_generation.languages.base import TestFileError
from code_generation.languages.python.extract import header
from code_generation.languages.python.feedback import culprit, failures_of, type_note
from code_generation.languages.python.prompts import afresh_messages, reply_prefix, request_skeleton
from code_generation.sandbox.runner import CaseResult, SandboxLimits, SandboxResult
from my_llm.models.usage import CallUsage

TESTS = '''import unittest

from prime_numbers import prime_sum


class TestPrimeNumberFunctions(unittest.TestCase):
    def test_sum_of_first_100_prime_numbers(self):
        self.assertEqual(prime_sum(100), 24133)

    def test_sum_of_first_10_prime_numbers(self):
        self.assertEqual(prime_sum(10), 129)

    def test_zero(self):
        self.assertEqual(prime_sum(0), 0)


if __name__ == '__main__':
    unittest.main()
'''

RIGHT = '''```python
def prime_sum(n):
    primes = []
    candidate = 2
    while len(primes) < n:
        if all(candidate % p for p in primes):
            primes.append(candidate)
        candidate += 1
    return sum(primes)
```'''

# Passes only test_zero: sums the first n integers from 2.
WRONG = '''```python
def prime_sum(n):
    return sum(range(2, n + 2)) if n else 0
```'''

# Passes nothing.
WORSE = '''```python
def prime_sum(n):
    return -1
```'''

# Defines the wrong name: not worth a test run.
MISNAMED = '''```python
def sum_primes(n):
    return 0
```'''


class Spy:
    """Keeps what the engine sent to the model and every attempt, as an observer would."""

    def __init__(self) -> None:
        self.prompts: list[list[BaseMessage]] = []
        self.attempts: list[Attempt] = []
        self.events: list[str] = []

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.prompts.append(list(messages))

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        self.attempts.append(attempt)

    def event(self, message: str) -> None:
        self.events.append(message)


def task() -> CodeTask:
    return CodeTask("Compute the sum of the first N prime numbers", "prime_numbers", TESTS, "test_prime_numbers.py")


SETTINGS = LoopSettings(max_iterations=3, limits=SandboxLimits(timeout=20))


def test_wrong_then_right_feeds_back_the_failures() -> None:
    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG, RIGHT]), SETTINGS, observer=spy)
    assert outcome.success
    assert outcome.iterations == 2
    assert outcome.stop_reason == "passed"
    assert outcome.best is spy.attempts[1]
    assert outcome.best.passed == 3 and outcome.tests_total == 3
    feedback = spy.prompts[1][-1].content
    assert "fails 2 of 3 tests" in feedback
    assert "test_sum_of_first_10_prime_numbers" in feedback
    assert "129" in feedback  # the assertion message reaches the model
    # The code that failed is the model's own last answer, just above the feedback, and only there.
    tested = spy.prompts[1][-2]
    assert isinstance(tested, AIMessage) and "sum(range(2, n + 2))" in tested.content
    assert "sum(range(2, n + 2))" not in feedback
    assert "test_zero" in feedback.split("already pass")[1]


def test_reply_without_code_is_a_retry() -> None:
    spy = Spy()
    chat = FakeListChatModel(responses=["I am sorry, I cannot write that.", RIGHT])
    outcome = run_loop(task(), chat, SETTINGS, observer=spy)
    assert outcome.success
    assert spy.attempts[0].code is None and spy.attempts[0].result is None
    assert "no Python code" in spy.prompts[1][-1].content


def test_copied_test_class_and_self_import_are_removed() -> None:
    reply = (
        "Sure! Here it is:\n```python\nfrom prime_numbers import prime_sum\nimport unittest\n\n"
        + RIGHT.split("```python\n")[1].split("```")[0]
        + "\n\nclass TestPrimeNumberFunctions(unittest.TestCase):\n    def test_x(self):\n"
        "        self.assertEqual(prime_sum(10), 129)\n\nif __name__ == '__main__':\n    unittest.main()\n```\n"
        "This passes the tests."
    )
    outcome = run_loop(task(), FakeListChatModel(responses=[reply]), SETTINGS)
    assert outcome.success, outcome.best.result.message if outcome.best else "no attempt"
    assert outcome.best is not None and outcome.best.code is not None
    assert "class TestPrimeNumberFunctions" not in outcome.best.code
    assert "from prime_numbers import" not in outcome.best.code
    assert any("test class" in note for note in outcome.best.notes)


def test_reply_that_only_repeats_the_tests_is_a_retry_without_echo() -> None:
    copied = "```python\n" + TESTS + "```"
    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=[copied, MISNAMED, RIGHT]), SETTINGS, observer=spy)
    assert outcome.success and outcome.iterations == 3
    assert spy.attempts[0].result is None and spy.attempts[1].result is None  # no sandbox run
    assert "does not define `prime_sum`" in spy.prompts[1][-1].content
    # The unusable reply is not echoed back: the retry is the request plus a reminder.
    assert len(spy.prompts[1]) == len(spy.prompts[0])
    assert "class TestPrimeNumberFunctions" not in spy.prompts[1][-1].content
    assert spy.attempts[1].temperature > spy.attempts[0].temperature


def test_no_progress_restarts_from_the_request() -> None:
    spy = Spy()
    settings = LoopSettings(max_iterations=4, limits=SandboxLimits(timeout=20), restart_after=2)
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG, WORSE, WORSE, RIGHT]), settings, observer=spy)
    assert outcome.success and outcome.iterations == 4
    assert "fails" in spy.prompts[1][-1].content  # one repair with feedback ...
    assert "fails" in spy.prompts[2][-1].content
    # ... and after two attempts without progress, the original request again, sampled hotter.
    assert [m.content for m in spy.prompts[3]] == [m.content for m in spy.prompts[0]]
    assert spy.attempts[3].temperature > SETTINGS.temperature
    assert any("afresh" in event for event in spy.events)


ROMAN_TESTS = '''import unittest

from roman import from_roman, to_roman


class TestRoman(unittest.TestCase):
    def test_to_roman(self):
        self.assertEqual(to_roman(14), "XIV")

    def test_from_roman(self):
        self.assertEqual(from_roman("XIV"), 14)
'''

TO_ROMAN = '''def to_roman(n):
    out = ""
    for value, letters in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out'''

FROM_ROMAN = '''import re


def _values():
    return {"X": 10, "V": 5, "I": 1}


def from_roman(s):
    values = _values()
    total = 0
    for a, b in zip(s, s[1:] + " "):
        total += -values[a] if b != " " and values[a] < values[b] else values[a]
    return total'''


def roman(responses: list[str], tests: str = ROMAN_TESTS, settings: LoopSettings = SETTINGS) -> tuple[LoopOutcome, Spy]:
    """A two-function module run against `tests` with these replies in turn."""
    spy = Spy()
    task = CodeTask("Roman numerals both ways", "roman", tests, "test_roman.py")
    return run_loop(task, FakeListChatModel(responses=responses), settings, observer=spy), spy


def test_unittest_main_in_module_does_not_fake_a_pass() -> None:
    reply = "```python\nimport unittest\n\ndef prime_sum(n):\n    return -1\n\nunittest.main()\n```"
    outcome = run_loop(task(), FakeListChatModel(responses=[reply]), LoopSettings(max_iterations=1))
    assert not outcome.success
    assert outcome.best is not None and outcome.best.passed == 0


def test_budget_spent_without_passing() -> None:
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG]), SETTINGS)
    assert not outcome.success
    assert outcome.iterations == 3
    assert outcome.stop_reason == "budget"
    assert outcome.best is not None and outcome.best.passed == 1


def test_repeated_attempt_raises_the_temperature() -> None:
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG]), SETTINGS)
    temperatures = [a.temperature for a in outcome.attempts]
    # The second reply repeats the first verbatim, so the third call samples hotter.
    assert temperatures[0] == temperatures[1] == SETTINGS.temperature
    assert temperatures[2] > temperatures[1]


def test_worse_attempt_never_replaces_the_best() -> None:
    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG, WORSE, WORSE]), SETTINGS, observer=spy)
    assert not outcome.success
    assert outcome.best is spy.attempts[0]
    assert spy.attempts[1].result is not None and spy.attempts[1].passed == 0
    # After the worse attempt, the feedback shows the best attempt's code, not the worse one.
    assert "sum(range(2, n + 2))" in spy.prompts[2][-2].content
    assert "return -1" not in spy.prompts[2][-1].content


def test_early_exit_in_module_is_a_failure() -> None:
    reply = "```python\nimport os\nos._exit(0)\n\ndef prime_sum(n):\n    return 0\n```"
    outcome = run_loop(task(), FakeListChatModel(responses=[reply]), LoopSettings(max_iterations=1))
    assert not outcome.success


def test_guard_stops_the_run() -> None:
    def guard() -> None:
        raise TestFileError("tests changed")

    with pytest.raises(TestFileError):
        run_loop(task(), FakeListChatModel(responses=[RIGHT]), SETTINGS, guard=guard)


def test_usage_is_counted_per_call() -> None:
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG, RIGHT]), SETTINGS)
    assert len(outcome.usage.calls) == 2
    assert outcome.usage.tokens_in > 0 and outcome.usage.tokens_out > 0
    assert all(call.estimated for call in outcome.usage.calls)  # fakes report no usage


def test_candidates_keep_the_best_of_each_round_and_feed_it_back() -> None:
    # Two candidates per round are sampled at once, so which reply lands in which slot is up to
    # the threads; every assertion below holds whatever that order is.
    spy = Spy()
    chat = GenericFakeChatModel(messages=iter([WORSE, WRONG, WORSE, RIGHT]))
    settings = LoopSettings(max_iterations=3, limits=SandboxLimits(timeout=20), candidates=2)
    outcome = run_loop(task(), chat, settings, observer=spy)
    assert outcome.success and outcome.iterations == 2
    assert sorted(a.label for a in outcome.attempts) == ["1", "1.1", "2", "2.1"]
    assert outcome.best is not None and outcome.best.iteration == 2 and outcome.best.passed == 3
    # Round 2: the main request repairs round 1's best (WRONG, 1 test passing), the extra one
    # asks afresh from the request alone.
    repair, fresh = spy.prompts[2], spy.prompts[3]
    assert "sum(range(2, n + 2))" in repair[-2].content and "fails 2 of 3 tests" in repair[-1].content
    assert fresh == spy.prompts[0]
    assert [u.label for u in outcome.usage.calls] == ["code-1", "code-1.1", "code-2", "code-2.1"]
    # What each call was for, so the prompt cache can be read per kind of request.
    assert [u.purpose for u in outcome.usage.calls] == ["opening", "fresh", "feedback", "fresh"]


def test_candidates_tie_goes_to_the_shorter_program() -> None:
    longer = WRONG.replace("return sum", "total = sum(range(2, n + 2)) if n else 0\n    return total\n    return sum")
    spy = Spy()
    chat = GenericFakeChatModel(messages=iter([longer, WRONG]))
    settings = LoopSettings(max_iterations=1, limits=SandboxLimits(timeout=20), candidates=2)
    outcome = run_loop(task(), chat, settings, observer=spy)
    assert not outcome.success and len(outcome.attempts) == 2
    assert {a.passed for a in outcome.attempts} == {1}
    assert outcome.best is not None and "total" not in (outcome.best.code or "")


# Passes test_sum_of_first_100 and test_sum_of_first_10 but breaks test_zero.
TABLE = '''```python
def prime_sum(n):
    return {100: 24133, 10: 129}.get(n, -1)
```'''


def test_candidate_breaking_a_passing_test_never_becomes_best() -> None:
    chat = GenericFakeChatModel(messages=iter([WRONG, WORSE, TABLE, WORSE]))
    settings = LoopSettings(max_iterations=2, limits=SandboxLimits(timeout=20), candidates=2)
    outcome = run_loop(task(), chat, settings)
    table = next(a for a in outcome.attempts if a.code and "24133" in a.code)
    assert table.passed == 2  # more tests than the best, but test_zero fails
    assert outcome.best is not None and outcome.best.passed == 1 and "range(2, n + 2)" in (outcome.best.code or "")


def test_same_failure_escalates_then_stops_saying_what_failed() -> None:
    spy = Spy()
    chat = GenericFakeChatModel(messages=iter([WRONG] * 30))
    settings = LoopSettings(max_iterations=7, limits=SandboxLimits(timeout=20), candidates=2)
    outcome = run_loop(task(), chat, settings, observer=spy)
    assert outcome.stop_reason == "stuck" and outcome.iterations == 5
    assert [len([a for a in outcome.attempts if a.iteration == i]) for i in (1, 2, 3, 4, 5)] == [2, 2, 2, 4, 4]
    assert any("4 candidates per round" in e for e in spy.events)
    stopping = next(e for e in spy.events if e.startswith("stopping"))
    assert "5 rounds in a row" in stopping and "test_sum_of_first_100_prime_numbers" in stopping


def test_feedback_shows_the_whole_check_when_the_traceback_quotes_one_line() -> None:
    tests = TESTS.replace(
        "self.assertEqual(prime_sum(0), 0)",
        "self.assertEqual(\n            prime_sum(0),\n            0,\n        )\n\n    def test_negative(self):\n"
        "        with self.assertRaises(ValueError):\n            prime_sum(-1)",
    )
    spy = Spy()
    settings = LoopSettings(max_iterations=2, limits=SandboxLimits(timeout=20))
    never_zero = "```python\ndef prime_sum(n):\n    return 1\n```"
    run_loop(CodeTask("Sum primes", "prime_numbers", tests, "test_prime_numbers.py"),
             FakeListChatModel(responses=[never_zero, RIGHT]), settings, observer=spy)
    feedback = spy.prompts[1][-1].content
    assert "The failing check, in full: `assertEqual(prime_sum(0), 0)`" in feedback
    assert "`prime_sum(-1)` should raise ValueError but returned normally." in feedback


def test_a_request_with_its_own_code_can_leave_the_tests_unseen() -> None:
    prompt = "Complete `prime_sum`.\n\n```python\ndef prime_sum(n):\n    \"\"\"Sum of the first n primes.\"\"\"\n```"
    seen = {}
    for show in (True, False):
        spy = Spy()
        settings = LoopSettings(max_iterations=1, limits=SandboxLimits(timeout=20), show_tests=show)
        outcome = run_loop(CodeTask(prompt, "prime_numbers", TESTS, "test_prime_numbers.py"),
                           FakeListChatModel(responses=[RIGHT]), settings, observer=spy)
        assert outcome.success  # the tests judge either way
        seen[show] = spy.prompts[0][-1].content
    assert ">>> prime_sum(100)" in seen[True] and ">>> prime_sum(100)" not in seen[False]
    assert "Sum of the first n primes." in seen[False]


ROUND_TRIP = ROMAN_TESTS + '''
    def test_round_trip(self):
        for n in range(1, 40):
            self.assertEqual(from_roman(to_roman(n)), n)
'''


def test_when_only_one_functions_tests_fail_that_function_is_asked_for_alone() -> None:
    wrong = f"```python\n{TO_ROMAN}\n\n\ndef from_roman(s):\n    return len(s)\n```"
    # The reply rewrites the whole module and breaks to_roman; only from_roman is taken from it.
    broken_to_roman = 'def to_roman(n):\n    return "?"'
    reply = f"```python\n{broken_to_roman}\n\n\n{FROM_ROMAN}\n```"
    outcome, spy = roman([wrong, reply], ROUND_TRIP)
    assert outcome.success and outcome.iterations == 2
    request = spy.prompts[1][-1].content
    # The turn after the attempt: the request and the attempt as before, then the focused request.
    assert spy.prompts[1][:-2] == spy.prompts[0] and "The failing tests below point at `from_roman`" in request
    assert "FAIL: TestRoman.test_from_roman" in request and "keep them passing: TestRoman.test_to_roman" in request
    assert outcome.best is not None and TO_ROMAN in (outcome.best.code or "")


def test_failures_shared_by_every_function_get_the_whole_module_feedback() -> None:
    wrong = '```python\ndef to_roman(n):\n    return "?"\n\n\ndef from_roman(s):\n    return 0\n```'
    _, spy = roman([wrong, wrong], ROUND_TRIP, replace(SETTINGS, max_iterations=2))
    assert "Rewrite `roman.py` so that every test passes" in spy.prompts[1][-1].content
    assert len(spy.prompts[1]) == 3  # the request, the attempt, the feedback


def test_the_culprit_is_the_function_every_failing_test_calls() -> None:
    def result(*outcomes: tuple[str, str]) -> SandboxResult:
        return SandboxResult(status="ok", cases=[CaseResult(f"TestRoman.{n}", o, "") for n, o in outcomes])

    functions = ["to_roman", "from_roman"]
    # A passing test may call it too (another of its cases works): the failures still point at it.
    assert culprit(result(("test_to_roman", "passed"), ("test_from_roman", "failed"),
                          ("test_round_trip", "failed")), ROUND_TRIP, functions) == "from_roman"
    assert culprit(result(("test_to_roman", "passed"), ("test_from_roman", "passed"),
                          ("test_round_trip", "failed")), ROUND_TRIP, functions) is None  # both, both pass elsewhere
    assert culprit(result(("test_to_roman", "failed"), ("test_from_roman", "failed"),
                          ("test_round_trip", "failed")), ROUND_TRIP, functions) is None  # nothing works yet
    assert culprit(result(("test_to_roman", "passed"), ("test_from_roman", "failed")), ROUND_TRIP, ["from_roman"]) is None


SPLIT_TESTS = ROMAN_TESTS + '''
    def test_from_roman_subtractive(self):
        self.assertEqual(from_roman("IX"), 9)

    def test_round_trip(self):
        self.assertEqual(from_roman(to_roman(9)), 9)
'''


def test_when_failures_split_the_function_most_of_them_point_at_goes_first() -> None:
    def result(*outcomes: tuple[str, str]) -> SandboxResult:
        return SandboxResult(status="ok", cases=[CaseResult(f"TestRoman.{n}", o, f"{n} said no") for n, o in outcomes])

    split = result(("test_to_roman", "failed"), ("test_from_roman", "failed"),
                   ("test_from_roman_subtractive", "failed"), ("test_round_trip", "passed"))
    functions = ["to_roman", "from_roman"]
    assert culprit(split, SPLIT_TESTS, functions) == "from_roman"  # two failing tests call it alone, one to_roman
    own = failures_of(split, SPLIT_TESTS, functions, None, "from_roman")
    assert [c.name.split(".")[1] for c in own.cases] == ["test_from_roman", "test_from_roman_subtractive", "test_round_trip"]
    even = replace(split, cases=[c for c in split.cases if not c.name.endswith("subtractive")])
    assert culprit(even, SPLIT_TESTS, functions) == "to_roman"  # a tie: the first of the functions


def test_the_function_asked_for_alone_sees_only_its_own_failures() -> None:
    # Additive numerals only: to_roman fails one test, from_roman two, and the round trip of 9 passes.
    additive = ('def to_roman(n):\n    return "X" * (n // 10) + "V" * (n % 10 // 5) + "I" * (n % 5)\n\n\n'
                'def from_roman(s):\n    return sum({"X": 10, "V": 5, "I": 1}[c] for c in s)')
    outcome, spy = roman([f"```python\n{additive}\n```", f"```python\n{FROM_ROMAN}\n```"], SPLIT_TESTS,
                         replace(SETTINGS, max_iterations=2))
    request = spy.prompts[1][-1].content
    # The turn after the attempt: the request and the attempt as before, then the focused request.
    assert spy.prompts[1][:-2] == spy.prompts[0] and "The failing tests below point at `from_roman`" in request
    assert "FAIL: TestRoman.test_from_roman_subtractive" in request and "FAIL: TestRoman.test_to_roman" not in request
    assert outcome.best is not None and outcome.best.passed == 3  # from_roman spliced in; to_roman still additive


CONVERTER_TESTS = '''import unittest

from temperature import Converter


class TestConverter(unittest.TestCase):
    def setUp(self):
        self.converter = Converter()

    def test_kelvin(self):
        self.assertAlmostEqual(self.converter.to_kelvin(-273.15), 0.0)
        self.assertAlmostEqual(self.converter.to_celsius(0), -273.15)

    def test_below_absolute_zero(self):
        with self.assertRaises(ValueError):
            self.converter.to_kelvin(-300)
        with self.assertRaises(ValueError):
            self.converter.to_celsius(-1)
'''

# to_kelvin raises for -273.15 itself; both tests call both methods, so only the frame the
# error was raised in tells which one is wrong.
CONVERTER = '''class Converter:
    def to_kelvin(self, c):
        if c <= -273.15:
            raise ValueError(c)
        return c + 273.15

    def to_celsius(self, k):
        if k < 0:
            raise ValueError(k)
        return k - 273.15'''

TO_KELVIN = "def to_kelvin(self, c):\n    if c < -273.15:\n        raise ValueError(c)\n    return c + 273.15"


def test_the_method_an_error_was_raised_in_is_asked_for_alone() -> None:
    spy = Spy()
    task = CodeTask("A Kelvin converter", "temperature", CONVERTER_TESTS, "test_temperature.py")
    replies = [f"```python\n{CONVERTER}\n```", f"```python\n{TO_KELVIN}\n```"]
    alone = replace(SETTINGS, focus_in_conversation=False)
    outcome = run_loop(task, FakeListChatModel(responses=replies), alone, observer=spy)
    assert outcome.success and outcome.iterations == 2
    request = spy.prompts[1][-1].content
    assert "Rewrite the method `to_kelvin` of the class `Converter`" in request
    assert "def to_kelvin(self, c):\n    if c <= -273.15:" in request  # the method alone, dedented
    assert "`Converter.to_kelvin` spliced into the previous attempt" in spy.attempts[1].notes
    assert outcome.best is not None and "    def to_celsius(self, k):" in (outcome.best.code or "")


def test_the_culprit_is_where_the_error_was_raised_when_the_calls_do_not_tell() -> None:
    methods = ["Converter.to_kelvin", "Converter.to_celsius"]
    raised = 'Traceback (most recent call last):\n  File "test_temperature.py", line 11, in test_kelvin\n' \
             '    ...\n  File "temperature.py", line 4, in to_kelvin\n    raise ValueError(c)\nValueError: -273.15'
    failed = SandboxResult(status="ok", cases=[CaseResult("TestConverter.test_kelvin", "error", raised),
                                               CaseResult("TestConverter.test_below_absolute_zero", "passed", "")])
    assert culprit(failed, CONVERTER_TESTS, methods, "temperature") == "Converter.to_kelvin"
    assert "to_kelvin(-273.15)" in CONVERTER_TESTS.splitlines()[10]  # line 11: the check that raised
    assert culprit(failed, CONVERTER_TESTS, methods) == "Converter.to_kelvin"  # by the failing check
    unplaced = replace(failed, cases=[replace(failed.cases[0], message=raised.replace("line 11", "line 99")),
                                      failed.cases[1]])
    assert culprit(unplaced, CONVERTER_TESTS, methods) is None  # by the calls alone: both methods
    wrong_value = replace(failed, cases=[replace(failed.cases[0], outcome="failed", message="AssertionError: 1 != 0"),
                                         failed.cases[1]])
    assert culprit(wrong_value, CONVERTER_TESTS, methods, "temperature") is None
    # State no __init__ set up is the class's fault, not the method's the error surfaced in.
    no_state = raised.replace("ValueError: -273.15", "AttributeError: 'Converter' object has no attribute 'scale'")
    stateless = replace(failed, cases=[replace(failed.cases[0], message=no_state), failed.cases[1]])
    assert culprit(stateless, CONVERTER_TESTS, methods, "temperature") is None
    other = raised.replace("ValueError: -273.15", "AttributeError: 'str' object has no attribute 'scale'")
    elsewhere = replace(failed, cases=[replace(failed.cases[0], message=other), failed.cases[1]])
    assert culprit(elsewhere, CONVERTER_TESTS, methods, "temperature") == "Converter.to_kelvin"


def test_a_failing_check_points_at_the_one_method_it_calls() -> None:
    methods = ["Converter.to_kelvin", "Converter.to_celsius"]
    line = CONVERTER_TESTS.splitlines().index("        with self.assertRaises(ValueError):", 15) + 1
    assert "to_celsius(-1)" in CONVERTER_TESTS.splitlines()[line]  # the second check of the test
    message = (f'Traceback (most recent call last):\n  File "test_temperature.py", line {line}, in '
               'test_below_absolute_zero\n    with self.assertRaises(ValueError):\nAssertionError: ValueError not raised')
    result = SandboxResult(status="ok", cases=[CaseResult("TestConverter.test_kelvin", "passed", ""),
                                               CaseResult("TestConverter.test_below_absolute_zero", "failed", message)])
    assert culprit(result, CONVERTER_TESTS, methods, "temperature") == "Converter.to_celsius"
    # Without the line (a message that names no frame), the test calls both: no culprit.
    vague = replace(result, cases=[result.cases[0], replace(result.cases[1], message="ValueError not raised")])
    assert culprit(vague, CONVERTER_TESTS, methods, "temperature") is None


def test_functions_right_in_different_attempts_are_combined_without_a_model_call() -> None:
    # Each candidate gets a different function right; neither passes alone.
    right_to = f'```python\n{TO_ROMAN}\n\n\ndef from_roman(s):\n    return 0\n```'
    right_from = f'```python\n{FROM_ROMAN}\n\n\ndef to_roman(n):\n    return "?"\n```'
    spy = Spy()
    task = CodeTask("Roman numerals both ways", "roman", ROMAN_TESTS, "test_roman.py")
    chat = GenericFakeChatModel(messages=iter([right_to, right_from]))
    outcome = run_loop(task, chat, replace(SETTINGS, candidates=2, max_iterations=1), observer=spy)
    assert outcome.success and len(outcome.usage.calls) == 2
    best = outcome.best
    assert best is not None and best.label == "1.2" and best.reply == ""
    # One function came from the other attempt; taking its wrong twin too was tested and refused.
    assert len(best.notes) == 1 and best.notes[0].startswith("combined `")
    assert best.notes[0].count("`") == 2
    assert TO_ROMAN in (best.code or "") and "def _values():" in (best.code or "")
    assert spy.attempts[-1] is best


def test_a_right_method_is_taken_from_an_attempt_that_passes_nothing_the_best_fails() -> None:
    # The best attempt (1 of 2) raises for -273.15 itself; the other attempt has the right
    # `to_kelvin` but forgot `to_celsius`, so it passes no test at all.
    forgot = f"```python\nclass Converter:\n{textwrap.indent(TO_KELVIN, '    ')}\n```"
    spy = Spy()
    task = CodeTask("A Kelvin converter", "temperature", CONVERTER_TESTS, "test_temperature.py")
    chat = GenericFakeChatModel(messages=iter([f"```python\n{CONVERTER}\n```", forgot]))
    outcome = run_loop(task, chat, replace(SETTINGS, candidates=2, max_iterations=1), observer=spy)
    first, second = spy.attempts[:2]
    assert (first.passed, second.passed) == (1, 0) and not passed_names(second) - passed_names(first)
    assert outcome.success and len(outcome.usage.calls) == 2
    assert outcome.best is not None and outcome.best.notes == ["combined `Converter.to_kelvin` from attempt 1.1 into attempt 1"]
    assert "if c < -273.15:" in (outcome.best.code or "") and "def to_celsius(self, k):" in (outcome.best.code or "")


def test_nothing_is_combined_when_no_attempt_passes_a_test_the_best_fails() -> None:
    half = f'```python\n{TO_ROMAN}\n\n\ndef from_roman(s):\n    return 0\n```'
    outcome, spy = roman([half, half], settings=replace(SETTINGS, max_iterations=2))
    assert not outcome.success and all(not a.notes or "combined" not in a.notes[0] for a in spy.attempts)
    assert len(spy.attempts) == 2


def test_a_prefilled_reply_starts_at_the_first_empty_body() -> None:
    # A model that continues a final assistant message returns only what follows the prefix.
    prefix = reply_prefix(request_skeleton(task().prompt, "prime_numbers", TESTS, ["prime_sum"]))
    assert prefix is not None and prefix.startswith("```python\ndef prime_sum(") and prefix.endswith('    """\n')
    param = re.search(r"def prime_sum\((\w+)\)", prefix)
    assert param is not None
    body = RIGHT.split("\n", 2)[2].replace("(n)", f"({param[1]})").replace("< n:", f"< {param[1]}:")
    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=[body]), replace(SETTINGS, prefill=True), observer=spy)
    assert outcome.success and outcome.iterations == 1
    sent = spy.prompts[0][-1]
    assert isinstance(sent, AIMessage) and sent.content == prefix
    assert spy.attempts[0].reply == prefix + body


def test_a_function_asked_for_alone_is_not_prefilled() -> None:
    spy = Spy()
    task = CodeTask("A Kelvin converter", "temperature", CONVERTER_TESTS, "test_temperature.py")
    prefix = reply_prefix(request_skeleton(task.prompt, "temperature", CONVERTER_TESTS, ["Converter"]))
    assert prefix is not None and prefix.endswith("    def __init__(self):\n")  # the stub the skeleton adds
    methods = CONVERTER.split("\n", 1)[1]
    replies = [f"        pass\n\n{methods}\n```", f"```python\n{TO_KELVIN}\n```"]
    outcome = run_loop(task, FakeListChatModel(responses=replies), replace(SETTINGS, prefill=True), observer=spy)
    assert outcome.success and outcome.iterations == 2
    assert spy.prompts[0][-1].content == prefix
    assert spy.prompts[1][-1].type == "human" and "Rewrite only the method `to_kelvin`" in spy.prompts[1][-1].content


def test_no_prefix_without_an_empty_body_to_start_in() -> None:
    assert reply_prefix("def f(x): ...\n") is None  # nowhere to start on a new line
    assert reply_prefix("def f(x):\n    return x\n") is None
    assert reply_prefix("def f(:\n") is None
    assert reply_prefix("X = 1\n\n\ndef f(x):\n    pass\n") == "```python\nX = 1\n\n\ndef f(x):\n"


def _focused_round(settings: LoopSettings) -> tuple[Spy, list[str]]:
    """A converter whose one failing method is asked for alone, with two candidates: the prompts of round 2."""
    spy = Spy()
    task = CodeTask("A Kelvin converter", "temperature", CONVERTER_TESTS, "test_temperature.py")
    module, method = f"```python\n{CONVERTER}\n```", f"```python\n{TO_KELVIN}\n```"
    chat = FakeListChatModel(responses=[module, module, method, method, method])
    outcome = run_loop(task, chat, replace(settings, candidates=2), observer=spy)
    assert outcome.success and outcome.iterations == 2
    assert [a.label for a in spy.attempts[2:5]] == ["2", "2.1", "2.2"]
    assert "`Converter.to_kelvin` spliced into the previous attempt" in spy.attempts[3].notes
    assert "Complete the following Python module" in spy.prompts[4][-1].content  # the fresh candidate
    return spy, [str(messages[-1].content) for messages in spy.prompts[2:4]]


def test_a_focused_round_also_asks_for_the_function_afresh_without_its_old_body() -> None:
    _, (focus, afresh) = _focused_round(replace(SETTINGS, focus_in_conversation=False))
    assert "Rewrite the method `to_kelvin`" in focus and "if c <= -273.15:" in focus  # shown its code
    assert "Write the method `to_kelvin` of the class `Converter` again from scratch" in afresh
    assert "```python\ndef to_kelvin(self, c):\n    ...\n```" in afresh and "if c <= -273.15:" not in afresh
    assert "def to_celsius(self, k):" in afresh  # the rest of the module as context


def test_a_focused_request_in_conversation_is_the_turn_after_the_attempt() -> None:
    spy, (focus, afresh) = _focused_round(replace(SETTINGS, focus_in_conversation=True))
    opening = spy.prompts[0]
    for sent in spy.prompts[2:4]:
        # The request and the attempt as the model's answer come first, unchanged: the cache serves them.
        assert sent[:len(opening)] == opening and len(sent) == len(opening) + 2
        assert sent[-2].type == "ai" and "if c <= -273.15:" in sent[-2].content
    assert "Rewrite only the method `to_kelvin` of the class `Converter`" in focus
    assert "Write the method `to_kelvin` of the class `Converter` again from scratch" in afresh
    assert "```python\ndef to_kelvin(self, c):\n    ...\n```" in afresh
    assert "def to_celsius(self, k):" not in focus + afresh  # the module is in the answer above, not repeated


def test_a_function_asked_for_afresh_gets_the_skeletons_docstring_when_its_own_has_none() -> None:
    code = "class A:\n    def __init__(self):\n        self.x = {}\n\n    def stock(self, name):\n        return self.x[name]\n"
    skeleton = 'class A:\n    def stock(self, name):\n        """stock(name) returns 0 if unknown."""\n        ...\n'
    asked = afresh_messages("m", code, "A.stock", "fails", "details", skeleton)
    assert asked is not None
    assert 'def stock(self, name):\n    """stock(name) returns 0 if unknown."""\n    ...' in asked[0].content
    plain = afresh_messages("m", code, "A.stock", "fails", "details")
    assert plain is not None and "def stock(self, name):\n    ...\n```" in plain[0].content


def test_a_header_leaves_the_body_out() -> None:
    code = 'class A:\n    @staticmethod\n    def f(x):\n        """Twice x."""\n        return 2 * x\n\n\ndef g(): return 1\n'
    assert header(code, "A.f") == '@staticmethod\ndef f(x):\n    """Twice x."""\n    ...\n'
    assert header(code, "g") == ""  # nowhere to cut a one-line function
    assert header(code, "h") == ""


STEP_TESTS = '''import unittest

from steps import step


class TestStep(unittest.TestCase):
    def test_step(self):
        self.assertEqual(step("python", ("-m", "pytest")), {"name": "python", "args": ["-m", "pytest"]})
'''


def test_a_value_that_differs_only_in_type_is_named_in_the_feedback() -> None:
    spy = Spy()
    task = CodeTask("step(name, args) returns a dict with args as a list", "steps", STEP_TESTS, "test_steps.py")
    tuple_kept = '```python\ndef step(name, args):\n    return {"name": name, "args": args}\n```'
    listed = '```python\ndef step(name, args):\n    return {"name": name, "args": list(args)}\n```'
    outcome = run_loop(task, FakeListChatModel(responses=[tuple_kept, listed]), SETTINGS, observer=spy)
    assert outcome.success and outcome.iterations == 2
    assert ("The values differ in type at `['args']`: the code gives a tuple, `('-m', 'pytest')`, "
            "where the test expects a list, `['-m', 'pytest']`.") in spy.prompts[1][-1].content


def test_a_type_note_only_for_a_difference_unittest_would_fail_on() -> None:
    assert type_note("AssertionError: 4 != 4.0") is None  # equal to unittest
    assert type_note("AssertionError: [1, 2] != [1, 3]") is None  # a difference of value, shown already
    assert type_note("AssertionError: 'a != b' != 'a'") is None
    # Without the test's source, neither side is known to be the expected one.
    assert type_note("AssertionError: 4 != '4'") == "The two values differ in type: an int, `4`, against a string, `'4'`."
    assert type_note("AssertionError: (1, 'a != b') != [1, 'a != b']") == (
        "The two values differ in type: a tuple, `(1, 'a != b')`, against a list, `[1, 'a != b']`."
    )
