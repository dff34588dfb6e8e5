"""The engine's vocabulary: what a run is asked to build, its settings, its attempts and outcome,
and the hooks it calls out through. Shared by the engine, the tactics, the strategies and the
command line, so none of them needs to import the engine to talk about a run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from langchain_core.messages import AIMessage, BaseMessage

from code_generation.sandbox.runner import SandboxLimits, SandboxResult
from my_llm.models.usage import CallUsage, UsageTracker

Sandbox = Callable[..., SandboxResult]
# Installs a missing package (by import name) for the tests; returns the interpreter to use, or None.
Installer = Callable[[str], str | None]
# When the same tests keep failing: the corrected test file if a (generated) test was wrong, or None.
Arbiter = Callable[["CodeTask", "Attempt"], str | None]

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


@dataclass(frozen=True)
class Finding:
    line: int
    message: str
    critical: bool
    tool: str = "pyflakes"

    def __str__(self) -> str:
        return f"line {self.line} ({self.tool}): {self.message}"


def critical(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.critical]


@dataclass
class CodeTask:
    """What to build: the user's request and the tests that judge it."""

    prompt: str
    module_name: str
    test_source: str
    test_filename: str
    skeleton: str | None = None  # the stub to complete; built from the tests when None
    language: str = "python"  # the target language (code_generation/languages): "python" or "rust"


