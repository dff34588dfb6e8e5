"""Tactics that add sentences to the feedback, naming what a failure message hides."""

from __future__ import annotations

from code_generation import feedback
from code_generation.loop_state import LoopState, Tactic, register_tactic


@register_tactic("type_note", "a value that differs only in type is named in a sentence")
class TypeNote(Tactic):
    """Under a failing ``X != Y``, a sentence when the values differ in type only.

    To a small model a tuple and a list with the same items read as equal; named, the
    difference is one fix.
    """

    def case_note(self, message: str, test_source: str, test_filename: str) -> str | None:
        return feedback.type_note(message, test_source, test_filename)


@register_tactic("stub_note", "functions left empty are named in the feedback")
class StubNote(Tactic):
    """The feedback names the functions whose body is still empty (they return None)."""

    def feedback_note(self, code: str, state: LoopState) -> str:
        return feedback.stub_note(code)


@register_tactic("ignored_note", "a parameter the code never reads, or overwrites first, is named")
class IgnoredNote(Tactic):
    """The feedback names each parameter a function never reads or overwrites before reading it.

    A function that ignores its argument passes no test that varies it, and the message of
    such a test does not say why.
    """

    def feedback_note(self, code: str, state: LoopState) -> str:
        return feedback.ignored_note(code)
