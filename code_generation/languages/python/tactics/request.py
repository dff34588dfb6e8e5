"""Tactics that shape the opening request and the start of each reply."""

from __future__ import annotations

from langchain_core.messages import BaseMessage

from code_generation.engine.loop_state import LoopState, Tactic, register_tactic
from code_generation.languages.python import prompts


@register_tactic("skeleton", "the tests shown as a skeleton of stubs with doctest examples")
class Skeleton(Tactic):
    """The request shows the module to write as stubs whose docstrings hold the tests as examples.

    Small code models are trained to complete a signature and a docstring; shown a unittest file
    instead, they tend to paste the tests back. A request that holds code of its own is sent as
    it is (its code, not the skeleton, is what the model completes).
    """

    languages = frozenset({"python"})

    def opening(self, state: LoopState) -> tuple[list[BaseMessage], str | None]:
        task, spec, settings = state.task, state.spec, state.settings
        opening = prompts.code_messages(
            task.prompt, task.module_name, task.test_filename, task.test_source, spec.imported_names, task.skeleton,
            settings.show_tests,
        )
        reference = task.skeleton if "```" in task.prompt else prompts.request_skeleton(
            task.prompt, task.module_name, task.test_source, spec.imported_names, task.skeleton
        )
        return opening, reference


@register_tactic("prefill", "whole-module replies start at the request's first empty body")
class Prefill(Tactic):
    """The reply is handed its start: the shown code up to its first empty body.

    A small model otherwise copies the whole skeleton back, docstrings and examples included,
    before its first line of code. Only for a model that continues a final assistant message
    (`LoopSettings.prefill`; None: the model says whether it does).
    """

    languages = frozenset({"python"})

    def reply_prefix(self, state: LoopState) -> str | None:
        enabled = state.settings.prefill
        if enabled is None:
            enabled = bool(getattr(state.chat, "continues_final_message", False))
        return prompts.reply_prefix(state.reference) if enabled else None
