"""Code under test that games its tests instead of passing them: each attack, in the real sandbox.

Every module in tests/fixtures/hostile/ returns wrong answers and tries to make the tests
pass anyway. None may count as passed; the ones that change the framework or forge the
report must end as ``tampered`` with a reason. Then the loop: a tampering reply is fed back
and never becomes the best attempt, and the output file is never written from it. And honest
test files that use unittest's features in unusual ways must not be called tampering.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.api import ScriptSettings, generate_script
from code_generation.engine.loop import Attempt, CodeTask, LoopSettings, better, run_loop
from code_generation.sandbox.runner import SandboxLimits, SandboxResult, run_tests
from code_generation.sandbox.verdict import defined_tests, unreported
from my_llm.models.usage import CallUsage

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
LIMITS = SandboxLimits(timeout=15)

UNITTEST_FILE = '''
import unittest
from prime_numbers import prime_sum


class TestPrimeSum(unittest.TestCase):
    def test_five(self):
        result = prime_sum(5)
        self.assertEqual(result, 28)

    def test_one(self):
        result = prime_sum(1)
        self.assertEqual(result, 2)
'''

LIST_FILE = '''
from prime_numbers import prime_sum


def test_five():
    assert prime_sum(5) == [28]


def test_one():
    assert prime_sum(1) == [2]
'''

TAMPERED = {"tampered"}
NOT_PASSED = {"ok", "crashed", "tampered"}  # an honest failure is as good as a caught attack

# attack -> (test file, statuses allowed, words the reason must contain when tampered)
ATTACKS: dict[str, tuple[str, set[str], str]] = {
    "assert_equal_noop": (UNITTEST_FILE, TAMPERED, "assertEqual was replaced"),
    "all_asserts_noop": (UNITTEST_FILE, TAMPERED, "was replaced"),
    "run_adds_success": (UNITTEST_FILE, TAMPERED, "TestCase.run was replaced"),
    "add_failure_noop": (UNITTEST_FILE, TAMPERED, "unittest.result.TestResult.add"),
    "fake_report_exit": (UNITTEST_FILE, TAMPERED, "forged report"),
    "fake_report_hang": (UNITTEST_FILE, TAMPERED, "forged report"),
    "collector_patched": (UNITTEST_FILE, TAMPERED, "Collector"),
    "builtins_patched": (UNITTEST_FILE, TAMPERED, "builtins."),
    "sys_modules_swapped": (UNITTEST_FILE, TAMPERED, "sys.modules['unittest'] was replaced"),
    "traceback_patched": (UNITTEST_FILE, TAMPERED, "traceback."),
    "results_fd_written": (UNITTEST_FILE, TAMPERED, "not written by the harness"),
    "results_fd_closed": (UNITTEST_FILE, TAMPERED, "results channel"),
    "results_fd_replaced": (UNITTEST_FILE, TAMPERED, "results channel"),
    "atexit_report": (UNITTEST_FILE, NOT_PASSED, ""),
    "sys_exit_import": (UNITTEST_FILE, NOT_PASSED, ""),
    "thread_repatches": (UNITTEST_FILE, TAMPERED, "assertEqual was replaced"),
    "signal_handler_patches": (UNITTEST_FILE, TAMPERED, "assertEqual was replaced"),
    "gc_dict_patch": (UNITTEST_FILE, TAMPERED, "garbage collector's objects (gc.get_referents)"),
    "rewritten_test_file": (UNITTEST_FILE, TAMPERED, "test_prime_numbers.py"),
    "eq_always_true": (UNITTEST_FILE, TAMPERED, "compares equal to anything"),
    "eq_nested_liar": (LIST_FILE, TAMPERED, "compares equal to anything"),
    "should_stop": (UNITTEST_FILE, NOT_PASSED, ""),
    "trace_function": (UNITTEST_FILE, TAMPERED, "trace"),
    "code_swapped_in_tests": (UNITTEST_FILE, TAMPERED, "the __code__ of TestPrimeSum.test_"),
    "instance_shadow": (UNITTEST_FILE, TAMPERED, "read stack frames (sys._getframe)"),
    "class_shadow": (UNITTEST_FILE, TAMPERED, "read stack frames (sys._getframe)"),  # refused before the guard looks
    "expecting_failure": (UNITTEST_FILE, TAMPERED, "__unittest_expecting_failure__"),
    "loader_emptied": (UNITTEST_FILE, TAMPERED, "loadTestsFromModule was replaced"),
    "tests_hidden": (UNITTEST_FILE, TAMPERED, "garbage collector's objects (gc.get_objects)"),
}


def attack(name: str) -> SandboxResult:
    test_file, _, _ = ATTACKS[name]
    module = (HOSTILE / f"{name}.py").read_text()
    return run_tests(module, "prime_numbers", test_file, "test_prime_numbers.py", limits=LIMITS)


def test_every_fixture_is_an_attack_here() -> None:
    from tests.test_sandbox_audit import AUDIT_ATTACKS, OPEN_HOLES  # the audit hook's attacks

    assert sorted(p.stem for p in HOSTILE.glob("*.py")) == sorted([*ATTACKS, *AUDIT_ATTACKS, *OPEN_HOLES])


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_never_a_pass(name: str) -> None:
    result = attack(name)
    _, allowed, words = ATTACKS[name]
    assert not result.success, result
    assert result.status in allowed, (result.status, result.message, result.stderr[-500:])
    if result.status == "tampered":
        assert words in result.message, result.message
        assert "\n" not in result.message  # one line, for the feedback
        assert result.cases == [] and result.passed == 0 and result.tests_run == 0
    else:
        assert result.passed < 2


# --------------------------------------------------------------------------- honest files stay honest

HONEST_MODULE = '''
def prime_sum(n):
    primes, k = [], 2
    while len(primes) < n:
        if all(k % p for p in primes):
            primes.append(k)
        k += 1
    return sum(primes)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    __hash__ = None


def origin():
    return Point(0, 0)


def read_number():
    return int(input("n? "))


import collections
import dataclasses
import enum

Pair = collections.namedtuple("Pair", "left right")


@dataclasses.dataclass
class Box:
    size: int


class Colour(enum.Enum):
    RED = 1


class Caseless(str):
    def __eq__(self, other):
        return isinstance(other, str) and self.lower() == other.lower()

    __hash__ = str.__hash__


def values():
    return Pair(1, 2), Box(3), Colour.RED, Caseless("Hello"), 0.1 + 0.2
'''

UNUSUAL_BUT_HONEST = '''
import asyncio
import copy
import unittest
from unittest import mock

import prime_numbers
from prime_numbers import Box, Colour, Pair, Point, origin, prime_sum, values

unittest.TestCase.maxDiff = None


def setUpModule():
    prime_numbers.CACHE = {}


class Anything:
    """A matcher of the test file's own: equal to everything, on purpose."""

    def __eq__(self, other):
        return True


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.shared = copy.deepcopy({"n": 5})

    def test_inherited(self):
        self.assertEqual(prime_sum(self.shared["n"]), 28)


