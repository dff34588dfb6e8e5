"""Tactics that add sentences to the feedback, naming what a failure message hides."""

from __future__ import annotations

from code_generation.engine.loop_state import Tactic, register_tactic
from code_generation.languages.python import feedback


@register_tactic("type_note", "a value that differs only in type is named in a sentence")
class TypeNote(Tactic):
    """Under a failing ``X != Y``, a sentence when the values differ in type only.

    To a small model a tuple and a list with the same items read as equal; named, the
    difference is one fix.
    """

    languages = frozenset({"python"})

    def case_note(self, message: str, test_source: str, test_filename: str) -> str | None:
        return feedback.type_note(message, test_source, test_filename)
