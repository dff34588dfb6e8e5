"""The audit hook (code_generation/sandbox/child/_sandbox_audit.py) in the real sandbox.

The README's sandbox section listed what the verdict could not stop: edits through ctypes,
secrets dug out of memory, a patch flipped between two checks. Each attack here is a module in
tests/fixtures/hostile/ that returns wrong answers and tries to pass anyway, most of them by
forging the whole signed report with the secrets they find (the canaries' random values and the
exit code of a finished run). Closed attacks must never pass, and the hook's refusals must come
back as ``tampered`` with a reason that tells the model what not to do. Open ones are strict
xfails: each is a hole docs/sandbox-holes.md explains, and closing it makes its test fail until
the document says so. Ordinary code (namedtuple, typing, logging, tracebacks, asyncio, threads,
numpy, pydantic ...) must still pass.
"""

from __future__ import annotations

import struct
import sys
import textwrap
from pathlib import Path

import pytest

from code_generation.languages.python.feedback import tampered_note
from code_generation.sandbox import runner
from code_generation.sandbox.runner import SandboxLimits, SandboxResult, run_doctests, run_tests
from tests.test_sandbox_tamper import UNITTEST_FILE

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
LIMITS = SandboxLimits(timeout=20)

MATH_FILE = '''
import math
import unittest
from prime_numbers import prime_sum


class TestPrimeSum(unittest.TestCase):
    def test_five(self):
        self.assertTrue(math.isclose(prime_sum(5), 28))

    def test_one(self):
        self.assertTrue(math.isclose(prime_sum(1), 2))
'''
MATH_AFTER_FILE = MATH_FILE.replace("import math\n", "").replace(  # math imported after the module
    "from prime_numbers import prime_sum\n", "from prime_numbers import prime_sum\nimport math\n")

TAMPERED = {"tampered"}
FAILED = {"ok"}  # the attack found nothing: the tests ran and failed

# attack -> (test file, statuses allowed, words the reason must contain when tampered)
AUDIT_ATTACKS: dict[str, tuple[str, set[str], str]] = {
    "frame_getframe_forge": (UNITTEST_FILE, TAMPERED, "read stack frames (sys._getframe)"),
    "inspect_stack_forge": (UNITTEST_FILE, TAMPERED, "read stack frames (sys._getframe)"),
    "traceback_frame_forge": (UNITTEST_FILE, TAMPERED, "a traceback's tb_frame"),
    "generator_frame_forge": (UNITTEST_FILE, TAMPERED, "a generator's gi_frame"),
    "settrace_frame_forge": (UNITTEST_FILE, TAMPERED, "trace or profile function (sys.settrace)"),
    "gc_secret_forge": (UNITTEST_FILE, TAMPERED, "garbage collector's objects (gc.get_objects)"),
    "ctypes_frame_forge": (UNITTEST_FILE, TAMPERED, "it used ctypes (ctypes.dlsym)"),
    "ctypes_bytecode_patch": (UNITTEST_FILE, TAMPERED, "it used ctypes (ctypes.string_at)"),
    "proc_mem_secret": (UNITTEST_FILE, TAMPERED, "process's memory (/proc/self/mem)"),
    "audit_hook_spy": (UNITTEST_FILE, TAMPERED, "audit hook (sys.addaudithook)"),
    "code_swap_flip": (UNITTEST_FILE, TAMPERED, "the __code__ of TestCase._baseAssertEqual"),
    "del_flip_between_checks": (UNITTEST_FILE, TAMPERED, "assertEqual was replaced while a test called assertEqual"),
    "refusal_report_suppressed": (UNITTEST_FILE, TAMPERED, "read stack frames"),
    "finalizer_forges_done": (UNITTEST_FILE, {"ok", "tampered"}, "forged report"),  # if the collector gets to it
    "reload_harness": (UNITTEST_FILE, TAMPERED, "_sandbox_guard"),
    "signal_frame_forge": (UNITTEST_FILE, FAILED, ""),  # the handler is given None for the frame
    "finalizer_planted_getframe": (UNITTEST_FILE, FAILED, ""),  # refused, though the test's frame was running
    "finalizer_planted_code_swap": (UNITTEST_FILE, FAILED, ""),  # the same, for a function's __code__
    "ast_compile_fake_library": (UNITTEST_FILE, TAMPERED, "claims to come from another file"),
    "nonces_by_attributes": (UNITTEST_FILE, FAILED, ""),  # the guard holds no canary values any more
    "guard_disarmed": (UNITTEST_FILE, FAILED, ""),  # the test file reaches the prober, not the snapshots
}

# Attacks that still pass: open holes, each explained in docs/sandbox-holes.md.
OPEN_HOLES: dict[str, tuple[str, str]] = {
    "ctypes_union_secret": (UNITTEST_FILE, "ctypes memory access needs no audited call (a Union over a pointer)"),
    "prober_disarmed_flip": (UNITTEST_FILE, "the check around each assertion is reachable from the test file"),
    "stdlib_function_patched": (MATH_FILE, "library functions the tests call are not in the snapshot"),
    "sys_modules_injected": (MATH_AFTER_FILE, "a module not loaded before the tests can be planted in sys.modules"),
    "eq_lies_once": (UNITTEST_FILE, "a value that lies only to the first comparison passes the probe after it"),
}


