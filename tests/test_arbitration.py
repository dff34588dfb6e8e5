"""When code and generated tests keep disagreeing, the model is asked which one is wrong.

Fake models stand in for the LLM; the sandbox, the file system and the run folder are real.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.api import generate_script
from code_generation.languages.python.testgen import arbitrate
from code_generation.sandbox.runner import SandboxLimits, run_tests
from my_llm.models.usage import UsageTracker
from tests.loop_fixtures import RIGHT, TESTS, Spy
from tests.test_create_script import settings, write_tests

# The model that wrote the tests got one value wrong: the first 10 primes sum to 129, not 130.
WRONG_TESTS = TESTS.replace("prime_sum(10), 129)", "prime_sum(10), 130)")
FIXED_METHOD = '''```python
    def test_sum_of_first_10_prime_numbers(self):
        # 2+3+5+7+11+13+17+19+23+29
        self.assertEqual(prime_sum(10), 129)
```'''
JUDGE_TEST = "VERDICT: TEST\nThe first ten primes sum to 129.\n" + FIXED_METHOD
JUDGE_CODE = "VERDICT: CODE\nThe module is wrong."
# A "correction" that accepts the empty stub (it returns None): it would make the test worthless.
WEAKENED = "VERDICT: TEST\n```python\ndef test_sum_of_first_10_prime_numbers(self):\n    self.assertIsNone(prime_sum(10))\n```"
CODE = RIGHT.split("```python\n")[1].split("```")[0]


def _ask(reply: str) -> tuple[str | None, Spy]:
    spy = Spy()
    result = run_tests(CODE, "prime_numbers", WRONG_TESTS, "test_prime_numbers.py", limits=SandboxLimits(timeout=20))
    assert [c.name for c in result.cases if c.outcome == "failed"] == [
        "TestPrimeNumberFunctions.test_sum_of_first_10_prime_numbers"
    ]
    revised = arbitrate("Compute the sum of the first N prime numbers", "prime_numbers", "test_prime_numbers.py",
                        WRONG_TESTS, CODE, result, FakeListChatModel(responses=[reply]), UsageTracker(), spy)
    return revised, spy


def test_a_wrong_test_is_replaced_and_nothing_else_changes() -> None:
    revised, spy = _ask(JUDGE_TEST)
    assert revised is not None
    assert "prime_sum(10), 129)" in revised and "130" not in revised
    assert revised.replace("        # 2+3+5+7+11+13+17+19+23+29\n", "") == TESTS  # only that method changed
    judged = spy.prompts[0][-1].content
    assert "self.assertEqual(prime_sum(10), 130)" in judged and "AssertionError" in judged


def test_the_code_judged_wrong_leaves_the_tests_alone() -> None:
    revised, spy = _ask(JUDGE_CODE)
    assert revised is None and any("the code" in e for e in spy.events)


def test_a_correction_that_passes_on_empty_stubs_is_refused() -> None:
    revised, spy = _ask(WEAKENED)
    assert revised is None
    assert any("passes even when the functions do nothing" in e for e in spy.events)


def test_generated_tests_are_corrected_in_the_run_that_wrote_them(tmp_path: Path) -> None:
    tests = "```python\n" + WRONG_TESTS + "```"
    replies = [tests, RIGHT, RIGHT, JUDGE_TEST]  # the same failure twice, then the judge
    result = generate_script(settings(tmp_path, yes=True), chat=FakeListChatModel(responses=replies))
    assert result.success and result.tests_corrected == 1 and result.test_file_generated
    test_file = Path(result.test_file)
    assert "prime_sum(10), 129)" in test_file.read_text()
    run = Path(result.run_dir)
    assert "130" in (run / "generated_test_prime_numbers.py").read_text()
    assert "129" in (run / "corrected_1_test_prime_numbers.py").read_text()
    assert [c["label"] for c in result.calls] == ["tests-1", "code-1", "code-2", "judge"]


def test_a_users_test_file_is_never_changed(tmp_path: Path) -> None:
    path = write_tests(tmp_path, WRONG_TESTS)
    result = generate_script(settings(tmp_path), chat=FakeListChatModel(responses=[RIGHT, JUDGE_TEST]))
    assert not result.success and result.tests_corrected == 0
    assert path.read_text() == WRONG_TESTS
    assert "judge" not in [c["label"] for c in result.calls]
