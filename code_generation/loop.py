"""The engine: generate, extract, test in the sandbox, feed back, until the tests pass.

It knows nothing about argparse, files on disk or which model it talks to: the model, the
sandbox and an observer (which records and displays) are handed in. That keeps it testable with
LangChain's fake chat models and callable from Python.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation import arguments, extract, feedback, prompts, static_checks
from code_generation.extract import extract_module
from code_generation.runner import SandboxLimits, SandboxResult, run_tests
from code_generation.testspec import TestSpec, analyse_test_source
from my_llm.errors import ModelError
from my_llm.models import explain_error, profile_of
from my_llm.usage import CallUsage, UsageTracker

Sandbox = Callable[..., SandboxResult]
# Installs a missing package (by import name) for the tests; returns the interpreter to use, or None.
Installer = Callable[[str], str | None]
# When the same tests keep failing: the corrected test file if a (generated) test was wrong, or None.
Arbiter = Callable[["CodeTask", "Attempt"], str | None]


@dataclass
class CodeTask:
    """What to build: the user's request and the tests that judge it."""

    prompt: str
    module_name: str
    test_source: str
    test_filename: str
    skeleton: str | None = None  # the stub to complete; built from the tests when None


@dataclass
class LoopSettings:
    """The budget and knobs of one run."""

    max_iterations: int = 5
    temperature: float = 0.2
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    feedback_budget: int = 3500
    escalate_temperature: float = 0.4  # added when the model repeats an attempt verbatim
    restart_after: int = 2  # attempts in a row without progress before a fresh start from the request
    stop_at_fence: bool = True  # stop generating where the code ends (STOP_SEQUENCES)
    candidates: int = 1  # programs sampled per round, at once on the model's parallel slots
    static_checks: bool = False  # pyflakes before the tests; a critical finding skips the test run
    typecheck: bool = False  # mypy as well (implies static_checks); its findings are advice
    # A request holding its own code (HumanEval's signature and docstring) also shows the tests'
    # examples. Off: on HumanEval/0-39 the 0.5B model solved 34 of 40 in one shot without them
    # and 29 of 40 with them. The feedback still shows every failing test.
    show_tests: bool = False
    # One function asked for alone, its reply spliced into the attempt: a function the tests
    # import that the attempt left empty, or the one function that only failing tests call
    # (at most MAX_FOCUS times each per function).
    focus_functions: bool = True
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
    findings: list[static_checks.Finding] = field(default_factory=list)
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

    @property
    def iterations(self) -> int:
        """Rounds run; with several candidates a round holds several attempts."""
        return max((a.iteration for a in self.attempts), default=0)


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


def _invoke(chat: BaseChatModel, messages: Sequence[BaseMessage], params: dict[str, Any]) -> tuple[AIMessage, float]:
    """The bare model call, timed; provider errors become one-line `ModelError`s."""
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
    return reply, time.monotonic() - started


def call_model(
    chat: BaseChatModel,
    messages: Sequence[BaseMessage],
    label: str,
    usage: UsageTracker,
    observer: Observer,
    **params: Any,
) -> AIMessage:
    """One model call, measured and reported."""
    reply, seconds = _invoke(chat, messages, params)
    call = usage.record(label, messages, reply, seconds)
    observer.model_call(label, messages, reply, call)
    return reply


def call_model_many(
    chat: BaseChatModel,
    requests: Sequence[tuple[Sequence[BaseMessage], str, dict[str, Any]]],
    usage: UsageTracker,
    observer: Observer,
) -> list[tuple[AIMessage, CallUsage]]:
    """Several calls at once (the local model serves them on its parallel slots).

    Recording happens afterwards, in request order, on this thread: observers need not be
    thread-safe and the run folder reads the same on every run.
    """
    if len(requests) == 1:
        messages, label, params = requests[0]
        reply = call_model(chat, messages, label, usage, observer, **params)
        return [(reply, usage.calls[-1])]
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(_invoke, chat, messages, params) for messages, _, params in requests]
        replies = [future.result() for future in futures]
    out: list[tuple[AIMessage, CallUsage]] = []
    for (messages, label, _), (reply, seconds) in zip(requests, replies, strict=True):
        call = usage.record(label, messages, reply, seconds)
        observer.model_call(label, messages, reply, call)
        out.append((reply, call))
    return out


