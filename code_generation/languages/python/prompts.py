"""Every prompt template of the code generator, in one place.

The wording is tuned for small local models: one module, one fenced block, the exact names the
tests import, and an explicit list of the mistakes such models make (pasting the tests back,
importing the module from itself).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from code_generation.languages.base import plan_request, planned_request
from code_generation.languages.python.skeleton import module_skeleton
from code_generation.languages.python.syntax_tree import header, is_empty_body, split_function

# The tests are shown as a skeleton with doctest examples (see code_generation/languages/python/skeleton.py):
# a small model pastes a unittest file back, but completes a skeleton the way it was trained to.
CODE_REQUEST = """Complete the following Python module `{module_name}.py`. Implement every function \
and method so that all the examples in the docstrings hold: the tests in `{test_filename}` check \
exactly these. Use only the standard library, and do not add tests or code that runs on import.

```python
{skeleton}
```

Reply with the complete module `{module_name}.py` in one ```python code block."""

# Without the skeleton tactic: the request and the test file as they are.
CODE_REQUEST_TESTS = """{prompt}

Write the Python module `{module_name}.py` so that every test in `{test_filename}` passes. Use only \
the standard library, and do not add tests or code that runs on import.

```python
{test_source}
```

Reply with the complete module `{module_name}.py` in one ```python code block."""

# A request holding its own code, with the tests left unseen (HumanEval as pass@1 papers ask it).
CODE_REQUEST_CODE_ONLY = """{prompt}

Reply with the complete module `{module_name}.py` in one ```python code block."""

CODE_REQUEST_WITH_CODE = """{prompt}

The module is `{module_name}.py`, and the tests in `{test_filename}` check these examples:

```python
{skeleton}
```

Reply with the complete module `{module_name}.py` in one ```python code block."""

# The code tested is the model's own last message just above: repeated here, every feedback
# round would send it twice (the cost is in docs/tactics.md).
FEEDBACK = """Your module `{module_name}.py` above {verdict}.

{details}

Rewrite `{module_name}.py` so that every test passes. Think about what the failing tests expect, \
keep what already works, and reply with the complete corrected module in one ```python code block."""

# When failing tests point at one function, that function is asked for alone: rewriting the
# whole module, a small model often breaks the functions that already pass.
_FOCUS_HEAD = """Your module `{module_name}.py` {verdict}. The failing tests below point at \
`{name}`; the rest of the module is:

```python
{context}
```

{details}

"""

FOCUS_FUNCTION = _FOCUS_HEAD + """Rewrite {what} below so that these tests pass. Think about what the failing tests \
expect. Reply with the complete {kind} `{short}` in one ```python code block.

```python
{function}
```"""

# The same request without the old body: shown its own code, a small model often copies it
# back unchanged, so one candidate of a focused round writes the function afresh from its header.
FOCUS_AFRESH = _FOCUS_HEAD + """Write {what} again from scratch, so that these tests pass and the tests that already pass keep \
passing. Reply with the complete {kind} `{short}` in one ```python code block.

```python
{header}
```"""

# The same two requests as the conversation's next turn (`LoopSettings.focus_in_conversation`):
# the request and the attempt stay where they were, so the runtime's prompt cache serves them,
# and the model sees the task's own words, which the forms above leave out.
FOCUS_CONTINUED = """Your module `{module_name}.py` above {verdict}. The failing tests below point at `{name}`.

{details}

Rewrite only {what} so that these tests pass. Think about what the failing tests expect. Reply with \
the complete {kind} `{short}` alone in one ```python code block."""

AFRESH_CONTINUED = """Your module `{module_name}.py` above {verdict}. The failing tests below point at `{name}`.

{details}

