"""Tactics that rewrite one function: asked for alone, and once more from its header alone."""

from __future__ import annotations

from code_generation.engine.loop_state import (
    MAX_FOCUS,
    Ask,
    LoopState,
    Request,
    Tactic,
    register_tactic,
)
from code_generation.languages.python import extract, feedback, prompts
from code_generation.types import Attempt


@register_tactic("focus", "the one function the failing tests point at is asked for alone")
class Focus(Tactic):
    """When the failing tests point at one function while other tests pass, only it is rewritten.

    Rewriting the whole module, a small model often breaks what passes. The request shows the
    rest of the module, only the failures that point at the function, and the function itself
    (`feedback.culprit` says which). At most MAX_FOCUS times per function. With
    `LoopSettings.focus_in_conversation` the request is the next turn after the attempt instead
    of a new conversation: the prompt cache serves the request and the attempt.
    """

    languages = frozenset({"python"})

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
        code, verdict = state.shown_code(shown.code), feedback.verdict(shown.result)
        if state.settings.focus_in_conversation:
            messages = prompts.focus_continued(state.opening, task.module_name, code, name, verdict, details)
        else:
            messages = prompts.focus_messages(task.module_name, code, name, verdict, details)
        return Ask(messages, whole_module=False, splice=(name, shown.code), reason="focus", function=name,
                   details=details)


@register_tactic("afresh", "with several candidates, one more writes the focused function from its header")
class Afresh(Tactic):
    """Beside a focused request, one more candidate asks for the function without its old body.

    Shown its own body, a small model often copies it back unchanged; shown only the header
    (the request's docstring when the code dropped it), it writes the function anew.
    """

    languages = frozenset({"python"})

    def extra_requests(self, ask: Ask, shown: Attempt, state: LoopState) -> list[Request]:
        if ask.reason != "focus" or ask.function is None or not state.several:
            return []
        assert shown.code is not None and shown.result is not None
        args = (state.task.module_name, state.shown_code(shown.code), ask.function, feedback.verdict(shown.result),
                ask.details, state.reference)
        if state.settings.focus_in_conversation:
            messages = prompts.afresh_continued(state.opening, *args)
        else:
            messages = prompts.afresh_messages(*args)
        if messages is None:
            return []
        return [Request(messages, state.hot, whole_module=False, splice=ask.splice, kind="afresh")]
