"""Rust: a library crate (``src/lib.rs``) built and tested with cargo in the sandbox.

Which tactics apply: only those that do not read Python's syntax tree. ``restart`` (after
attempts without progress, a fresh hotter sample of the request) and ``append`` (feedback
extends the conversation, so llama.cpp's prompt cache serves it) are about the model, not the
language; ``compiler_fixes`` makes the fixes rustc suggests, as ``cargo fix`` does. The three
are Rust's default set (``append`` when the model's profile or the run asks for that
conversation). ``plan`` (extra candidates follow approaches the model first names in words) is
about the model too; it applies, chosen by name only. The skeleton request, the reply prefill,
the type note, combination, focus, afresh and the line tracer all work on Python's syntax tree or
its doctest examples; they are not applied to Rust, and asking for them is an input error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from code_generation.languages.base import CaseNote, Language, TestSpec, register_language
from code_generation.languages.blocks import Extraction
from code_generation.languages.rust import (
    cargo_runner,
    compiler_fixes,  # noqa: F401  (registers the tactic)
    crates,
    extract,
    feedback,
    inputs,
    prompts,
    syntax,
    testfile,
    testgen,
)
from code_generation.sandbox.runner import SandboxLimits, SandboxResult
from code_generation.types import CodeTask, LoopSettings, Observer, Sandbox
from my_llm.models.usage import UsageTracker

# The closing fence, and where a small model goes on after the library: main, its own tests, examples.
STOP_SEQUENCES = ("\n```\n", "\nfn main(", "\n#[cfg(test)]", "\n// Example")


def _available(settings: Any) -> frozenset[str]:
    """The crates of the offline source the settings choose: dependencies, not the crate under test."""
    source = crates.offline_source(getattr(settings, "crate_source", None))
    return frozenset(source.crates) if source is not None else frozenset()


def _dependencies(test_source: str, crate: str) -> frozenset[str]:
    """Every crate the test file names but `crate`: module_name chose the crate under test with the
    settings' offline source, so the others are its dependencies (analyse_tests is given no
    settings; a unit-style file with ``use regex::Regex`` is not an integration test of regex)."""
    return frozenset(testfile.crate_candidates(syntax.mask(test_source), stem=crate)) - {crate}


@register_language
class Rust(Language):
    name = "rust"
    extensions = (".rs",)
    fence = "rust"
    stop_sequences = STOP_SEQUENCES
    tactics = frozenset({"compiler_fixes", "restart", "append", "plan"})
    default_tactics = ("compiler_fixes", "restart", "append")
    no_code = "the reply contained no Rust code"
    needs = "cargo"
    # A whole crate with its types and error handling runs past the embedded model's default 1,024
    # tokens more often than a Python module does; a cut reply is an unclosed delimiter, not code.
    reply_tokens = 2048

    def analyse_tests(self, test_source: str, module_name: str, test_filename: str) -> TestSpec:
        tests = testfile.analyse(test_source, module_name, _dependencies(test_source, module_name),
                                 label=test_filename)
        return TestSpec(module_name, tests.names, {t.function for t in tests.tests}, len(tests.tests))

    def module_name(self, output_file: Path, test_source: str | None, settings: Any = None,
                    label: str = "the test file") -> str:
        """The crate's name (docs/rust.md: the test file's paths, else the output's stem or folder)."""
        if test_source is None:
            return testfile.crate_name(None, output_file)
        tests = testfile.analyse(test_source, output_file.stem, _available(settings), label)
        return testfile.crate_name(tests, output_file)

    def default_test_file(self, output_file: Path) -> Path:
        """``<crate>/tests/test_<stem>.rs`` for a ``<crate>/src/*.rs`` output, where cargo finds
        integration tests (generated tests are written in that style); else beside the output."""
        if output_file.parent.name == "src":
            return output_file.parent.parent / "tests" / f"test_{output_file.name}"
        return super().default_test_file(output_file)

    def check_environment(self, settings: Any) -> None:
        cargo_runner.find_toolchain()
        crates.offline_source(getattr(settings, "crate_source", None))

    def check_output(self, output: Path) -> None:
        inputs.check_output(output)

    def check_test_file(self, settings: Any) -> str | None:
        return inputs.check_test_file(settings, self)

    def opening(self, task: CodeTask, spec: TestSpec, settings: LoopSettings) -> tuple[list[BaseMessage], str | None]:
        tests = testfile.analyse(task.test_source, task.module_name, _available(settings), label=task.test_filename)
        source = crates.offline_source(settings.crate_source)
        text = f"{task.prompt}\n{task.test_source}"
        mentioned = [c for c in (source.names if source else []) if re.search(rf"\b{re.escape(c)}\b", text)]
        messages = prompts.code_messages(task.prompt, task.module_name, task.test_filename, task.test_source,
                                         tests.style, mentioned)
        return messages, None

    def cut_off_note(self, tokens: int) -> str:
        return prompts.CUT_OFF_NOTE.format(tokens=tokens)

    def extract(self, reply: str, task: CodeTask, spec: TestSpec) -> Extraction:
        return extract.extract_module(reply, task.module_name, spec.imported_names)

    def make_sandbox(self, settings: LoopSettings) -> Sandbox:
        return cargo_runner.CargoSandbox(crates.offline_source(settings.crate_source))

    def verdict(self, result: SandboxResult) -> str:
        return feedback.verdict(result)

    def details(self, result: SandboxResult, budget: int, test_source: str, test_filename: str,
                case_notes: Sequence[CaseNote] | None = None) -> str:
        return feedback.details(result, budget)

    def missing_dependency(self, result: SandboxResult, module_name: str) -> str | None:
        return feedback.missing_crate(result)

    def missing_note(self, name: str) -> str:
        return prompts.MISSING_CRATE_NOTE.format(name=name)

    def tampered_note(self, result: SandboxResult) -> str:
        return feedback.tampered_note(result)

    def feedback_messages(self, opening: list[BaseMessage], module_name: str, code: str, verdict: str,
                          details: str) -> list[BaseMessage]:
        return prompts.feedback_messages(opening, code, verdict, details)

    def continued_messages(self, history: list[BaseMessage], module_name: str, verdict: str,
                           details: str) -> list[BaseMessage]:
        return prompts.continued_messages(history, verdict, details)

    def no_code_messages(self, opening: list[BaseMessage], problem: str, module_name: str,
                         names: list[str]) -> list[BaseMessage]:
        return prompts.no_code_messages(opening, problem, names)

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
        return testgen.generate_test_file(prompt, module_name, test_filename, chat, usage, observer)

    def arbitrate(self, prompt: str, module_name: str, test_filename: str, test_source: str, code: str,
                  result: SandboxResult, chat: BaseChatModel, usage: UsageTracker, observer: Observer,
                  sandbox: Sandbox, limits: SandboxLimits) -> str | None:
        return testgen.arbitrate(prompt, module_name, test_filename, test_source, code, result, chat, usage,
                                 observer, sandbox, limits)