def better(candidate: Attempt, best: Attempt | None) -> bool:
    """Strictly more tests passing; on a tie the earlier attempt stays, so a later one never regresses it."""
    if candidate.result is None or candidate.tampered:
        return False  # tampering never becomes the best, not even the first attempt
    if best is None or best.result is None or best.tampered:
        return True
    if candidate.success != best.success:
        return candidate.success
    return candidate.passed > best.passed


def rank(attempt: Attempt) -> tuple[bool, bool, int, int, int]:
    """Order of a round's candidates: honest, passing, most tests passed, fewest static findings, shortest."""
    return (not attempt.tampered, attempt.success, attempt.passed, -len(attempt.findings), -len(attempt.code or ""))


def passed_names(attempt: Attempt) -> set[str]:
    return {c.name for c in attempt.result.cases if c.outcome == "passed"} if attempt.result else set()


def _failure_signature(attempt: Attempt) -> tuple[str, ...]:
    """What failed, by name: the same signature round after round means the model is stuck."""
    assert attempt.result is not None  # only tested attempts are compared
    failing = sorted(c.name for c in attempt.result.cases if c.outcome in {"failed", "error"})
    return (attempt.result.status, *failing)


MAX_ESCALATED_CANDIDATES = 6
STOP_SEQUENCES = ("\n```\n", "\nif __name__", "\n# Example", "\n# Test")
# Rounds in a row with the same failing tests before a run with several candidates gives up. Not
# below the default budget of 5: the 5th round (4 candidates by then) still solves some.
STUCK_ROUNDS = 5
MAX_FOCUS = 2  # times per run one function is asked for alone, for each reason
MAX_ARBITRATIONS = 2  # times per run the arbiter may be asked whether a test is wrong


MAX_COMBINATIONS = 12  # test runs per round spent on combining functions from earlier attempts


def _variant(base: Attempt, code: str, label: tuple[int, int], test: Callable[[str], SandboxResult]) -> Attempt:
    """`base` with its code changed by the loop itself (no model call), tested."""
    return replace(base, iteration=label[0], candidate=label[1], reply="", code=code, result=test(code), usage=None)


def _improves(trial: Attempt, base: Attempt) -> bool:
    """A repair is kept only when it passes more tests and breaks none that passed."""
    return passed_names(base) <= passed_names(trial) and better(trial, base)


def combine(
    best: Attempt, attempts: list[Attempt], names: list[str], test: Callable[[str], SandboxResult],
    label: tuple[int, int], tried: set[str],
) -> Attempt | None:
    """The best attempt with functions taken from earlier attempts, kept where they pass more.

    Two attempts often each get a different function right (word_frequency: one attempt's
    `word_counts`, another's `top_words`), and a small model rarely writes both right at once.
    The right piece can also sit in an attempt that passes nothing the best one fails
    (temperature_converter: the one correct `celsius_to_kelvin` was in an attempt that forgot
    `kelvin_to_celsius`). So every other version of each function is spliced into the best
    attempt in turn, donors passing tests the best one fails first; a combination is kept when
    it passes more and breaks nothing. No model call; at most MAX_COMBINATIONS test runs, and
    never code from an attempt that timed out.
    """
    assert best.code is not None and best.result is not None
    functions = list(extract.functions(best.code, names))
    if len(functions) < 2:
        return None
    failing = {c.name for c in best.result.cases if c.outcome in {"failed", "error"}}
    donors = sorted((a for a in attempts if a is not best and a.code and a.result
                     and a.result.status not in {"timeout", "tampered"}),
                    key=lambda a: (not passed_names(a) & failing, -a.passed))
    current, taken, runs = best, [], 0
    for donor in donors:
        assert donor.code is not None
        for name in functions:
            assert current.code is not None
            if runs >= MAX_COMBINATIONS or current.success:
                break
            theirs = extract.split_function(donor.code, name)[1]
            if not theirs or theirs == extract.split_function(current.code, name)[1]:
                continue
            code = extract.splice_function(current.code, f"```python\n{donor.code}\n```", name)
            if code is None or _digest(code) in tried:
                continue
            tried.add(_digest(code))
            runs += 1
            trial = _variant(current, code, label, test)
            if _improves(trial, current):
                current = trial
                taken.append(f"`{name}` from attempt {donor.label}")
    if current is best:
        return None
    current.notes = [f"combined {', '.join(taken)} into attempt {best.label}"]
    current.findings = []
    return current


