"""The loop asking for one function (or method) at a time, with fake models and the real sandbox.

When the failures point at one function, rewriting only it is cheaper and keeps what already
passes; these tests pin how that culprit is found and how its answer is spliced back,
combined across attempts, asked for afresh or prefilled. The whole-module loop is in
test_loop.py.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from code_generation.engine.loop import CodeTask, LoopOutcome, LoopSettings, passed_names, run_loop
from code_generation.languages.python.extract import header
from code_generation.languages.python.feedback import culprit, failures_of
from code_generation.languages.python.prompts import afresh_messages, reply_prefix, request_skeleton
from code_generation.sandbox.runner import CaseResult, SandboxResult
from tests.loop_fixtures import RIGHT, SETTINGS, TESTS, Spy, task

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