@dataclass
class LoopSettings:
    """The budget and knobs of one run."""

    max_iterations: int = 5
    # Seconds the search may take: a round starts only while the rounds so far, plus one more of
    # their average length, fit in it (the first always runs). None: rounds alone limit the run.
    time_budget: float | None = None
    temperature: float = 0.2
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    feedback_budget: int = 3500
    escalate_temperature: float = 0.4  # added when the model repeats an attempt verbatim
    # Fresh samples of the opening request (a round's extra candidates, restarts): the ceiling's
    # hot setting (docs/benchmarks.md): it finds programs the cool setting never draws.
    fresh_temperature: float = 1.0
    restart_after: int = 2  # attempts in a row without progress before a fresh start from the request
    # Rounds in a row in which the best attempt did not get better before the run stops as going
    # nowhere (stop reason "no progress"). None: never; benchmarks/stop_rules.py replays the choice.
    give_up_after: int | None = None
    stop_at_fence: bool = True  # stop generating where the code ends (STOP_SEQUENCES)
    candidates: int = 1  # programs sampled per round, at once on the model's parallel slots
    static_checks: bool = False  # pyflakes before the tests; a critical finding skips the test run
    typecheck: bool = False  # mypy as well (implies static_checks); its findings are advice
    # A request holding its own code (a signature and docstring) also shows the tests' examples.
    # Off by default: a small model does better in one shot on its own code alone (figures in
    # docs/tactics.md). The feedback still shows every failing test.
    show_tests: bool = False
    # One function asked for alone, its reply spliced into the attempt: the one function that
    # only failing tests call (at most MAX_FOCUS times per function); also turns off the
    # repairs that work on functions (the `focus`, `afresh` and `combine` tactics).
    focus_functions: bool = True
    # A focused request (and its `afresh` twin) as the conversation's next turn, after the request
    # and the attempt, instead of a new conversation showing the module around the function: the
    # prompt cache serves all but the new turn, and the model sees the task's own words.
    focus_in_conversation: bool = True
    # Whole-module replies start from the skeleton's first empty body, written into the reply for
    # the model (prompts.reply_prefix). None: when the model continues a final assistant message
    # (the embedded llama.cpp model does; the OpenAI API does not).
    prefill: bool | None = None
    # How a feedback round is built: "latest" sends the request, the attempt shown and its
    # failures (short, and a small model is not distracted by older failures); "append" extends
    # the conversation that produced the attempt with the model's own reply and the failures, so
    # the runtime's prompt cache serves everything but the new feedback. None: the model's profile.
    conversation: str | None = None
    history_chars: int = 16000  # an appended conversation longer than this starts again from "latest"
    # The small-model tactics to run, by name (code_generation/engine/tactics, languages/*/tactics). None: the model profile's
    # `tactics`, and when that is None too, the default set.
    tactics: tuple[str, ...] | None = None
    # Rust: the offline crate source (a folder, or "none"); None: $CREATE_SCRIPT_CRATE_SOURCE, else
    # Debian's /usr/share/cargo/registry when it exists (code_generation/languages/rust/crates.py).
    crate_source: str | None = None


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
    candidate: int = 0  # 0 follows the conversation; others are extra samples of the same round
    findings: list[Finding] = field(default_factory=list)
    # The whole-module request that produced the reply (None for spliced and repaired attempts):
    # an "append" conversation continues from it.
    request: list[BaseMessage] | None = field(default=None, repr=False, compare=False)

    @property
    def blocked(self) -> bool:
        """Code that a static check showed cannot work, so its tests were not run."""
        return self.result is None and any(f.critical for f in self.findings)

    @property
    def label(self) -> str:
        """``"3"`` for round 3's main attempt, ``"3.2"`` for its second extra candidate."""
        return f"{self.iteration}" if self.candidate == 0 else f"{self.iteration}.{self.candidate}"

    @property
    def passed(self) -> int:
        return self.result.passed if self.result else 0

    @property
    def success(self) -> bool:
        return bool(self.result and self.result.success)

    @property
    def tampered(self) -> bool:
        """The code changed the testing framework (or forged its report): ranked below everything."""
        return bool(self.result and self.result.status == "tampered")

    def summary(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "candidate": self.candidate,
            "findings": [str(f) for f in self.findings],
            "has_code": self.code is not None,
            "notes": self.notes,
            "status": self.result.status if self.result else "static_error" if self.blocked else "no_code",
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
    # The tactics whose hooks changed something in this run (an answer, a note, a test run): one
    # that never did can be turned off without changing the run (the ablation reuses such rows).
    tactics_acted: tuple[str, ...] = ()

    @property
    def iterations(self) -> int:
        """Rounds run; with several candidates a round holds several attempts."""
        return max((a.iteration for a in self.attempts), default=0)


class Observer(Protocol):
    """Hooks the CLI uses to record the run folder, log to memory and show progress."""

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None: ...

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None: ...

    def event(self, message: str) -> None: ...


class FanOut:
    """Fan the calls every observer shares out to several observers (None entries are skipped);
    an engine's own observer adds its specific hooks (`attempt`, `candidate`)."""

    def __init__(self, *observers: Any) -> None:
        self.observers = [o for o in observers if o is not None]

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        for o in self.observers:
            o.model_call(label, messages, reply, usage)

    def event(self, message: str) -> None:
        for o in self.observers:
            o.event(message)


class Silent:
    """The observer of a run nobody watches."""

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        pass

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        pass

    def event(self, message: str) -> None:
        pass


def progress(attempt: Attempt) -> tuple[bool, int, bool]:
    """How far an attempt got: it passed, tests passed, its tests ran at all (it built, it imported)."""
    return attempt.success, attempt.passed, ran(attempt)


def better(candidate: Attempt, best: Attempt | None) -> bool:
    """Further along by `progress` (passing, then more tests passed, then code whose tests ran where
    the best's did not); on a tie the earlier attempt stays, so a later one never regresses it."""
    if candidate.result is None or candidate.tampered:
        return False  # tampering never becomes the best, not even the first attempt
    if best is None or best.result is None or best.tampered:
        return True
    return progress(candidate) > progress(best)


def ran(attempt: Attempt) -> bool:
    """The tests ran to the end: the code built (Rust) or imported (Python) and did not hang."""
    return attempt.result is not None and attempt.result.status == "ok"


def rank(attempt: Attempt) -> tuple[bool, bool, int, bool, int, int]:
    """Order of a round's candidates: honest, then `progress`, then fewest static findings, shortest."""
    return (not attempt.tampered, *progress(attempt), -len(attempt.findings), -len(attempt.code or ""))


def passed_names(attempt: Attempt) -> set[str]:
    return {c.name for c in attempt.result.cases if c.outcome == "passed"} if attempt.result else set()


def digest(code: str) -> str:
    """The identity of a program, whitespace around it aside: the same digest is the same program."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def variant(base: Attempt, code: str, label: tuple[int, int], test: Callable[[str], SandboxResult]) -> Attempt:
    """`base` with its code changed by the loop itself (no model call), tested."""
    return replace(base, iteration=label[0], candidate=label[1], reply="", code=code, result=test(code), usage=None)


def improves(trial: Attempt, base: Attempt) -> bool:
    """A repair is kept only when it passes more tests and breaks none that passed."""
    return passed_names(base) <= passed_names(trial) and better(trial, base)


def failure_reason(outcome: LoopOutcome) -> str | None:
    """Why a pair is unsolved, in one line (None when solved)."""
    if outcome.success:
        return None
    best = outcome.best
    if best is None or best.result is None:
        notes = "; ".join(outcome.attempts[-1].notes) if outcome.attempts else "no attempt was made"
        return f"no usable code in the reply ({notes})"
    result = best.result
    if result.status != "ok":
        line = _error_line(result.message or result.stderr or "")
        return f"{result.status}: {line}" if line else result.status
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    reason = f"{result.passed}/{result.tests_run} tests passed"
    if failing:
        reason += f"; {failing[0].name}: {_error_line(failing[0].message) or failing[0].outcome}"
    return reason


def _error_line(message: str) -> str:
    """The exception line of a traceback (``AssertionError: 1 != 2``), else its last line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return (errors[0] if errors else lines[-1] if lines else "")[:200]
