"""Every prompt template of the code generator, in one place.

The wording is tuned for small local models: one module, one fenced block, the exact names the
tests import, and an explicit list of the mistakes such models make (pasting the tests back,
importing the module from itself).
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

SYSTEM_CODER = (
    "You are an expert Python programmer. You write one complete, self-contained Python module "
    "that makes the user's unittest file pass. Reply with the whole module in a single "
    "```python code block. The module must not contain the tests, must not import itself, and "
    "must not call unittest.main() or run anything at import time. Use only the standard library."
)

CODE_REQUEST = """Write the Python module `{module_name}.py`.

Task: {prompt}

The module must pass this unittest file, `{test_filename}`:
```python
{test_source}
```

Define {names} at the top level of `{module_name}.py`, with the exact names and call signatures \
the tests use. Reply with the complete module in one ```python code block."""

FEEDBACK = """Your module `{module_name}.py` {verdict}.

This is the code that was tested:
```python
{code}
```

{details}

Rewrite `{module_name}.py` so that every test passes. Think about what the failing tests expect, \
keep what already works, and reply with the complete corrected module in one ```python code block."""

NO_CODE_FEEDBACK = """Your reply contained no Python code for `{module_name}.py`. Reply with the \
complete module in one ```python code block that defines {names}."""

SYSTEM_TESTER = (
    "You are an expert Python test engineer. You write a standard unittest test file for a module "
    "that does not exist yet. Use only the standard library. Expected values must be exactly "
    "right: prefer simple inputs whose results you are certain of. Reply with the whole test file "
    "in a single ```python code block."
)

TEST_REQUEST = """Write the unittest file `{test_filename}` for the module `{module_name}.py`.

Task the module must do: {prompt}

Rules:
- Import what you test with `from {module_name} import ...` (the module is `{module_name}`).
- One `unittest.TestCase` class with 3 to 6 focused `test_...` methods, including an edge case.
- End with `if __name__ == '__main__':` and `unittest.main()`.
Reply with the complete test file in one ```python code block."""

TEST_RETRY = """That test file cannot be used: {problem}. Write it again, following the rules. \
Reply with the complete test file in one ```python code block."""


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "the functions the tests use"


def code_messages(prompt: str, module_name: str, test_filename: str, test_source: str, names: list[str]) -> list[BaseMessage]:
    """The opening request for the module."""
    return [
        SystemMessage(SYSTEM_CODER),
        HumanMessage(
            CODE_REQUEST.format(
                module_name=module_name,
                prompt=prompt.strip(),
                test_filename=test_filename,
                test_source=test_source.strip(),
                names=_names(names),
            )
        ),
    ]


def feedback_messages(
    opening: list[BaseMessage], module_name: str, code: str, verdict: str, details: str
) -> list[BaseMessage]:
    """The request again, the attempt as the model's own answer, and what the tests said.

    Only the latest attempt is kept in the conversation: a small model's context stays short
    and it is not distracted by older, different failures.
    """
    return [
        *opening,
        AIMessage(f"```python\n{code.strip()}\n```"),
        HumanMessage(FEEDBACK.format(module_name=module_name, verdict=verdict, code=code.strip(), details=details)),
    ]


def no_code_messages(opening: list[BaseMessage], reply: str, module_name: str, names: list[str]) -> list[BaseMessage]:
    return [*opening, AIMessage(reply[:2000]), HumanMessage(NO_CODE_FEEDBACK.format(module_name=module_name, names=_names(names)))]


def test_messages(prompt: str, module_name: str, test_filename: str) -> list[BaseMessage]:
    return [
        SystemMessage(SYSTEM_TESTER),
        HumanMessage(TEST_REQUEST.format(test_filename=test_filename, module_name=module_name, prompt=prompt.strip())),
    ]


def test_retry_messages(previous: list[BaseMessage], reply: str, problem: str) -> list[BaseMessage]:
    return [*previous, AIMessage(reply[:4000]), HumanMessage(TEST_RETRY.format(problem=problem))]
