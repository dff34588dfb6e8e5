"""Writing a test file from the prompt, for the user to review before it becomes the judge."""

from __future__ import annotations

import ast
import re
import textwrap

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from code_generation.languages.base import TestFileError, TestGenerationError
from code_generation.languages.python import prompts
from code_generation.languages.python.extract import code_blocks, span
from code_generation.languages.python.skeleton import module_skeleton
from code_generation.languages.python.syntax_tree import definitions
from code_generation.languages.python.testspec import analyse_test_source
from code_generation.model_calls import call_model
from code_generation.sandbox.runner import SandboxLimits, SandboxResult, run_tests
from code_generation.types import Observer, Sandbox
from my_llm.models.usage import UsageTracker


def _pick_test_code(reply: str) -> str | None:
    blocks = code_blocks(reply)
    with_tests = [b for b in blocks if "unittest" in b or "def test" in b]
    if with_tests:
        return max(with_tests, key=len)
    return blocks[0] if blocks else None


def generate_test_file(
    prompt: str,
    module_name: str,
    test_filename: str,
    chat: BaseChatModel,
    usage: UsageTracker,
    observer: Observer,
    tries: int = 3,
    sandbox: Sandbox = run_tests,
    limits: SandboxLimits | None = None,
) -> str:
    """Ask for a unittest file until one can judge: it parses, imports `module_name`'s names,
    defines tests, and fails when those names are empty stubs (a test that passes on nothing
    proves nothing)."""
    messages: list[BaseMessage] = prompts.test_messages(prompt, module_name, test_filename)
    problem: str | None = "no reply"
    for number in range(1, tries + 1):
        observer.event(f"writing the test file (try {number}/{tries})")
        reply = call_model(chat, messages, f"tests-{number}", usage, observer)
        text = reply.text if not isinstance(reply.content, str) else reply.content
        code = _pick_test_code(text)
        if code is None:
            problem = "the reply contained no ```python code block"
        else:
            try:
                spec = analyse_test_source(code, module_name, test_filename)
            except TestFileError as exc:
                problem = str(exc)
            else:
                problem = _vacuous(code, module_name, test_filename, spec.imported_names, sandbox, limits)
                if problem is None:
                    return code.strip() + "\n"
        messages = prompts.test_retry_messages(messages, text, problem)
    raise TestGenerationError(
        f"the model wrote no usable test file in {tries} tries ({problem}): write {test_filename} yourself"
    )


def _vacuous(
    code: str, module_name: str, test_filename: str, names: list[str], sandbox: Sandbox, limits: SandboxLimits | None
) -> str | None:
    """Why the tests cannot judge, found by running them against empty stubs in the sandbox."""
    empty = module_skeleton(code, module_name, names, "")
    result = sandbox(empty, module_name, code, test_filename, limits=limits or SandboxLimits())
    if result.tests_run == 0:
        return f"no test ran ({result.status}): write unittest.TestCase methods named test_*"
    if result.success:
        return (
            "every test passes even when the functions do nothing: each test must assert the exact "
            "values the functions return for given inputs"
        )
    return None


_VERDICT = re.compile(r"VERDICT:\s*\**\s*(CODE|TEST)\b", re.IGNORECASE)


def _replacement(reply: str, method: str, indent: str) -> str | None:
    """The reply's new version of `method`, indented to sit where the old one was."""
    for block in code_blocks(reply):
        try:
            tree = ast.parse(textwrap.dedent(block))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == method:
                start, end = span(node)
                lines = textwrap.dedent(block).splitlines()[start - 1 : end]
                return textwrap.indent(textwrap.dedent("\n".join(lines)), indent)
    return None


def arbitrate(
    prompt: str,
    module_name: str,
    test_filename: str,
    test_source: str,
    code: str,
    result: SandboxResult,
    chat: BaseChatModel,
    usage: UsageTracker,
    observer: Observer,
    sandbox: Sandbox = run_tests,
    limits: SandboxLimits | None = None,
) -> str | None:
    """Ask the model whether the code or a generated test is wrong; the corrected test file, or None.

    Only for tests this run generated. A correction is kept only when it changes just that one
    test, leaves the other tests and imports as they were, and still fails on empty stubs: a
    test rewritten to pass on anything would make the judge worthless.
    """
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    if result.status != "ok" or not failing:
        return None  # a crash or a timeout is the code's problem, not a test's
    case = failing[0]
    tree = ast.parse(test_source)
    node = definitions(tree).get(case.name)  # "TestX.test_y", or "test_y" for a plain function
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    start, end = span(node)
    lines = test_source.splitlines()
    old = "\n".join(lines[start - 1 : end])
    messages = prompts.arbitrate_messages(prompt, module_name, code, case.name, textwrap.dedent(old), case.message[:1500])
    reply = call_model(chat, messages, "judge", usage, observer)
    text = reply.text if not isinstance(reply.content, str) else reply.content
    verdict = _VERDICT.search(text)
    if verdict is None or verdict[1].upper() == "CODE":
        observer.event(f"asked whether {case.name} or the code is wrong: {'the code' if verdict else 'no clear answer'}")
        return None
    new = _replacement(text, node.name, " " * node.col_offset)
    source, problem = _revise(new, old, lines, (start, end), case.name, test_source, module_name, test_filename,
                              sandbox, limits)
    if source is None:
        observer.event(f"the model judged {case.name} wrong, but its correction was refused: {problem}")
        return None
    observer.event(f"the model judged {case.name} wrong and corrected it (the test file was generated in this run)")
    return source


def _revise(
    new: str | None, old: str, lines: list[str], span: tuple[int, int], case_name: str, test_source: str,
    module_name: str, test_filename: str, sandbox: Sandbox, limits: SandboxLimits | None,
) -> tuple[str | None, str]:
    """The test file with `new` in place of `old`, or None and why the correction cannot be trusted."""
    if new is None:
        return None, "it held no corrected test method"
    if new.strip() == old.strip():
        return None, "it is the same test"
    start, end = span
    source = "\n".join([*lines[: start - 1], *new.splitlines(), *lines[end:]]) + "\n"
    try:
        before = analyse_test_source(test_source, module_name, test_filename)
        after = analyse_test_source(source, module_name, test_filename)
    except TestFileError as exc:
        return None, str(exc)
    if (after.test_count, after.imported_names) != (before.test_count, before.imported_names):
        return None, "it changed more than that one test"
    empty = module_skeleton(source, module_name, after.imported_names, "")
    on_stubs = sandbox(empty, module_name, source, test_filename, limits=limits or SandboxLimits())
    if not any(c.name == case_name and c.outcome in {"failed", "error"} for c in on_stubs.cases):
        return None, "it passes even when the functions do nothing"
    return source, ""