def restore_arguments(
    best: Attempt, test: Callable[[str], SandboxResult], label: tuple[int, int], tried: set[str],
) -> Attempt | None:
    """The best attempt without the statements that overwrite an argument before it is read.

    Told so in the feedback, the 0.5B model still kept `now = datetime.now()` in
    `hours_since(date_string, now)` for five rounds. One test run, no model call; kept, like a
    combination, only when it passes more and breaks nothing.
    """
    assert best.code is not None
    found = arguments.without_overwrites(best.code)
    if found is None or _digest(found[0]) in tried:
        return None
    code, removed = found
    tried.add(_digest(code))
    trial = _variant(best, code, label, test)
    if not _improves(trial, best):
        return None
    trial.findings = []
    trial.notes = [f"took out {', '.join(f'`{r}`' for r in removed)} from attempt {best.label}: "
                   "it overwrote an argument before reading it"]
    return trial


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def _continued(shown: Attempt, limit: int) -> list[BaseMessage] | None:
    """The conversation that produced `shown`, its reply appended exactly as the model wrote it.

    None when there is no such conversation (a spliced or repaired attempt), when the tested code
    is not the reply's own (extraction changed it, so the failures' line numbers would not match
    it), or when the history has grown past `limit` characters.
    """
    if shown.request is None or shown.code is None:
        return None
    reply = prompts.fenced_reply(shown.reply)
    if reply is None or prompts.code_of_reply(reply) != shown.code.strip():
        return None
    history = [*shown.request, AIMessage(reply)]
    if sum(len(str(m.content)) for m in history) > limit:
        return None
    return history


def _request(task: CodeTask, settings: LoopSettings) -> tuple[TestSpec, list[BaseMessage], str | None]:
    """What the tests ask for, the opening request, and the skeleton whose examples feedback restores
    (None when the request holds code of its own: that code, not the skeleton, is what the model completes)."""
    spec = analyse_test_source(task.test_source, task.module_name, task.test_filename)
    opening = prompts.code_messages(
        task.prompt, task.module_name, task.test_filename, task.test_source, spec.imported_names, task.skeleton,
        settings.show_tests,
    )
    reference = task.skeleton if "```" in task.prompt else prompts.request_skeleton(
        task.prompt, task.module_name, task.test_source, spec.imported_names, task.skeleton
    )
    return spec, opening, reference