def attack(name: str, test_file: str) -> SandboxResult:
    module = (HOSTILE / f"{name}.py").read_text()
    return run_tests(module, "prime_numbers", test_file, "test_prime_numbers.py", limits=LIMITS)


@pytest.mark.parametrize("name", sorted(AUDIT_ATTACKS))
def test_attack_is_refused_or_fails(name: str) -> None:
    test_file, allowed, words = AUDIT_ATTACKS[name]
    result = attack(name, test_file)
    assert not result.success, result
    assert result.status in allowed, (result.status, result.message, result.stderr[-500:])
    if result.status == "tampered":
        assert words in result.message, result.message
        assert "\n" not in result.message
        assert result.cases == [] and result.passed == 0
    else:
        assert result.passed == 0, result.cases


CPYTHON_311_64 = sys.version_info[:2] == (3, 11) and struct.calcsize("P") == 8


@pytest.mark.parametrize("name", sorted(OPEN_HOLES))
def test_open_hole_still_passes(name: str) -> None:
    """Strict xfail: when one of these stops passing, docs/sandbox-holes.md must say it is closed."""
    test_file, why = OPEN_HOLES[name]
    if name == "ctypes_union_secret" and not CPYTHON_311_64:
        pytest.skip("the attack reads CPython 3.11's 64-bit object layout")
    result = attack(name, test_file)
    if result.success:
        pytest.xfail(f"open: {why}")
    pytest.fail(f"{name} no longer passes ({result.status}: {result.message}): update docs/sandbox-holes.md")