class TestPrimes(Base):
    def setUp(self):
        self.addTypeEqualityFunc(Point, self.assert_points)

    def assert_points(self, first, second, msg=None):
        self.assertEqual((first.x, first.y), (second.x, second.y), msg)

    def test_points(self):
        self.assertEqual(origin(), Point(0, 0))
        self.assertNotEqual(origin(), Point(1, 0))
        self.assertTrue(origin() == Point(0, 0))

    def test_matchers(self):
        self.assertEqual({"sum": prime_sum(2), "id": 7}, {"sum": 5, "id": mock.ANY})
        self.assertEqual([prime_sum(1)], [Anything()])

    @mock.patch("builtins.input", return_value="4")
    def test_mocked_input(self, _input):
        self.assertEqual(prime_numbers.read_number(), 4)

    def test_patch_object(self):
        with mock.patch.object(prime_numbers, "prime_sum", return_value=-1):
            self.assertEqual(prime_numbers.prime_sum(3), -1)

    def test_subtests(self):
        for n, total in [(1, 2), (2, 5), (3, 10)]:
            with self.subTest(n=n):
                self.assertEqual(prime_sum(n), total)

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(prime_sum(1), 3)

    def test_values_of_the_module(self):
        pair, box, colour, caseless, tenth = values()
        self.assertEqual(pair, (1, 2))
        self.assertEqual(pair, Pair(1, 2))
        self.assertEqual(box, Box(3))
        self.assertNotEqual(box, Box(4))
        self.assertIs(colour, Colour.RED)
        self.assertEqual(caseless, "HELLO")
        self.assertAlmostEqual(tenth, 0.3)
        self.assertIn(Box(3), [Box(1), Box(3)])
        self.assertCountEqual([pair, box], [Box(3), (1, 2)])


@mock.patch("prime_numbers.read_number", return_value=9)
class TestPatchedClass(unittest.TestCase):
    def test_patched(self, _read):
        self.assertEqual(prime_numbers.read_number(), 9)


class TestAsync(unittest.IsolatedAsyncioTestCase):
    async def test_async(self):
        await asyncio.sleep(0)
        self.assertEqual(prime_sum(3), 10)


def test_plain_function():
    assert prime_sum(4) == 17
    assert [prime_sum(1)] != [3]
    assert values()[3] == "hello"


def test_tmp_path(tmp_path):
    (tmp_path / "out.txt").write_text(str(prime_sum(2)))
    assert (tmp_path / "out.txt").read_text() == "5"