def run_loop(
    task: CodeTask,
    chat: BaseChatModel,
    settings: LoopSettings | None = None,
    *,
    observer: Observer | None = None,
    guard: Callable[[], None] | None = None,
    sandbox: Sandbox = run_tests,
    usage: UsageTracker | None = None,
    installer: Installer | None = None,
    arbiter: Arbiter | None = None,
) -> LoopOutcome:
    """Iterate until every test passes or the iteration budget is spent.

    `guard` runs before each iteration (the CLI checks the test file's hash there). With an
    `installer`, a third-party package the code imports is installed (once) and the tests rerun.
    With an `arbiter` (only for tests generated in this run), the same tests failing two rounds
    in a row ask it whether a test is wrong; a corrected test file becomes the judge from then on.
    """
    settings = settings or LoopSettings()
    observer = observer or _Silent()
    usage = usage or UsageTracker()
    spec, opening, reference = _request(task, settings)
    started = time.monotonic()
    attempts: list[Attempt] = []
    best: Attempt | None = None
    seen: set[str] = set()
    messages: list[BaseMessage] = opening
    temperature = settings.temperature
    stop_reason = "budget"
    stalls = 0  # attempts in a row that did not beat the best
    # Prose or example calls after the code cost time and are thrown away; an opening fence is
    # "```python". At most four: the OpenAI API's limit.
    stop = {"stop": list(STOP_SEQUENCES)} if settings.stop_at_fence else {}
    prefill = settings.prefill if settings.prefill is not None else bool(getattr(chat, "continues_final_message", False))
    prefix = prompts.reply_prefix(reference) if prefill else None
    conversation = settings.conversation or profile_of(chat).conversation
    whole_module = True  # the conversation asks for the whole module (not one function alone)

    hot = min(1.0, settings.temperature + settings.escalate_temperature)
    base_seed = getattr(chat, "seed", None)
    limits = settings.limits
    install_tried: set[str] = set()
    # With several candidates: keep what passed, and escalate when the same failure repeats.
    several = settings.candidates > 1
    n_candidates = settings.candidates
    last_signature: tuple[str, ...] | None = None
    repeats = 0
    arbitrations = 0
    fill: tuple[str, str] | None = None  # (function, module) the next round's conversation asks for
    focused: Counter[tuple[str, str]] = Counter()  # (why, function): times asked alone
    combined_tried: set[str] = set()  # digests of the combinations already tested
    afresh: list[BaseMessage] | None = None  # the focused function asked for without its old body

    def test(code: str) -> SandboxResult:
        nonlocal limits
        result = sandbox(code, task.module_name, task.test_source, task.test_filename, limits=limits)
        missing = feedback.missing_module(result, task.module_name)
        if missing and installer is not None and missing not in install_tried:
            install_tried.add(missing)
            observer.event(f"the code needs `{missing}`: installing it into the run's own environment")
            python = installer(missing)
            if python is not None:
                limits = replace(limits, python=python)
                result = sandbox(code, task.module_name, task.test_source, task.test_filename, limits=limits)
        return result

    for iteration in range(1, settings.max_iterations + 1):
        if guard:
            guard()
        requests = [(messages, temperature)]
        module_asked = [whole_module]
        afresh_now, afresh = afresh, None
        if afresh_now is not None:  # an extra candidate: the focused function written afresh
            requests.append((afresh_now, hot))
            module_asked.append(False)
        # Extra candidates: fresh hotter samples of the request, alternating with hotter takes on
        # the conversation, so a round holds both a repair and new ideas.
        for k in range(1, n_candidates):
            requests.append((opening, hot) if k % 2 else (messages, min(1.0, temperature + settings.escalate_temperature)))
            module_asked.append(whole_module if k % 2 == 0 else True)
        calls = []
        for k, (request, temp) in enumerate(requests):
            params: dict[str, Any] = dict(stop)
            if temp != settings.temperature:
                params["temperature"] = temp
            if (k or iteration > 1) and base_seed is not None:  # the same seed would sample the same program
                params["seed"] = base_seed + iteration * (MAX_ESCALATED_CANDIDATES + 1) + k
            if prefix and module_asked[k]:
                request = [*request, AIMessage(prefix)]
            calls.append((request, f"code-{iteration}" + (f".{k}" if k else ""), params))
        asking = "asking the model" if len(calls) == 1 else f"asking the model for {len(calls)} candidates"
        observer.event(f"iteration {iteration}/{settings.max_iterations}: {asking}")
        replies = call_model_many(chat, calls, usage, observer)
        filling, fill = fill, None
        whole_module = True

        round_attempts: list[Attempt] = []
        for k, ((reply, call), (_, temp)) in enumerate(zip(replies, requests, strict=True)):
            text = reply.text if not isinstance(reply.content, str) else reply.content
            if prefix and module_asked[k] and not text.startswith(prefix):
                text = prefix + text  # a backend that returns only the continuation
            spliced = None
            if filling is not None and (requests[k][0] is messages or requests[k][0] is afresh_now):
                spliced = extract.splice_function(filling[1], text, filling[0])  # None: maybe a whole module
            source = f"```python\n{spliced}\n```" if spliced else text
            extraction = extract_module(source, task.module_name, spec.imported_names, spec.test_names, reference)
            if spliced and filling is not None:
                extraction.notes.insert(0, f"`{filling[0]}` spliced into the previous attempt")
            attempt = Attempt(iteration, text, extraction.code, extraction.notes, None, temp, call, k,
                              request=requests[k][0] if module_asked[k] and not spliced else None)
            attempts.append(attempt)
            round_attempts.append(attempt)
            if extraction.code is not None:
                digest = _digest(extraction.code)
                if k == 0:
                    # The same program again: sample hotter next time; otherwise back to normal.
                    temperature = hot if digest in seen else settings.temperature
                seen.add(digest)
                if settings.static_checks or settings.typecheck:
                    attempt.findings = static_checks.check_module(extraction.code, f"{task.module_name}.py")
                    if static_checks.critical(attempt.findings):
                        continue  # it would fail at import or first call: no test run
                    if settings.typecheck:
                        attempt.findings += static_checks.typecheck(extraction.code, task.module_name)
                attempt.result = test(extraction.code)

        tested = [a for a in round_attempts if a.result is not None]
        if several and best is not None:
            # A candidate that breaks a test the best one passes never becomes the best; when every
            # one does, the round counts as no progress and the best one's failures are fed back.
            kept = [a for a in tested if passed_names(best) <= passed_names(a)]
            tested = kept or ([best] if tested else [])
        top = max(tested, key=rank) if tested else None
        if top is not None and better(top, best):
            best, stalls = top, 0
        elif top is not None:
            stalls += 1
        if settings.focus_functions and top is not None and best is not None and not best.success:
            label = (iteration, len(round_attempts))
            repairs: list[Callable[..., Attempt | None]] = [  # each called as repair(best, label=...)
                partial(combine, attempts=attempts, names=spec.imported_names, test=test, tried=combined_tried),
                partial(restore_arguments, test=test, tried=combined_tried),
            ]
            for repair in repairs:
                assert best is not None
                if best.success:
                    break
                repaired = repair(best, label=label)
                if repaired is not None:
                    attempts.append(repaired)
                    round_attempts.append(repaired)
                    best = top = repaired
                    stalls = 0
                    label = (iteration, len(round_attempts))
        for attempt in round_attempts:
            observer.attempt(attempt, best)
        blocked = [a for a in round_attempts if a.blocked]
        if top is None and blocked:
            shown_code = blocked[0].code
            assert shown_code is not None
            messages = prompts.feedback_messages(
                opening, task.module_name, shown_code, "has errors found before any test ran",
                static_checks.render(static_checks.critical(blocked[0].findings)),
            )
            continue
        if top is None:
            main = round_attempts[0]
            problem = main.notes[-1] if main.notes else "the reply contained no Python code"
            messages = prompts.no_code_messages(opening, problem, task.module_name, spec.imported_names)
            # The same request at the same temperature would likely get the same reply.
            temperature = min(1.0, temperature + settings.escalate_temperature)
            continue

        if top.success:
            stop_reason = "passed"
            break
        signature = _failure_signature(top)
        repeats = repeats + 1 if signature == last_signature else 0
        last_signature = signature
        if (arbiter is not None and repeats == 1 and arbitrations < MAX_ARBITRATIONS and top.code is not None
                and not top.tampered):
            arbitrations += 1
            revised = arbiter(task, top)
            if revised is not None:
                task = replace(task, test_source=revised)
                spec, opening, reference = _request(task, settings)
                # The judge changed: earlier results no longer count; the best program is tested again.
                top = Attempt(iteration, top.reply, top.code, [*top.notes, "tested again against the corrected tests"],
                              test(top.code), top.temperature, None, top.candidate, top.findings)
                attempts.append(top)
                best, stalls, repeats, last_signature = top, 0, 0, None
                observer.attempt(top, best)
                if top.success:
                    stop_reason = "passed"
                    break
        if several:
            if repeats == 1:
                temperature = hot
            elif repeats == 2 and n_candidates < MAX_ESCALATED_CANDIDATES:
                n_candidates = min(MAX_ESCALATED_CANDIDATES, n_candidates + 2)
                observer.event(f"the same tests keep failing: {n_candidates} candidates per round from now on")
            elif repeats + 1 >= STUCK_ROUNDS:
                failing = ", ".join(signature[1:4]) or signature[0]
                observer.event(f"stopping: the same tests failed {repeats + 1} rounds in a row ({failing})")
                stop_reason = "stuck"
                break
        shown = top if best is None or top.passed >= best.passed else best
        assert shown.code is not None and shown.result is not None
        code_shown = prompts.shown_code(shown.code, reference)
        empty = [n for n in extract.empty_functions(shown.code, spec.imported_names)
                 if focused["empty", n] < MAX_FOCUS]
        if settings.focus_functions and empty:
            focused["empty", empty[0]] += 1
            fill = (empty[0], shown.code)
            observer.event(f"`{empty[0]}` is still empty: asking for it alone")
            messages = prompts.fill_messages(task.module_name, code_shown, empty[0])
            whole_module = False
            continue
        if stalls >= settings.restart_after:
            # Repairs are going nowhere: a small model does better with a fresh, hotter sample
            # of the original request than with more feedback on the same wrong idea.
            observer.event(f"no progress in {stalls} attempts: asking afresh")
            messages, stalls, temperature = opening, 0, hot
            continue
        # Feed back the round's best unless it fell behind the best so far: then the best one's failures.
        functions = list(extract.functions(shown.code, spec.imported_names))
        name = feedback.culprit(shown.result, task.test_source, functions, task.module_name) if settings.focus_functions else None
        if name and focused["failing", name] >= MAX_FOCUS:
            name = None
        # Asking for one function, only the failures that point at it: the others ask for changes it cannot make.
        reported = feedback.failures_of(shown.result, task.test_source, functions, task.module_name, name) if name else shown.result
        details = feedback.details(reported, settings.feedback_budget, task.test_source, task.test_filename)
        for note in (feedback.stub_note(shown.code), feedback.ignored_note(shown.code)):
            if note:
                details = f"{note}\n\n{details}"
        if missing := feedback.missing_module(shown.result, task.module_name):
            details = f"{prompts.MISSING_MODULE_NOTE.format(name=missing)}\n\n{details}"
        if top.tampered and shown is not top:  # the feedback shows the best's failures: say why the last was rejected
            assert top.result is not None
            details = f"{feedback.tampered_note(top.result)}\n\n{details}"
        if shown.findings:
            details = f"{details}\n\n{static_checks.render(shown.findings)}"
        if name:
            focused["failing", name] += 1
            fill = (name, shown.code)
            observer.event(f"failing tests point at `{name}`: asking for it alone")
            messages = prompts.focus_messages(task.module_name, code_shown, name, feedback.verdict(shown.result), details)
            whole_module = False
            if several:
                afresh = prompts.afresh_messages(
                    task.module_name, code_shown, name, feedback.verdict(shown.result), details, reference,
                )
        elif conversation == "append" and (history := _continued(shown, settings.history_chars)) is not None:
            messages = prompts.continued_messages(history, task.module_name, feedback.verdict(shown.result), details)
        else:
            messages = prompts.feedback_messages(
                opening, task.module_name, code_shown, feedback.verdict(shown.result), details,
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
