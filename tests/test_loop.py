"""The engine's whole-module loop, with LangChain's fake chat models and the real sandbox.

These pin how a run converges or stops: what each failure feeds back, when it retries,
restarts or samples more candidates, and that a worse attempt never becomes the best.
Asking for one function at a time is in test_loop_focus.py.
"""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from code_generation.engine.loop import CodeTask, LoopSettings, run_loop
from code_generation.languages.base import TestFileError
from code_generation.languages.python.feedback import type_note
from code_generation.sandbox.runner import SandboxLimits
from tests.loop_fixtures import RIGHT, SETTINGS, TESTS, WORSE, WRONG, Spy, task

# Defines the wrong name: not worth a test run.
MISNAMED = '''```python
def sum_primes(n):
    return 0
```'''


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
