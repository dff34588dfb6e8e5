"""The engine: generate, extract, test in the sandbox, feed back, until the tests pass.

It knows nothing about argparse, files on disk or which model it talks to: the model, the
sandbox and an observer (which records and displays) are handed in. That keeps it testable with
LangChain's fake chat models and callable from Python.

`run_loop` moves one `LoopState` (code_generation/engine/loop_state.py) through the phases of a round:
plan the requests, turn the replies into tested attempts, choose the best, repair it without the
model, decide the next step. The small-model tactics (code_generation/engine/tactics, and each language's own) hook into these
phases; the rules here hold for any model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.loop_state import MAX_FOCUS, Ask, Done, LoopState, Request, Step
from code_generation.engine.tactics import make_tactics, tactic_names
from code_generation.languages import close_sandbox, get_language
from code_generation.model_calls import call_model, call_model_many
from code_generation.types import (
    Arbiter,
    Attempt,
    CodeTask,
    Installer,
    LoopOutcome,
    LoopSettings,
    Observer,
    Sandbox,
    Silent,
    better,
    critical,
    digest,
    passed_names,
    rank,
)
from my_llm.models import profile_of
from my_llm.models.usage import CallUsage, UsageTracker

_Silent = Silent

__all__ = [  # the engine's vocabulary, importable from here as before
    "MAX_FOCUS", "Arbiter", "Attempt", "CodeTask", "Installer", "LoopOutcome", "LoopSettings",
    "Observer", "Sandbox", "better", "call_model", "call_model_many", "passed_names", "rank",
    "run_loop",
]

MAX_ESCALATED_CANDIDATES = 6
# Rounds in a row with the same failing tests before a run with several candidates gives up. Not
# below the default budget of 5: the 5th round (4 candidates by then) still solves some.
STUCK_ROUNDS = 5
MAX_ARBITRATIONS = 2  # times per run the arbiter may be asked whether a test is wrong


def _failure_signature(attempt: Attempt) -> tuple[str, ...]:
    """What failed, by name: the same signature round after round means the model is stuck."""
    assert attempt.result is not None  # only tested attempts are compared
    failing = sorted(c.name for c in attempt.result.cases if c.outcome in {"failed", "error"})
    return (attempt.result.status, *failing)


def plan_requests(state: LoopState) -> list[Request]:
    """The round's requests: the conversation, the tactics' extras, then the extra candidates.

    Extra candidates alternate between fresh hot samples of the request and hotter takes on
    the conversation, so a round holds both a repair and new ideas. A tactic may replace the
    fresh samples (`Tactic.fresh_requests`: `plan` asks the model for approaches first).
    """
    settings = state.settings
    conversation = Request(state.messages, state.temperature, state.whole_module, state.splice, state.kind)
    requests = [conversation, *state.extra]
    slots = state.n_candidates // 2  # the odd k below
    fresh = iter((state.first(lambda t: t.fresh_requests(state, slots)) if slots else None) or [])
    for k in range(1, state.n_candidates):
        if k % 2:
            requests.append(next(fresh, None) or Request(state.opening, state.fresh, kind="fresh"))
        else:
            hotter = min(1.0, state.temperature + settings.escalate_temperature)
            requests.append(replace(conversation, temperature=hotter))
    return requests


def ask_model(state: LoopState, requests: list[Request]) -> list[tuple[AIMessage, CallUsage]]:
    """Send the round's requests at once, each with its stop sequences, temperature and seed."""
    settings, iteration = state.settings, state.iteration
    # Prose or example calls after the code cost time and are thrown away; an opening fence is
    # "```python". At most four: the OpenAI API's limit.
    stop: dict[str, Any] = {"stop": list(state.language.stop_sequences)} if settings.stop_at_fence else {}
    if state.language.reply_tokens:
        stop["max_tokens"] = state.language.reply_tokens
    base_seed = getattr(state.chat, "seed", None)
    calls = []
    for k, request in enumerate(requests):
        params: dict[str, Any] = dict(stop)
        if request.temperature != settings.temperature:
            params["temperature"] = request.temperature
        if (k or iteration > 1) and base_seed is not None:  # the same seed would sample the same program
            params["seed"] = base_seed + iteration * (MAX_ESCALATED_CANDIDATES + 1) + k
        messages: list[BaseMessage] = request.messages
        if state.prefix and request.whole_module:
            messages = [*messages, AIMessage(state.prefix)]
        calls.append((messages, f"code-{iteration}" + (f".{k}" if k else ""), params))
    asking = "asking the model" if len(calls) == 1 else f"asking the model for {len(calls)} candidates"
    state.observer.event(f"iteration {iteration}/{settings.max_iterations}: {asking}")
    return call_model_many(state.chat, calls, state.usage, state.observer)