Write {what} again from scratch, so that these tests pass and the tests that already pass keep \
passing. Reply with the complete {kind} `{short}` alone in one ```python code block, starting from:

```python
{header}
```"""

# Any language: a reply that ran into the token limit ends mid-code, and its errors say little.
CUT_OFF_NOTE = """Your reply was cut off at the length limit ({tokens} tokens) before the code was \
complete, so what follows is about unfinished code. Write the whole code again, shorter: no comments \
beyond what is needed, no explanations, no examples or tests."""

MISSING_MODULE_NOTE = """The package `{name}` is not installed where the tests run. Use only the \
Python standard library instead."""

# A module that makes the tests pass by changing unittest, the harness or builtins, by reading
# the tests' frames or memory (the sandbox's audit hook refuses it), or by returning values that
# compare equal to anything, is rejected; the model is told so plainly, with the sandbox's reason.
TAMPERED_NOTE = """Do not modify the testing framework (unittest, the test runner, builtins, the test \
file or its report), do not inspect the tests or the harness (stack frames, the garbage collector, \
ctypes, the process's memory), and do not return objects that compare equal to anything: write code \
that computes the right results. The sandbox rejected the module because {reason}"""

NO_CODE_FEEDBACK = """Your last reply could not be used: {problem}. Reply with the complete module `{module_name}.py` in \
one ```python code block that implements {names}; do not repeat the tests."""

# The `plan` tactic (issue 29): repeated samples of one request give the 1.5B the same program, so
# the extra candidates first get different approaches in words (PlanSearch, 2024), one each.
PLAN_REQUEST = """{request}

{tried}Do not write any code yet. Describe {count} different approaches to this task, numbered 1 to \
{count}: each a different algorithm or way to structure the code, in one or two sentences of plain \
words, without code."""

PLAN_TRIED = """These approaches were tried already and did not pass the tests:
{tried}
Each new approach must differ from them.

"""

USE_APPROACH = "Use this approach: {plan}"

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

# @pseudo_function's test file: the docstring's examples, run by the standard doctest module.
DOCTEST_FILE = """import doctest
import unittest

from {module_name} import {name}

EXAMPLES = {examples!r}


class TestDocstringExamples(unittest.TestCase):
    def test_docstring_examples(self):
        test = doctest.DocTestParser().get_doctest(EXAMPLES, {{"{name}": {name}}}, "{name}", None, 0)
        lines = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        result = runner.run(test, out=lines.append)
        self.assertGreater(result.attempted, 0, "the docstring has no examples")
        self.assertEqual(result.failed, 0, "".join(lines))


if __name__ == "__main__":
    unittest.main()
"""

REVIEW_NOTE = "    # Reviewer's request for this function: {feedback}"

TEST_RETRY = """That test file cannot be used: {problem}. Write it again, following the rules. \
Reply with the complete test file in one ```python code block."""


# When generated tests and the code keep disagreeing, one of them is wrong (the Rust tool's decision).
ARBITRATE = """A module and its unittest file were both written by a model, and one failing test keeps \
disagreeing with the module. One of the two is wrong.

Task the module must do: {prompt}

The module `{module_name}.py`:
```python
{code}
```

The failing test `{test_name}`:
```python
{test_code}
```

The test run said:
{failure}

Work out by hand, from the task alone, what the correct result is for the test's inputs. Then \
answer on the first line with exactly `VERDICT: CODE` if the module is wrong, or `VERDICT: TEST` \
if the test expects a wrong result. If the test is wrong, follow with the corrected method \
`{method}` (same name, same inputs, the correct expected values) in one ```python code block."""


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "the functions the tests use"


def request_skeleton(
    prompt: str, module_name: str, test_source: str, names: list[str], skeleton: str | None = None
) -> str:
    """The skeleton the opening request shows (a request holding code is shown beside it, not in it)."""
    if skeleton is not None:
        return skeleton
    return module_skeleton(test_source, module_name, names, "" if "```" in prompt else prompt.strip())


def code_messages(
    prompt: str, module_name: str, test_filename: str, test_source: str, names: list[str], skeleton: str | None = None,
    show_tests: bool = False,
) -> list[BaseMessage]:
    """The opening request: the module's skeleton, with the tests as docstring examples.

    A caller that already has the skeleton (``@pseudo_function``: the user's own signature and
    docstring) passes it; otherwise it is built from the tests. A request that holds code of its
    own is sent without the tests' examples unless ``show_tests``.
    """
    has_code = "```" in prompt and skeleton is None
    skeleton = request_skeleton(prompt, module_name, test_source, names, skeleton)
    template = CODE_REQUEST_WITH_CODE if has_code else CODE_REQUEST
    if has_code and not show_tests:
        template = CODE_REQUEST_CODE_ONLY
    request = template.format(
        prompt=prompt.strip(), module_name=module_name, test_filename=test_filename, skeleton=skeleton.strip()
    )
    # No system message: small chat models do best with the default their template puts there.
    return [HumanMessage(request)]


def tests_messages(prompt: str, module_name: str, test_filename: str, test_source: str) -> list[BaseMessage]:
    """The opening request that shows the test file itself (the skeleton tactic turned off)."""
    return [HumanMessage(CODE_REQUEST_TESTS.format(
        prompt=prompt.strip(), module_name=module_name, test_filename=test_filename, test_source=test_source.strip(),
    ))]


def reply_prefix(skeleton: str | None) -> str | None:
    """The start of a whole-module reply, written for the model: the skeleton up to its first empty body.

    A small model copies the skeleton back before the first line of code, docstrings and
    examples included, which is most of its output. A model that continues a
    final assistant message (llama.cpp does) starts at the first body instead. None when the
    skeleton has no empty function to start in.
    """
    if not skeleton:
        return None
    try:
        tree = ast.parse(skeleton)
    except SyntaxError:
        return None
    nodes = [n for top in tree.body for n in ([top, *top.body] if isinstance(top, ast.ClassDef) else [top])]
    first = next((n for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and is_empty_body(n)), None)
    if first is None:
        return None
    body = first.body[0]
    docstring = isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant) and isinstance(body.value.value, str)
    end = (body.end_lineno or body.lineno) if docstring else body.lineno - 1
    if end < first.lineno:  # a one-line stub: `def f(): ...`
        return None
    lines = skeleton.splitlines(keepends=True)[:end]
    return "```python\n" + "".join(lines).rstrip("\n") + "\n"


def answered(code: str) -> AIMessage:
    """The attempt as the model's answer in a conversation: every request that follows it shows it
    the same way, so the runtime's prompt cache serves it for all of them."""
    return AIMessage(f"```python\n{code.strip()}\n```")


