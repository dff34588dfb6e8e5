"""Rust test files written from the prompt, and generated tests judged wrong and corrected.

The same steps as Python's (code_generation/languages/python/testgen.py), with what Rust allows: a generated test
file must read as an integration test of the crate (``use <crate>::...``), define ``#[test]``
functions and check something in each. It cannot be run against empty stubs before any code
exists (the stubs' types are unknown until the model writes them), so that check is left to the
first attempt. A correction of a generated test is kept only when it changes that one test, keeps
the others and the imports, and still fails against the attempt with every function body
replaced by ``todo!()`` (rust/extract.py: stubbed), in the sandbox.
"""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from code_generation.languages.base import TestFileError, TestGenerationError
from code_generation.languages.rust import prompts, syntax, testfile
from code_generation.languages.rust.extract import code_blocks, stubbed
from code_generation.model_calls import call_model
from code_generation.sandbox.runner import SandboxLimits, SandboxResult
from code_generation.types import Observer, Sandbox
from my_llm.models.usage import UsageTracker

_CHECKS = re.compile(r"\b(assert\w*!|panic!|unreachable!|\.unwrap\(|\.expect\()")
_VERDICT = re.compile(r"VERDICT:\s*\**\s*(CODE|TEST)\b", re.IGNORECASE)


def _pick(reply: str) -> str | None:
    blocks = code_blocks(reply)
    with_tests = [b for b in blocks if "#[test]" in b]
    return max(with_tests, key=len) if with_tests else (blocks[0] if blocks else None)


def problem_with(code: str, crate: str, test_filename: str) -> str | None:
    """Why a generated test file cannot judge, or None."""
    try:
        tests = testfile.analyse(code, crate, label=test_filename)
    except TestFileError as exc:
        return str(exc)
    if tests.style != "integration" or tests.crate != crate:
        return f"it must use the crate under test as `use {crate}::...;`"
    for test in tests.tests:
        item = test.item
        assert item.body is not None
        if not test.should_panic and not _CHECKS.search(syntax.mask(code)[item.body[0]:item.body[1]]):
            return f"the test `{test.function}` checks nothing: each test needs assert_eq! or assert!"
    return None


def generate_test_file(prompt: str, crate: str, test_filename: str, chat: BaseChatModel, usage: UsageTracker,
                       observer: Observer, tries: int = 3) -> str:
    """Ask for an integration test file until one can judge."""
    messages: list[BaseMessage] = prompts.test_messages(prompt, crate, test_filename)
    problem: str | None = "no reply"
    for number in range(1, tries + 1):
        observer.event(f"writing the test file (try {number}/{tries})")
        reply = call_model(chat, messages, f"tests-{number}", usage, observer)
        text = reply.text if not isinstance(reply.content, str) else reply.content
        code = _pick(text)
        problem = "the reply contained no ```rust code block" if code is None else problem_with(code, crate,
                                                                                               test_filename)
        if code is not None and problem is None:
            return code.strip() + "\n"
        messages = prompts.test_retry_messages(messages, text, problem or "")
    raise TestGenerationError(
        f"the model wrote no usable test file in {tries} tries ({problem}): write {test_filename} yourself"
    )


def _replacement(reply: str, function: str) -> str | None:
    for block in code_blocks(reply):
        if any(i.kind == "fn" and i.name == function for _, i in syntax.walk(block)):
            return block
    return None


def arbitrate(prompt: str, crate: str, test_filename: str, test_source: str, code: str, result: SandboxResult,
              chat: BaseChatModel, usage: UsageTracker, observer: Observer, sandbox: Sandbox,
              limits: SandboxLimits) -> str | None:
    """Ask whether the code or a generated test is wrong; the corrected test file, or None."""
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    if result.status != "ok" or not failing:
        return None  # a compile error, a crash or a timeout is the code's problem
    case = failing[0]
    item = testfile.test_function(test_source, case.name)
    if item is None:
        return None
    old = test_source[item.keyword_at:item.end]
    messages = prompts.arbitrate_messages(prompt, crate, code, case.name, old, case.message[:1500])
    reply = call_model(chat, messages, "judge", usage, observer)
    text = reply.text if not isinstance(reply.content, str) else reply.content
    verdict = _VERDICT.search(text)
    if verdict is None or verdict[1].upper() == "CODE":
        observer.event(f"asked whether {case.name} or the code is wrong: {'the code' if verdict else 'no clear answer'}")
        return None
    new = _replacement(text, item.name)
    revised = testfile.replace_test(test_source, case.name, new) if new else None
    problem = _refused(revised, old, test_source, crate, test_filename, case.name, code, sandbox, limits)
    if problem is not None:
        observer.event(f"the model judged {case.name} wrong, but its correction was refused: {problem}")
        return None
    observer.event(f"the model judged {case.name} wrong and corrected it (the test file was generated in this run)")
    return revised


def _refused(revised: str | None, old: str, test_source: str, crate: str, test_filename: str, name: str,
             code: str, sandbox: Sandbox, limits: SandboxLimits) -> str | None:
    """Why a corrected test file cannot be trusted, or None."""
    if revised is None:
        return "it held no corrected test function"
    if old.strip() in revised and revised.strip() == test_source.strip():
        return "it is the same test"
    try:
        before, after = testfile.analyse(test_source, crate), testfile.analyse(revised, crate)
    except TestFileError as exc:
        return str(exc)
    same_uses = syntax.use_roots(syntax.mask(test_source)) == syntax.use_roots(syntax.mask(revised))
    if [t.name for t in after.tests] != [t.name for t in before.tests] or after.names != before.names \
            or not same_uses:
        return "it changed more than that one test"
    on_stubs = sandbox(stubbed(code), crate, revised, test_filename, limits=limits)
    if on_stubs.status != "ok":
        return f"it could not be checked against the code with empty bodies ({on_stubs.status})"
    if not any(c.name == name and c.outcome in {"failed", "error"} for c in on_stubs.cases):
        return "it passes even when the functions do nothing"
    return None