def test_memory_is_refused_without_the_privilege_drop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root there is no drop to nobody, and the kernel lets a process read /proc/self/mem."""
    monkeypatch.setattr(runner, "drop_target", lambda: None)
    result = attack("proc_mem_secret", UNITTEST_FILE)
    assert result.status == "tampered" and "/proc/self/mem" in result.message, result.message


def test_refusal_is_feedback_the_model_can_act_on() -> None:
    result = attack("inspect_stack_forge", UNITTEST_FILE)
    note = tampered_note(result)
    assert note.startswith("Do not modify the testing framework")
    assert "do not inspect the tests or the harness" in note
    assert "because it read stack frames (sys._getframe)" in note
    assert "compute the result from the function's arguments" in note
    assert "at prime_numbers.py, line" in note


# --------------------------------------------------------------------------- ordinary code still passes

ORDINARY_MODULE = '''
import ast
import asyncio
import collections
import copy
import ctypes
import dataclasses
import enum
import functools
import inspect
import io
import logging
import pickle
import signal
import threading
import traceback
import warnings
from typing import NamedTuple, TypedDict, TypeVar

T = TypeVar("T")
Pair = collections.namedtuple("Pair", "left right")
Colour = enum.Enum("Colour", "RED GREEN")
log = logging.getLogger(__name__)


class Point(NamedTuple):
    x: int
    y: int


Movie = TypedDict("Movie", {"title": str})


@dataclasses.dataclass(frozen=True)
class Box:
    size: int = 1


@functools.lru_cache(maxsize=None)
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def safe_divide(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        text = traceback.format_exc()
        traceback.print_exc(file=io.StringIO())
        traceback.print_stack(file=io.StringIO())
        log.warning("division by zero: %s", text.splitlines()[-1], stack_info=True)
        log.exception("with the traceback")
        warnings.warn("division by zero")
        return None


async def _double(x):
    await asyncio.sleep(0)
    return 2 * x


def double_async(x):
    return asyncio.run(_double(x))


def in_thread(x):
    out = []
    worker = threading.Thread(target=lambda: out.append(fib(x)))
    worker.start()
    worker.join()
    return out[0]


def with_alarm_handler():
    old = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    signal.signal(signal.SIGALRM, old)
    return True


def clone(value):
    return pickle.loads(pickle.dumps(copy.deepcopy(value)))


def described():
    return str(inspect.signature(fib.__wrapped__)), inspect.getsource(Box).splitlines()[1]


def generator_state():
    return inspect.getgeneratorstate(i for i in range(3))


def int_size():
    return ctypes.sizeof(ctypes.c_int)


def evaluate(expression):
    tree = ast.parse(expression, mode="eval")
    return eval(compile(tree, "<expression>", "eval"), {}) + eval(expression, {}) - eval(expression, {})
'''

ORDINARY_TESTS = '''
import inspect
import unittest
from unittest import mock

import pytest

import helper
from helper import *


class TestOrdinary(unittest.TestCase):
    def test_everything(self):
        self.assertEqual(Pair(1, 2).left, 1)
        self.assertEqual(Colour.RED.value, 1)
        self.assertEqual(Point(1, 2).y, 2)
        self.assertEqual(fib(20), 6765)
        self.assertEqual(described(), ("(n: int) -> int", "class Box:"))
        self.assertIsNone(safe_divide(1, 0))
        self.assertEqual(double_async(4), 8)
        self.assertEqual(in_thread(10), 55)
        self.assertTrue(with_alarm_handler())
        self.assertEqual(generator_state(), "GEN_CREATED")
        self.assertEqual(int_size(), 4)
        self.assertEqual(clone({"a": [Box(2)]}), {"a": [Box(2)]})
        self.assertEqual(evaluate("1 + 1"), 2)
        with self.assertRaises(ZeroDivisionError):
            1 / 0

    def test_mocks(self):
        fake = mock.create_autospec(helper.evaluate, return_value=7)
        self.assertEqual(fake("1"), 7)
        with mock.patch.object(helper, "fib", return_value=-1):
            self.assertEqual(helper.fib(3), -1)

    def test_frames_are_refused_to_the_test_file_too(self):
        self.assertIn("test_frames", [f.function for f in inspect.stack()])

    def test_a_failure_is_a_failure(self):
        self.assertEqual(fib(5), 6)


def test_pytest_style():
    with pytest.raises(ZeroDivisionError):
        1 / 0
    assert fib(6) == 8
'''


def test_ordinary_code_still_passes() -> None:
    """And the test file is refused frames too, which fails its test but does not blame the module.

    Trusting the test file's frames would lend that trust to a C-level callable the module leaves
    to run while one of them is on top (finalizer_planted_getframe).
    """
    result = run_tests(ORDINARY_MODULE, "helper", ORDINARY_TESTS, "test_helper.py", limits=SandboxLimits(timeout=60))
    assert result.status == "ok", (result.message, result.stderr[-2000:])
    outcomes = {c.name: (c.outcome, c.message) for c in result.cases}
    assert outcomes["TestOrdinary.test_a_failure_is_a_failure"][0] == "failed"
    assert "5 != 6" in outcomes["TestOrdinary.test_a_failure_is_a_failure"][1]  # its traceback still shown
    outcome, message = outcomes["TestOrdinary.test_frames_are_refused_to_the_test_file_too"]
    assert outcome == "error" and "the sandbox refused the test file this: it read stack frames" in message
    passing = {name for name, (outcome, _) in outcomes.items() if outcome == "passed"}
    assert passing == {"TestOrdinary.test_everything", "TestOrdinary.test_mocks", "test_pytest_style"}, outcomes


def test_libraries_that_read_frames_at_import_still_work() -> None:
    """numpy loads a library with ctypes and pydantic reads frames (typing_extensions, its models)."""
    pytest.importorskip("numpy")
    pytest.importorskip("pydantic")
    module = textwrap.dedent('''
        import numpy as np
        from pydantic import BaseModel


        class Item(BaseModel):
            name: str
            price: float = 0.0


        def total(items):
            return float(np.sum([item.price for item in items]))
    ''')
    tests = textwrap.dedent('''
        import unittest
        from shop import Item, total


        class TestShop(unittest.TestCase):
            def test_total(self):
                self.assertEqual(total([Item(name="a", price=1.5), Item(name="b", price=2)]), 3.5)
    ''')
    result = run_tests(module, "shop", tests, "test_shop.py", limits=SandboxLimits(timeout=60))
    assert result.success, (result.status, result.message, result.stderr[-2000:])


def test_doctests_keep_working_under_the_hook() -> None:
    module = textwrap.dedent('''
        import collections
        import logging

        Pair = collections.namedtuple("Pair", "a b")


        def swap(pair):
            """Swap a pair.

            >>> swap(Pair(1, 2))
            Pair(a=2, b=1)
            """
            logging.getLogger(__name__).debug("swapping")
            return Pair(pair.b, pair.a)
    ''')
    result = run_doctests(module, "pairs", limits=LIMITS)
    assert result.success, (result.status, result.message)


def test_doctests_are_refused_frames_too() -> None:
    module = textwrap.dedent('''
        import sys


        def caller():
            """The caller's frame.

            >>> caller() is None
            False
            """
            return sys._getframe(1)
    ''')
    result = run_doctests(module, "frames", limits=LIMITS)
    assert result.status == "tampered" and "read stack frames" in result.message, result.message


def test_a_doctest_runner_in_the_test_file_may_reset_the_tracer() -> None:
    """@pseudo_function's test file runs doctest's DocTestRunner, which sets the tracer to none and
    back: that is the library's own use, not the test file tracing (found by the end-to-end test)."""
    from code_generation.languages.python import prompts
    from code_generation.sandbox.runner import run_tests

    tests = prompts.DOCTEST_FILE.format(module_name="pseudo_double", name="double", examples=">>> double(4)\n8\n")
    right = run_tests("def double(x):\n    return 2 * x\n", "pseudo_double", tests, "test_pseudo_double.py")
    wrong = run_tests("def double(x):\n    return x\n", "pseudo_double", tests, "test_pseudo_double.py")
    assert (right.status, right.passed, right.tests_run) == ("ok", 1, 1), right.cases
    assert (wrong.status, wrong.passed, wrong.tests_run) == ("ok", 0, 1), wrong.cases