def feedback_messages(
    opening: list[BaseMessage], module_name: str, code: str, verdict: str, details: str
) -> list[BaseMessage]:
    """The request again, the attempt as the model's own answer, and what the tests said.

    Only the latest attempt is kept in the conversation: a small model's context stays short
    and it is not distracted by older, different failures.
    """
    return [
        *opening,
        answered(code),
        HumanMessage(FEEDBACK.format(module_name=module_name, verdict=verdict, details=details)),
    ]


def continued_messages(history: list[BaseMessage], module_name: str, verdict: str, details: str) -> list[BaseMessage]:
    """The conversation so far, extended by what the tests said: nothing earlier is rewritten,
    so the runtime serves the whole history from its prompt cache."""
    return [*history, HumanMessage(FEEDBACK.format(module_name=module_name, verdict=verdict, details=details))]


_FIRST_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


def code_of_reply(reply: str) -> str | None:
    """The first fenced code block of a reply (closed or not), stripped."""
    match = _FIRST_BLOCK.search(reply)
    return match.group(1).strip() if match else None


def fenced_reply(reply: str) -> str | None:
    """The reply as the model wrote it, with the closing fence its stop sequence cut off.

    None when it holds no fenced block. Kept byte for byte otherwise: a prompt that repeats the
    model's own tokens finds them in the runtime's cache.
    """
    if code_of_reply(reply) is None:
        return None
    if reply.count("```") % 2 == 1:  # opened and never closed: generation stopped at the fence
        return reply.rstrip("\n") + "\n```"
    return reply


def _naming(name: str) -> dict[str, str]:
    """How a request names a function or a ``"Class.method"``."""
    owner, _, short = name.rpartition(".")
    if owner:
        return {"what": f"the method `{short}` of the class `{owner}`", "kind": "method", "short": short}
    return {"what": f"the function `{name}`", "kind": "function", "short": name}


def focus_messages(module_name: str, code: str, name: str, verdict: str, details: str) -> list[BaseMessage]:
    """A fresh conversation about the one function the failing tests point at; its reply is spliced into `code`."""
    context, function = split_function(code, name)
    return [HumanMessage(FOCUS_FUNCTION.format(
        module_name=module_name, context=context.strip(), name=name, verdict=verdict, details=details,
        function=function.strip(), **_naming(name),
    ))]


