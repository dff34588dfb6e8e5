"""Tactics that choose the next request for any language: a fresh start, or the conversation extended."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.loop_state import Ask, LoopState, Tactic, register_tactic
from code_generation.languages import Language, get_language
from code_generation.types import Attempt


@register_tactic("restart", "after attempts without progress, the request again, sampled hot")
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
        return Ask(state.opening, temperature=state.fresh, reason="restart")


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