def to_attempt(state: LoopState, k: int, request: Request, reply: AIMessage, call: CallUsage) -> Attempt:
    """A reply as an attempt: its code extracted (spliced into the module it completes), cleaned by
    the tactics, checked statically when asked, and tested."""
    task, spec = state.task, state.spec
    call.purpose = request.kind
    text = reply.text if not isinstance(reply.content, str) else reply.content
    if state.prefix and request.whole_module and not text.startswith(state.prefix):
        text = state.prefix + text  # a backend that returns only the continuation
    spliced = state.language.splice_function(request.splice[1], text, request.splice[0]) if request.splice else None
    source = f"```{state.language.fence}\n{spliced}\n```" if spliced else text  # not spliced: maybe a whole module
    extraction = state.language.extract(source, task, spec)
    if extraction.code is not None and extraction.syntax_error is None:
        for tactic in state.tactics:
            cleaned, notes = tactic.clean(extraction.code, state)
            state.noted(tactic, cleaned != extraction.code or notes)
            extraction.code = cleaned
            extraction.notes.extend(notes)
    if spliced and request.splice is not None:
        extraction.notes.insert(0, f"`{request.splice[0]}` spliced into the previous attempt")
    attempt = Attempt(state.iteration, text, extraction.code, extraction.notes, None, request.temperature, call, k,
                      request=request.messages if request.whole_module and not spliced else None)
    if extraction.code is None:
        return attempt
    if k == 0:  # the same program again: sample hotter next time; otherwise back to normal
        state.temperature = state.hot if digest(extraction.code) in state.seen else state.settings.temperature
    state.seen.add(digest(extraction.code))
    attempt.findings = state.language.static_findings(extraction.code, task.module_name, state.settings)
    if critical(attempt.findings):
        return attempt  # it would fail at import or first call: no test run
    attempt.result = state.test(extraction.code)
    return attempt


def choose_best(state: LoopState, round_attempts: list[Attempt]) -> Attempt | None:
    """The round's top attempt; it becomes the best when it beats the best so far."""
    tested = [a for a in round_attempts if a.result is not None]
    best = state.best
    if state.several and best is not None:
        # A candidate that breaks a test the best one passes never becomes the best; when every
        # one does, the round counts as no progress and the best one's failures are fed back.
        kept = [a for a in tested if passed_names(best) <= passed_names(a)]
        tested = kept or ([best] if tested else [])
    top = max(tested, key=rank) if tested else None
    if top is not None and better(top, best):
        state.best, state.stalls = top, 0
    elif top is not None:
        state.stalls += 1
    return top


def repair(state: LoopState, top: Attempt | None, round_attempts: list[Attempt]) -> Attempt | None:
    """The tactics' repairs of the best attempt, without a model call; returns the round's top."""
    if top is None or state.best is None or state.best.success:
        return top
    label = (state.iteration, len(round_attempts))
    for tactic in state.tactics:
        if state.best.success:
            break
        tried = len(state.tried)
        repaired = tactic.repair(state.best, state, label)
        state.noted(tactic, repaired is not None or len(state.tried) != tried)  # a repair tested counts
        if repaired is not None:
            state.attempts.append(repaired)
            round_attempts.append(repaired)
            state.best = top = repaired
            state.stalls = 0
            label = (state.iteration, len(round_attempts))
    return top


