"""loop_examples: the search sees only the docstring's examples, agreement picks, the hidden tests
judge once. Real sandbox; a scripted fake model."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.evaluation import strategy_hidden
from code_generation.evaluation.strategies import StrategyContext, get_strategy
from code_generation.sandbox.runner import SandboxLimits, run_tests
from code_generation.types import Attempt, CodeTask, LoopSettings
from my_llm.models.usage import CallUsage

PROMPT = '''Complete the function.

```python
def double_odd(n):
    """Double n when it is odd, else return it.

    >>> double_odd(3)
    6
    >>> double_odd(4)
    4
    >>> double_odd(3)
    6
    >>> print("not a literal result")
    not a literal result
    """
```'''

HIDDEN = '''import unittest

from numbers_mod import double_odd


class TestHidden(unittest.TestCase):
    def test_odd(self):
        self.assertEqual(double_odd(3), 6)

    def test_negative_odd(self):
        self.assertEqual(double_odd(-5), -10)
'''

PASSES_EXAMPLES_ONLY = "```python\ndef double_odd(n):\n    return 6 if n == 3 else n\n```"
RIGHT = "```python\ndef double_odd(n):\n    return 2 * n if n % 2 else n\n```"


def _task() -> CodeTask:
    return CodeTask(PROMPT, "numbers_mod", HIDDEN, "test_numbers_mod.py")


class _Prompts:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.sent.extend(str(m.content) for m in messages)

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None: ...

    def event(self, message: str) -> None: ...


def test_examples_are_the_literal_results_once_each() -> None:
    assert strategy_hidden.examples_of(PROMPT) == [("double_odd(3)", "6"), ("double_odd(4)", "4")]
    source = strategy_hidden.visible_tests("numbers_mod", strategy_hidden.examples_of(PROMPT))
    code = RIGHT.removeprefix("```python\n").removesuffix("```")
    assert run_tests(code, "numbers_mod", source, strategy_hidden.VISIBLE_FILE).success
    wrong = run_tests("def double_odd(n):\n    return n\n", "numbers_mod", source, strategy_hidden.VISIBLE_FILE)
    assert wrong.status == "ok" and wrong.passed == 1 and wrong.tests_run == 2


def test_a_pick_that_passes_the_examples_can_still_fail_the_hidden_tests_which_the_model_never_sees() -> None:
    spy = _Prompts()
    ctx = StrategyContext(FakeListChatModel(responses=[PASSES_EXAMPLES_ONLY]),
                          LoopSettings(max_iterations=3, candidates=1), observer=spy)
    outcome = get_strategy("loop_examples")(_task(), ctx)
    assert outcome.iterations == 1  # the examples pass: the loop stops
    assert not outcome.success and outcome.best is not None and outcome.best.result is not None
    assert outcome.best.result.passed == 1 and outcome.tests_total == 2  # judged by the hidden tests
    assert not any("test_negative_odd" in text or "-10" in text for text in spy.sent)


def test_the_right_program_is_judged_solved() -> None:
    ctx = StrategyContext(FakeListChatModel(responses=[RIGHT]), LoopSettings(max_iterations=3, candidates=1))
    outcome = get_strategy("loop_examples")(_task(), ctx)
    assert outcome.success and outcome.best is not None and "judged by the hidden tests" in outcome.best.notes


def _passing(code: str, iteration: int) -> Attempt:
    result = run_tests(code, "numbers_mod", strategy_hidden.visible_tests(
        "numbers_mod", strategy_hidden.examples_of(PROMPT)), strategy_hidden.VISIBLE_FILE)
    assert result.success
    return Attempt(iteration, "", code, [], result, 0.2)


def test_agreement_picks_the_program_the_others_agree_with() -> None:
    odd_one = _passing("def double_odd(n):\n    return 6 if n == 3 else n\n", 1)  # first, so it would win a tie
    right = _passing("def double_odd(n):\n    return 2 * n if n % 2 else n\n", 2)
    also_right = _passing("def double_odd(n):\n    return n * 2 if n & 1 else n\n", 3)
    examples = [("double_odd(3)", "6"), ("double_odd(4)", "4"), ("double_odd(5)", "10")]
    # On double_odd(5) the two right programs agree (10), the odd one says 5: it is outvoted.
    chosen = strategy_hidden.pick([odd_one, right, also_right], "numbers_mod", examples, SandboxLimits())
    assert chosen is right


def test_without_examples_one_round_is_made_and_its_first_candidate_judged() -> None:
    task = CodeTask("Write double_odd(n): double n when it is odd.", "numbers_mod", HIDDEN, "test_numbers_mod.py")
    ctx = StrategyContext(FakeListChatModel(responses=[RIGHT, PASSES_EXAMPLES_ONLY]),
                          LoopSettings(max_iterations=5, candidates=2))
    outcome = get_strategy("loop_examples")(task, ctx)
    assert outcome.iterations == 1 and outcome.success


def test_prose_examples_count_only_with_literal_arguments_and_comments_are_dropped() -> None:
    prompt = '''```python
def f(s):
    """Count the vowels.
    For example:
    f("abc") == 1
    f(xyz) == 0
    f("ee") ➞ 2
    >>> f("aei")
    3 # three vowels
    """
```'''
    assert strategy_hidden.examples_of(prompt) == [('f("aei")', "3"), ('f("abc")', "1"), ('f("ee")', "2")]


def test_canonical_humaneval_solutions_pass_their_own_docstring_examples() -> None:
    """The conversion on real prompts (every 4th problem): only HumanEval/47's docstring is wrong
    (its example says 15.0, the reference returns 8.0)."""
    from code_generation.evaluation.tasks import humaneval_problems, humaneval_task

    failing, converted = [], 0
    for problem in humaneval_problems()[::4]:
        task = humaneval_task(problem).task
        examples = strategy_hidden.examples_of(task.prompt)
        if not examples:
            continue
        converted += 1
        source = strategy_hidden.visible_tests(task.module_name, examples)
        if not run_tests(problem["prompt"] + problem["canonical_solution"], task.module_name, source,
                         strategy_hidden.VISIBLE_FILE).success:
            failing.append(problem["task_id"])
    assert converted >= 25 and failing in ([], ["HumanEval/47"])
