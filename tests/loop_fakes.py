"""Fakes for unit tests of the loop's phases and tactics: a sandbox that runs checks in-process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.loop_state import LoopState
from code_generation.engine.tactics import make_tactics, tactic_names
from code_generation.sandbox.runner import CaseResult, SandboxResult
from code_generation.types import Attempt, CodeTask, LoopSettings
from my_llm.models.model_tiers import ModelProfile
from my_llm.models.usage import CallUsage, UsageTracker

Check = Callable[[dict[str, Any]], bool]

TESTS = '''import unittest

from shapes import area, perimeter


class TestShapes(unittest.TestCase):
    def test_area(self):
        self.assertEqual(area(2), 4)

    def test_perimeter(self):
        self.assertEqual(perimeter(2), 8)
'''
CHECKS: dict[str, Check] = {
    "TestShapes.test_area": lambda ns: ns["area"](2) == 4,
    "TestShapes.test_perimeter": lambda ns: ns["perimeter"](2) == 8,
}


def task() -> CodeTask:
    return CodeTask("Write area(side) and perimeter(side) of a square.", "shapes", TESTS, "test_shapes.py")


def sandbox(checks: dict[str, Check] = CHECKS) -> Callable[..., SandboxResult]:
    """Runs the code in-process and each check as one test (the tests' file is not read)."""

    def run(code: str, module: str, test_source: str, test_filename: str, limits: object = None) -> SandboxResult:
        namespace: dict[str, Any] = {}
        try:
            exec(compile(code, f"{module}.py", "exec"), namespace)
        except Exception as exc:
            return SandboxResult("import_error", message=f"{type(exc).__name__}: {exc}")
        cases = []
        for name, check in checks.items():
            try:
                ok = bool(check(namespace))
            except Exception:
                ok = False
            message = "" if ok else f'Traceback:\n  File "{test_filename}", line 1\nAssertionError: wrong'
            cases.append(CaseResult(name, "passed" if ok else "failed", message))
        passed = sum(c.outcome == "passed" for c in cases)
        return SandboxResult("ok", tests_run=len(cases), passed=passed, failed=len(cases) - passed, cases=cases)

    return run


class Spy:
    """An observer that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[BaseMessage]]] = []
        self.attempts: list[Attempt] = []
        self.events: list[str] = []

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.calls.append((label, list(messages)))

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        self.attempts.append(attempt)

    def event(self, message: str) -> None:
        self.events.append(message)


def state(
    settings: LoopSettings | None = None, responses: Sequence[str] = ("nothing",), checks: dict[str, Check] = CHECKS,
    profile: ModelProfile | None = None,
) -> LoopState:
    """A fresh run's state with the default tactics (or those `settings` names)."""
    settings = settings or LoopSettings()
    chat = FakeListChatModel(responses=list(responses))
    tactics = make_tactics(tactic_names(settings, profile or ModelProfile()))
    return LoopState(task(), settings, chat, tactics, Spy(), UsageTracker(), sandbox(checks))


def attempt(st: LoopState, code: str | None, candidate: int = 0, iteration: int = 1) -> Attempt:
    """An attempt at `code`, tested in the state's sandbox."""
    result = st.test(code) if code is not None else None
    return Attempt(iteration, f"```python\n{code}\n```" if code else "", code, [], result, 0.2, None, candidate)


AREA = "def area(side):\n    return side * side\n"
PERIMETER = "def perimeter(side):\n    return 4 * side\n"
BAD_AREA = "def area(side):\n    return side\n"
BAD_PERIMETER = "def perimeter(side):\n    return side\n"
