"""Writing a test file from the prompt, for the user to review before it becomes the judge."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from code_generation import prompts
from code_generation.extract import code_blocks
from code_generation.loop import Observer, Sandbox, call_model
from code_generation.runner import SandboxLimits, run_tests
from code_generation.skeleton import module_skeleton
from code_generation.testspec import TestFileError, analyse_test_source
from my_llm.errors import MyLLMError
from my_llm.usage import UsageTracker


class TestGenerationError(MyLLMError):
    """The model did not produce a usable test file."""

    __test__ = False


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
    problem = "no reply"
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