def unusable(state: LoopState, round_attempts: list[Attempt]) -> Ask:
    """No attempt of the round was tested: the static findings, or ask again without echoing the reply."""
    task, opening = state.task, state.opening
    blocked = [a for a in round_attempts if a.blocked]
    if blocked:
        assert blocked[0].code is not None
        messages = state.language.feedback_messages(
            opening, task.module_name, blocked[0].code, "has errors found before any test ran",
            state.language.render_findings(critical(blocked[0].findings)),
        )
        return Ask(messages, reason="static")
    main = round_attempts[0]
    problem = main.notes[-1] if main.notes else state.language.no_code
    messages = state.language.no_code_messages(opening, problem, task.module_name, state.spec.imported_names)
    # The same request at the same temperature would likely get the same reply.
    return Ask(messages, temperature=min(1.0, state.temperature + state.settings.escalate_temperature),
               reason="no_code")


def arbitrate(state: LoopState, top: Attempt) -> Attempt:
    """When the same tests fail twice in a row, ask the arbiter whether a test is wrong.

    A corrected test file becomes the judge: earlier results no longer count, and the top
    attempt is tested again (it is returned, and is the best from then on).
    """
    if (state.arbiter is None or state.repeats != 1 or state.arbitrations >= MAX_ARBITRATIONS or top.code is None
            or top.tampered):
        return top
    state.arbitrations += 1
    revised = state.arbiter(state.task, top)
    if revised is None:
        return top
    state.set_task(replace(state.task, test_source=revised))
    top = Attempt(state.iteration, top.reply, top.code, [*top.notes, "tested again against the corrected tests"],
                  state.test(top.code), top.temperature, None, top.candidate, top.findings)
    state.attempts.append(top)
    state.best, state.stalls, state.repeats, state.last_signature = top, 0, 0, None
    state.observer.attempt(top, state.best)
    return top


def escalate(state: LoopState, signature: tuple[str, ...]) -> Done | None:
    """With several candidates, the same failures sample hotter, then ask for more candidates,
    and after STUCK_ROUNDS rounds stop."""
    if not state.several:
        return None
    if state.repeats == 1:
        state.temperature = state.hot
    elif state.repeats == 2 and state.n_candidates < MAX_ESCALATED_CANDIDATES:
        state.n_candidates = min(MAX_ESCALATED_CANDIDATES, state.n_candidates + 2)
        state.observer.event(f"the same tests keep failing: {state.n_candidates} candidates per round from now on")
    elif state.repeats + 1 >= STUCK_ROUNDS:
        failing = ", ".join(signature[1:4]) or signature[0]
        state.observer.event(f"stopping: the same tests failed {state.repeats + 1} rounds in a row ({failing})")
        return Done("stuck")
    return None


def decide(state: LoopState, top: Attempt | None, round_attempts: list[Attempt]) -> Step:
    """Stop, or the next request: a tactic's, else the failures of the round's best fed back."""
    if top is None:
        return unusable(state, round_attempts)
    if top.success:
        return Done("passed")
    signature = _failure_signature(top)
    state.repeats = state.repeats + 1 if signature == state.last_signature else 0
    state.last_signature = signature
    top = arbitrate(state, top)
    if top.success:
        return Done("passed")
    if (stop := escalate(state, signature)) is not None:
        return stop
    # Feed back the round's best unless it fell behind the best so far: then the best one's failures.
    best = state.best
    shown = top if best is None or top.passed >= best.passed else best
    assert shown.code is not None and shown.result is not None
    ask = state.first(lambda t: t.next_request(shown, top, state))
    if ask is None:
        details = state.details(shown, top, shown.result)
        ask = Ask(state.language.feedback_messages(state.opening, state.task.module_name,
                                                   state.shown_code(shown.code),
                                                   state.language.verdict(shown.result), details), details=details)
    state.extra = []
    for tactic in state.tactics:
        extra = tactic.extra_requests(ask, shown, state)
        state.noted(tactic, extra)
        state.extra.extend(extra)
    return ask


