"""The engine: generate, extract, test in the sandbox, feed back, until the tests pass.

It knows nothing about argparse, files on disk or which model it talks to: the model, the
sandbox and an observer (which records and displays) are handed in. That keeps it testable with
LangChain's fake chat models and callable from Python.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation import feedback, prompts
from code_generation.extract import extract_module
from code_generation.runner import SandboxLimits, SandboxResult, run_tests
from code_generation.testspec import TestSpec, analyse_test_source
from my_llm.errors import ModelError
from my_llm.models import explain_error
from my_llm.usage import CallUsage, UsageTracker

Sandbox = Callable[..., SandboxResult]


@dataclass
class CodeTask:
    """What to build: the user's request and the tests that judge it."""

    prompt: str
    module_name: str
    test_source: str
    test_filename: str


@dataclass
class LoopSettings:
    """The budget and knobs of one run."""

    max_iterations: int = 5
    temperature: float = 0.2
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    feedback_budget: int = 3500
    escalate_temperature: float = 0.4  # added when the model repeats an attempt verbatim
    restart_after: int = 2  # attempts in a row without progress before a fresh start from the request
    stop_at_fence: bool = True  # stop generating at the end of the first code block


@dataclass
class Attempt:
    """One generation and its test run (no run when the reply held no usable code)."""

    iteration: int
    reply: str
    code: str | None
    notes: list[str]
    result: SandboxResult | None
    temperature: float
    usage: CallUsage | None = None

    @property
    def passed(self) -> int:
        return self.result.passed if self.result else 0

    @property
    def success(self) -> bool:
        return bool(self.result and self.result.success)

    def summary(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "has_code": self.code is not None,
            "notes": self.notes,
            "status": self.result.status if self.result else "no_code",
            "tests_run": self.result.tests_run if self.result else 0,
            "passed": self.passed,
            "success": self.success,
            "temperature": self.temperature,
        }


@dataclass
class LoopOutcome:
    """The result of a run; `best` is the attempt with the most tests passing."""

    success: bool
    best: Attempt | None
    attempts: list[Attempt]
    usage: UsageTracker
    seconds: float
    stop_reason: str
    tests_total: int

    @property
    def iterations(self) -> int:
        return len(self.attempts)


class Observer(Protocol):
    """Hooks the CLI uses to record the run folder, log to memory and show progress."""

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None: ...

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None: ...

    def event(self, message: str) -> None: ...


class _Silent:
    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        pass

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        pass

    def event(self, message: str) -> None:
        pass


def call_model(
    chat: BaseChatModel,
    messages: Sequence[BaseMessage],
    label: str,
    usage: UsageTracker,
    observer: Observer,
    **params: Any,
) -> AIMessage:
    """One model call, measured and reported; failures become one-line `ModelError`s."""
    started = time.monotonic()
    try:
        reply = chat.invoke(list(messages), **params)
    except ModelError:
        raise
    except Exception as exc:  # any provider error: explain it if we can
        explained = explain_error(exc)
        if explained is None:
            raise
        raise ModelError(explained) from exc
    if not isinstance(reply, AIMessage):
        reply = AIMessage(content=str(reply.content))
    call = usage.record(label, messages, reply, time.monotonic() - started)
    observer.model_call(label, messages, reply, call)
    return reply


def better(candidate: Attempt, best: Attempt | None) -> bool:
    """Strictly more tests passing; on a tie the earlier attempt stays, so a later one never regresses it."""
    if candidate.result is None:
        return False
    if best is None or best.result is None:
        return True
    if candidate.success != best.success:
        return candidate.success
    return candidate.passed > best.passed


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def run_loop(
    task: CodeTask,
    chat: BaseChatModel,
    settings: LoopSettings | None = None,
    *,
    observer: Observer | None = None,
    guard: Callable[[], None] | None = None,
    sandbox: Sandbox = run_tests,
    usage: UsageTracker | None = None,
) -> LoopOutcome:
    """Iterate until every test passes or the iteration budget is spent.

    `guard` runs before each iteration (the CLI checks the test file's hash there).
    """
    settings = settings or LoopSettings()
    observer = observer or _Silent()
    usage = usage or UsageTracker()
    spec: TestSpec = analyse_test_source(task.test_source, task.module_name, task.test_filename)
    opening = prompts.code_messages(
        task.prompt, task.module_name, task.test_filename, task.test_source, spec.imported_names
    )
    started = time.monotonic()
    attempts: list[Attempt] = []
    best: Attempt | None = None
    seen: set[str] = set()
    messages: list[BaseMessage] = opening
    temperature = settings.temperature
    stop_reason = "budget"
    stalls = 0  # attempts in a row that did not beat the best
    # Prose after the code block costs time and is thrown away; an opening fence is "```python".
    stop = {"stop": ["\n```\n"]} if settings.stop_at_fence else {}

    for iteration in range(1, settings.max_iterations + 1):
        if guard:
            guard()
        observer.event(f"iteration {iteration}/{settings.max_iterations}: asking the model")
        params = dict(stop) if temperature == settings.temperature else {**stop, "temperature": temperature}
        reply = call_model(chat, messages, f"code-{iteration}", usage, observer, **params)
        text = reply.text if not isinstance(reply.content, str) else reply.content
        extraction = extract_module(text, task.module_name, spec.imported_names, spec.test_names)
        attempt = Attempt(iteration, text, extraction.code, extraction.notes, None, temperature, usage.calls[-1])
        attempts.append(attempt)

        if extraction.code is None:
            observer.attempt(attempt, best)
            problem = extraction.notes[-1] if extraction.notes else "the reply contained no Python code"
            messages = prompts.no_code_messages(opening, problem, task.module_name, spec.imported_names)
            # The same request at the same temperature would likely get the same reply.
            temperature = min(1.0, temperature + settings.escalate_temperature)
            continue

        digest = _digest(extraction.code)
        repeated = digest in seen
        seen.add(digest)
        temperature = (
            min(1.0, temperature + settings.escalate_temperature) if repeated else settings.temperature
        )
        attempt.result = sandbox(
            extraction.code, task.module_name, task.test_source, task.test_filename, limits=settings.limits
        )
        if better(attempt, best):
            best, stalls = attempt, 0
        else:
            stalls += 1
        observer.attempt(attempt, best)
        if attempt.success:
            stop_reason = "passed"
            break
        if stalls >= settings.restart_after:
            # Repairs are going nowhere: a small model does better with a fresh, hotter sample
            # of the original request than with more feedback on the same wrong idea.
            observer.event(f"no progress in {stalls} attempts: asking afresh")
            messages, stalls = opening, 0
            temperature = min(1.0, settings.temperature + settings.escalate_temperature)
            continue
        # Feed back the latest attempt unless it fell behind the best: then the best one's failures.
        shown = attempt if best is attempt or best is None or attempt.passed >= best.passed else best
        assert shown.code is not None and shown.result is not None
        details = feedback.details(shown.result, settings.feedback_budget)
        if note := feedback.stub_note(shown.code):
            details = f"{note}\n\n{details}"
        messages = prompts.feedback_messages(
            opening, task.module_name, shown.code, feedback.verdict(shown.result), details
        )

    total = best.result.tests_run if best and best.result and best.result.tests_run else spec.test_count
    return LoopOutcome(
        success=bool(best and best.success),
        best=best,
        attempts=attempts,
        usage=usage,
        seconds=time.monotonic() - started,
        stop_reason=stop_reason,
        tests_total=total,
    )
