"""Tactics on the code itself: repaired after extraction, and restored before it is shown again."""

from __future__ import annotations

from code_generation import prompts
from code_generation.imports import add_missing_imports
from code_generation.loop_state import LoopState, Tactic, register_tactic


@register_tactic("imports", "imports the code forgot are added before the tests run")
class Imports(Tactic):
    """A name the code uses but never binds is bound before the test run.

    pyflakes finds the undefined name (it reads the syntax tree; nothing runs); the import the
    request's own code used binds it, else the standard-library module or well-known name it
    is. Small models tend to copy a broken import line back round after round.
    """

    def clean(self, code: str, state: LoopState) -> tuple[str, list[str]]:
        code, added = add_missing_imports(code, state.reference)
        return code, [f"added the missing `{statement}`" for statement in added]


@register_tactic("restore_docstrings", "the code is shown back with the request's docstrings")
class RestoreDocstrings(Tactic):
    """The feedback shows the attempt with the request's docstrings and examples put back.

    Small models "correct" the examples to match their wrong code, then trust them over the
    tests; the request's examples are the tests' own.
    """

    def shown_code(self, code: str, state: LoopState) -> str:
        return prompts.shown_code(code, state.reference)
