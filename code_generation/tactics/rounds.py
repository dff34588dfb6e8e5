"""Tactics that choose the next request: one function alone, a fresh start, or the conversation
extended; and the extra candidate that writes a function afresh."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage

from code_generation import extract, feedback, prompts
from code_generation.languages import Language, get_language
from code_generation.loop_state import MAX_FOCUS, Ask, LoopState, Request, Tactic, register_tactic
from code_generation.types import Attempt


@register_tactic("restart", "after attempts without progress, the request again, sampled hotter")
class Restart(Tactic):
    """After `LoopSettings.restart_after` attempts in a row without progress, start afresh.

    A small model does better with a fresh, hotter sample of the original request than with
    more feedback on the same wrong idea.
    """

    def next_request(self, shown: Attempt, top: Attempt, state: LoopState) -> Ask | None:
        if state.stalls < state.settings.restart_after:
            return None
        state.observer.event(f"no progress in {state.stalls} attempts: asking afresh")
        state.stalls = 0
        return Ask(state.opening, temperature=state.hot, reason="restart")


@register_tactic("focus", "the one function the failing tests point at is asked for alone")
class Focus(Tactic):
    """When the failing tests point at one function while other tests pass, only it is rewritten.

    Rewriting the whole module, a small model often breaks what passes. The request shows the
    rest of the module, only the failures that point at the function, and the function itself
    (`feedback.culprit` says which). At most MAX_FOCUS times per function.
    """

    def next_request(self, shown: Attempt, top: Attempt, state: LoopState) -> Ask | None:
        task = state.task
        assert shown.code is not None and shown.result is not None
        functions = list(extract.functions(shown.code, state.spec.imported_names))
        name = feedback.culprit(shown.result, task.test_source, functions, task.module_name)
        if not name or state.focused[name] >= MAX_FOCUS:
            return None
        # Only the failures that point at it: the others ask for changes it cannot make.
        reported = feedback.failures_of(shown.result, task.test_source, functions, task.module_name, name)
        details = state.details(shown, top, reported)
        state.focused[name] += 1
        state.observer.event(f"failing tests point at `{name}`: asking for it alone")
        messages = prompts.focus_messages(task.module_name, state.shown_code(shown.code), name,
                                          feedback.verdict(shown.result), details)
        return Ask(messages, whole_module=False, splice=(name, shown.code), reason="focus", function=name,
                   details=details)


@register_tactic("afresh", "with several candidates, one more writes the focused function from its header")
class Afresh(Tactic):
    """Beside a focused request, one more candidate asks for the function without its old body.

    Shown its own body, a small model often copies it back unchanged; shown only the header
    (the request's docstring when the code dropped it), it writes the function anew.
    """

    def extra_requests(self, ask: Ask, shown: Attempt, state: LoopState) -> list[Request]:
        if ask.reason != "focus" or ask.function is None or not state.several:
            return []
        assert shown.code is not None and shown.result is not None
        messages = prompts.afresh_messages(state.task.module_name, state.shown_code(shown.code), ask.function,
                                           feedback.verdict(shown.result), ask.details, state.reference)
        if messages is None:
            return []
        return [Request(messages, state.hot, whole_module=False, splice=ask.splice, kind="afresh")]


def continued(shown: Attempt, limit: int, language: Language | None = None) -> list[BaseMessage] | None:
    """The conversation that produced `shown`, its reply appended exactly as the model wrote it.

    None when there is no such conversation (a spliced or repaired attempt), when the tested code
    is not the reply's own (extraction changed it, so the failures' line numbers would not match
    it), or when the history has grown past `limit` characters.
    """
    if shown.request is None or shown.code is None:
        return None
    language = language or get_language("python")
    reply = language.fenced_reply(shown.reply)
    if reply is None or language.code_of_reply(reply) != shown.code.strip():
        return None
    history = [*shown.request, AIMessage(reply)]
    if sum(len(str(m.content)) for m in history) > limit:
        return None
    return history


@register_tactic("append", "feedback extends the conversation instead of restating the latest attempt")
class Append(Tactic):
    """Feedback rounds extend the conversation that produced the attempt ("append").

    The model's own reply stays as it wrote it and the failures follow, so the runtime's prompt
    cache serves everything but the new feedback. Without it ("latest"), each round sends the
    request, the attempt shown and its failures: short, and older failures do not distract.
    A conversation longer than `LoopSettings.history_chars` goes back to "latest".
    """

    def next_request(self, shown: Attempt, top: Attempt, state: LoopState) -> Ask | None:
        history = continued(shown, state.settings.history_chars, state.language)
        if history is None:
            return None
        assert shown.result is not None
        details = state.details(shown, top, shown.result)
        messages = state.language.continued_messages(history, state.task.module_name,
                                                     state.language.verdict(shown.result), details)
        return Ask(messages, reason="append")
