"""Python: the target the engine was written for; every method is the code the loop always ran."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from code_generation.languages.base import CaseNote, Language, TestSpec, register_language
from code_generation.languages.blocks import Extraction
from code_generation.languages.python import (
    extract,
    feedback,
    inputs,
    prompts,
    static_checks,
    testgen,
)
from code_generation.languages.python.tactics import focus, notes, repairs, request, tracing  # noqa: F401  (registers them)
from code_generation.languages.python.testspec import analyse_test_source
from code_generation.sandbox.runner import SandboxLimits, SandboxResult, run_tests
from code_generation.types import CodeTask, Finding, LoopSettings, Observer, Sandbox, critical
from my_llm.errors import MyLLMError
from my_llm.models.usage import UsageTracker

# Where generation stops: the closing fence, a main guard, example or test code after the module.
STOP_SEQUENCES = ("\n```\n", "\nif __name__", "\n# Example", "\n# Test")


def plain_opening(task: CodeTask, spec: TestSpec, settings: LoopSettings) -> tuple[list[BaseMessage], str | None]:
    """The opening request without the skeleton tactic: the caller's skeleton, else the test file as it is."""
    has_code = "```" in task.prompt
    if task.skeleton is not None or (has_code and not settings.show_tests):
        messages = prompts.code_messages(task.prompt, task.module_name, task.test_filename, task.test_source,
                                         spec.imported_names, task.skeleton, settings.show_tests)
    else:
        messages = prompts.tests_messages(task.prompt, task.module_name, task.test_filename, task.test_source)
    return messages, task.skeleton


@register_language
class Python(Language):
    name = "python"
    extensions = (".py",)
    fence = "python"
    stop_sequences = STOP_SEQUENCES
    no_code = "the reply contained no Python code"

    def analyse_tests(self, test_source: str, module_name: str, test_filename: str) -> TestSpec:
        return analyse_test_source(test_source, module_name, test_filename)

    def module_name(self, output_file: Path, test_source: str | None, settings: Any = None,
                    label: str = "the test file") -> str:
        return output_file.stem

    def check_environment(self, settings: Any) -> None:
        if getattr(settings, "typecheck", False) and importlib.util.find_spec("mypy") is None:
            raise MyLLMError("--typecheck needs mypy, which is not installed: "
                             "pip install 'tdd-scriptgen[typecheck]' (or drop --typecheck)")

    def check_output(self, output: Path) -> None:
        inputs.check_output(output)

    def check_test_file(self, settings: Any) -> str | None:
        return inputs.check_test_file(settings)

    def opening(self, task: CodeTask, spec: TestSpec, settings: LoopSettings) -> tuple[list[BaseMessage], str | None]:
        return plain_opening(task, spec, settings)

    def cut_off_note(self, tokens: int) -> str:
        return prompts.CUT_OFF_NOTE.format(tokens=tokens)

    def render_findings(self, findings: list[Finding]) -> str:
        return static_checks.render(findings)

    def splice_function(self, module: str, reply: str, name: str) -> str | None:
        return extract.splice_function(module, reply, name)

    def extract(self, reply: str, task: CodeTask, spec: TestSpec) -> Extraction:
        return extract.extract_module(reply, task.module_name, spec.imported_names, spec.test_names)

    def static_findings(self, code: str, module_name: str, settings: LoopSettings) -> list[Finding]:
        """pyflakes (and mypy with `typecheck`) when asked; a critical finding skips mypy and the tests."""
        if not (settings.static_checks or settings.typecheck):
            return []
        findings = static_checks.check_module(code, f"{module_name}.py")
        if critical(findings):
            return findings
        if settings.typecheck:
            findings += static_checks.typecheck(code, module_name)
        return findings

    def make_sandbox(self, settings: LoopSettings) -> Sandbox:
        return run_tests

    def verdict(self, result: SandboxResult) -> str:
        return feedback.verdict(result)

    def details(self, result: SandboxResult, budget: int, test_source: str, test_filename: str,
                case_notes: Sequence[CaseNote] | None = None) -> str:
        return feedback.details(result, budget, test_source, test_filename, case_notes=case_notes)

    def missing_dependency(self, result: SandboxResult, module_name: str) -> str | None:
        return feedback.missing_module(result, module_name)

    def missing_note(self, name: str) -> str:
        return prompts.MISSING_MODULE_NOTE.format(name=name)

    def tampered_note(self, result: SandboxResult) -> str:
        return feedback.tampered_note(result)

    def feedback_messages(self, opening: list[BaseMessage], module_name: str, code: str, verdict: str,
                          details: str) -> list[BaseMessage]:
        return prompts.feedback_messages(opening, module_name, code, verdict, details)

    def continued_messages(self, history: list[BaseMessage], module_name: str, verdict: str,
                           details: str) -> list[BaseMessage]:
        return prompts.continued_messages(history, module_name, verdict, details)

    def no_code_messages(self, opening: list[BaseMessage], problem: str, module_name: str,
                         names: list[str]) -> list[BaseMessage]:
        return prompts.no_code_messages(opening, problem, module_name, names)

    def code_of_reply(self, reply: str) -> str | None:
        return prompts.code_of_reply(reply)

    def fenced_reply(self, reply: str) -> str | None:
        return prompts.fenced_reply(reply)

    def plan_messages(self, opening: list[BaseMessage], count: int, tried: Sequence[str]) -> list[BaseMessage] | None:
        return prompts.plan_messages(opening, count, tried)

    def planned_messages(self, opening: list[BaseMessage], plan: str) -> list[BaseMessage] | None:
        return prompts.planned_messages(opening, plan)

    def generate_tests(self, prompt: str, module_name: str, test_filename: str, chat: BaseChatModel,
                       usage: UsageTracker, observer: Observer, sandbox: Sandbox, limits: SandboxLimits) -> str:
        return testgen.generate_test_file(prompt, module_name, test_filename, chat, usage, observer,
                                          sandbox=sandbox, limits=limits)

    def arbitrate(self, prompt: str, module_name: str, test_filename: str, test_source: str, code: str,
                  result: SandboxResult, chat: BaseChatModel, usage: UsageTracker, observer: Observer,
                  sandbox: Sandbox, limits: SandboxLimits) -> str | None:
        return testgen.arbitrate(prompt, module_name, test_filename, test_source, code, result, chat, usage,
                                 observer, sandbox=sandbox, limits=limits)