def follow(state: LoopState, ask: Ask) -> None:
    """Make `ask` the conversation's next request."""
    state.messages, state.whole_module, state.splice = ask.messages, ask.whole_module, ask.splice
    state.kind = ask.reason
    if ask.temperature is not None:
        state.temperature = ask.temperature


def run_loop(
    task: CodeTask,
    chat: BaseChatModel,
    settings: LoopSettings | None = None,
    *,
    observer: Observer | None = None,
    guard: Callable[[], None] | None = None,
    sandbox: Sandbox | None = None,
    usage: UsageTracker | None = None,
    installer: Installer | None = None,
    arbiter: Arbiter | None = None,
) -> LoopOutcome:
    """Iterate until every test passes or the iteration budget is spent.

    `guard` runs before each iteration (the CLI checks the test file's hash there). With an
    `installer`, a third-party package the code imports is installed (once) and the tests rerun.
    With an `arbiter` (only for tests generated in this run), the same tests failing two rounds
    in a row ask it whether a test is wrong; a corrected test file becomes the judge from then on.
    Without a `sandbox`, the task's language makes one for the run (Python's is `run_tests`;
    Rust's keeps a build folder for the run's attempts, removed at the end).
    """
    settings = settings or LoopSettings()
    language = get_language(task.language)
    own = sandbox is None
    chosen = language.make_sandbox(settings) if sandbox is None else sandbox
    try:
        tactics = make_tactics(tactic_names(settings, profile_of(chat), language))
        state = LoopState(task, settings, chat, tactics, observer or Silent(), usage or UsageTracker(), chosen,
                          installer, arbiter, guard)
        return _rounds(state)
    finally:
        if own:
            close_sandbox(chosen)


def _round_fits(state: LoopState) -> bool:
    """Whether another round fits in the time budget: the rounds so far took their average each."""
    budget, done = state.settings.time_budget, state.iteration - 1
    if budget is None or done == 0:
        return True
    spent = state.clock() - state.started
    return spent + spent / done <= budget


def _rounds(state: LoopState) -> LoopOutcome:
    """The rounds of one run, until a step says it is done or the budget is spent."""
    settings = state.settings
    state.prefix = state.first(lambda t: t.reply_prefix(state))
    stop_reason = "budget"
    for state.iteration in range(1, settings.max_iterations + 1):
        if not _round_fits(state):
            stop_reason = "time budget"
            break
        if state.guard:
            state.guard()
        requests = plan_requests(state)
        state.extra, state.splice, state.whole_module = [], None, True
        before = state.best
        replies = ask_model(state, requests)
        round_attempts = [to_attempt(state, k, request, reply, call)
                          for k, (request, (reply, call)) in enumerate(zip(requests, replies, strict=True))]
        state.attempts.extend(round_attempts)
        top = repair(state, choose_best(state, round_attempts), round_attempts)
        for attempt in round_attempts:
            state.observer.attempt(attempt, state.best)
        state.flat = 0 if state.best is not before else state.flat + 1
        step = decide(state, top, round_attempts)
        if isinstance(step, Done):
            stop_reason = step.reason
            break
        if settings.give_up_after is not None and state.flat >= settings.give_up_after:
            state.observer.event(f"stopping: {state.flat} rounds in a row found nothing better")
            stop_reason = "no progress"
            break
        follow(state, step)
    best = state.best
    return LoopOutcome(
        success=bool(best and best.success),
        best=best,
        attempts=state.attempts,
        usage=state.usage,
        seconds=time.monotonic() - state.started,
        stop_reason=stop_reason,
        tests_total=best.result.tests_run if best and best.result and best.result.tests_run else state.spec.test_count,
        tactics_acted=tuple(t.name for t in state.tactics if t.name in state.acted),
    )