def afresh_messages(
    module_name: str, code: str, name: str, verdict: str, details: str, skeleton: str | None = None,
) -> list[BaseMessage] | None:
    """Like `focus_messages`, with only the function's header shown; None when it has none.

    A header without a docstring is the skeleton's instead, when that has one: written afresh,
    the function has nothing else to go on but its name.
    """
    context, _ = split_function(code, name)
    head = _fresh_header(code, name, skeleton)
    if not head:
        return None
    return [HumanMessage(FOCUS_AFRESH.format(
        module_name=module_name, context=context.strip(), name=name, verdict=verdict, details=details,
        header=head.strip(), **_naming(name),
    ))]


def focus_continued(opening: list[BaseMessage], module_name: str, code: str, name: str, verdict: str,
                    details: str) -> list[BaseMessage]:
    """`focus_messages` as the next turn after the attempt, which the conversation shows as the model's answer."""
    return [*opening, answered(code), HumanMessage(FOCUS_CONTINUED.format(
        module_name=module_name, name=name, verdict=verdict, details=details, **_naming(name),
    ))]


def afresh_continued(
    opening: list[BaseMessage], module_name: str, code: str, name: str, verdict: str, details: str,
    skeleton: str | None = None,
) -> list[BaseMessage] | None:
    """`afresh_messages` as the next turn after the attempt; None when the function has no header."""
    head = _fresh_header(code, name, skeleton)
    if not head:
        return None
    return [*opening, answered(code), HumanMessage(AFRESH_CONTINUED.format(
        module_name=module_name, name=name, verdict=verdict, details=details, header=head.strip(), **_naming(name),
    ))]


def _fresh_header(code: str, name: str, skeleton: str | None) -> str:
    """The function's header; the skeleton's when that has a docstring and the code's has none."""
    head = header(code, name)
    if skeleton and not _documented(head) and _documented(spec := header(skeleton, name)):
        return spec
    return head


def _documented(head: str) -> bool:
    try:
        tree = ast.parse(head)
    except SyntaxError:
        return False
    first = tree.body[0] if tree.body else None
    return isinstance(first, ast.FunctionDef | ast.AsyncFunctionDef) and ast.get_docstring(first) is not None


def no_code_messages(opening: list[BaseMessage], problem: str, module_name: str, names: list[str]) -> list[BaseMessage]:
    """Ask again without echoing the unusable reply: a small model would copy it once more."""
    reminder = NO_CODE_FEEDBACK.format(problem=problem, module_name=module_name, names=_names(names))
    return [*opening[:-1], HumanMessage(f"{opening[-1].content}\n\n{reminder}")]


def plan_messages(opening: list[BaseMessage], count: int, tried: Sequence[str] = ()) -> list[BaseMessage]:
    """The opening request asking for approaches in words instead of the module."""
    return plan_request(opening, count, tried, PLAN_REQUEST, PLAN_TRIED)


def planned_messages(opening: list[BaseMessage], plan: str) -> list[BaseMessage]:
    """The opening request, then the approach to follow."""
    return planned_request(opening, plan, USE_APPROACH)


def test_messages(prompt: str, module_name: str, test_filename: str) -> list[BaseMessage]:
    return [
        SystemMessage(SYSTEM_TESTER),
        HumanMessage(TEST_REQUEST.format(test_filename=test_filename, module_name=module_name, prompt=prompt.strip())),
    ]


def test_retry_messages(previous: list[BaseMessage], reply: str, problem: str) -> list[BaseMessage]:
    return [*previous, AIMessage(reply[:4000]), HumanMessage(TEST_RETRY.format(problem=problem))]


def arbitrate_messages(
    prompt: str, module_name: str, code: str, test_name: str, test_code: str, failure: str
) -> list[BaseMessage]:
    method = test_name.rsplit(".", 1)[-1]
    return [HumanMessage(ARBITRATE.format(
        prompt=prompt.strip(), module_name=module_name, code=code.strip(), test_name=test_name,
        test_code=test_code.strip(), failure=failure.strip(), method=method,
    ))]