'''


def test_unusual_but_honest_tests_are_not_tampering() -> None:
    result = run_tests(HONEST_MODULE, "prime_numbers", UNUSUAL_BUT_HONEST, "test_prime_numbers.py",
                       limits=SandboxLimits(timeout=30))
    assert result.status == "ok", (result.message, result.stderr[-1500:])
    assert result.success, [(c.name, c.message) for c in result.cases if c.outcome != "passed"]
    names = {c.name for c in result.cases}
    assert {"Base.test_inherited", "TestPrimes.test_inherited", "TestAsync.test_async", "test_plain_function",
            "TestPrimes.test_expected_failure"} <= names


def test_honest_failures_are_failures_not_tampering() -> None:
    result = run_tests("def prime_sum(n):\n    return 0\n", "prime_numbers", UNITTEST_FILE, "test_prime_numbers.py",
                       limits=LIMITS)
    assert result.status == "ok" and (result.tests_run, result.failed) == (2, 2)
    assert any(note.startswith("verdict:") for note in result.isolation)


def test_defined_tests_reads_the_file_without_importing_it() -> None:
    source = textwrap.dedent('''
        import unittest, pytest

        class Base(unittest.TestCase):
            def test_a(self): pass

        class TestSub(Base):
            def test_b(self): pass
            @property
            def test_not(self): pass

        class TestPlain:
            def test_c(self): pass
            @staticmethod
            def test_static(): pass

        class Helper:
            def test_never_collected(self): pass

        @pytest.mark.parametrize("x", [1, 2])
        def test_d(x): pass

        @pytest.fixture
        def test_fixture(): pass

        def test_e(): pass
        test_e = None
    ''')
    assert defined_tests(source) == ["Base.test_a", "TestSub.test_b", "TestPlain.test_c", "test_d"]
    assert defined_tests("def load_tests(*a): pass\ndef test_x(): pass\n") is None
    assert unreported(["A.test_a", "B.test_b", "test_d"], ["A.test_a", "setUpClass (B)", "test_d[1]"]) == []
    assert unreported(["A.test_a", "test_d"], ["A.test_a"]) == ["test_d"]


# --------------------------------------------------------------------------- the loop

TESTS = '''import unittest

from prime_numbers import prime_sum


class TestPrimeNumberFunctions(unittest.TestCase):
    def test_sum_of_first_10_prime_numbers(self):
        self.assertEqual(prime_sum(10), 129)

    def test_zero(self):
        self.assertEqual(prime_sum(0), 0)
'''

TAMPERING = '''```python
import unittest

unittest.TestCase.assertEqual = lambda *args, **kwargs: None


def prime_sum(n):
    return 0
```'''

RIGHT = '''```python
def prime_sum(n):
    primes, candidate = [], 2
    while len(primes) < n:
        if all(candidate % p for p in primes):
            primes.append(candidate)
        candidate += 1
    return sum(primes)
```'''


class Spy:
    def __init__(self) -> None:
        self.prompts: list[list[BaseMessage]] = []
        self.attempts: list[Attempt] = []

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.prompts.append(list(messages))

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        self.attempts.append(attempt)

    def event(self, message: str) -> None:
        pass


def task() -> CodeTask:
    return CodeTask("Compute the sum of the first N prime numbers", "prime_numbers", TESTS, "test_prime_numbers.py")


def test_loop_feeds_back_tampering_and_goes_on() -> None:
    spy = Spy()
    settings = LoopSettings(max_iterations=3, limits=SandboxLimits(timeout=20))
    outcome = run_loop(task(), FakeListChatModel(responses=[TAMPERING, RIGHT]), settings, observer=spy)
    assert outcome.success and outcome.iterations == 2
    first, second = spy.attempts[0], spy.attempts[1]
    assert first.result is not None and first.result.status == "tampered" and first.tampered
    assert outcome.best is second and second.passed == 2
    feedback = str(spy.prompts[1][-1].content)
    assert "Do not modify the testing framework" in feedback
    assert "assertEqual" in feedback and "rejected" in feedback


def test_tampering_never_becomes_the_best() -> None:
    spy = Spy()
    settings = LoopSettings(max_iterations=1, limits=SandboxLimits(timeout=20))
    outcome = run_loop(task(), FakeListChatModel(responses=[TAMPERING]), settings, observer=spy)
    assert not outcome.success and outcome.best is None
    tampered = spy.attempts[0]
    honest_failure = Attempt(1, "", "def prime_sum(n):\n    return 0\n", [], SandboxResult(status="import_error"), 0.2)
    assert better(honest_failure, tampered) and not better(tampered, None) and not better(tampered, honest_failure)


def test_tampering_never_writes_the_output_file(tmp_path: Path) -> None:
    tests = tmp_path / "primes" / "test_prime_numbers.py"
    tests.parent.mkdir(parents=True)
    tests.write_text(TESTS)
    settings = ScriptSettings(prompt="Compute the sum of the first N prime numbers",
                              output_file=tmp_path / "primes" / "prime_numbers.py", runs_base=tmp_path / "runs",
                              max_iterations=1, memory=False)
    result = generate_script(settings, chat=FakeListChatModel(responses=[TAMPERING]))
    assert not result.success
    assert not (tmp_path / "primes" / "prime_numbers.py").exists()
    assert not (Path(result.run_dir) / "best.py").exists()
