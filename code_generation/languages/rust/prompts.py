"""Every prompt template of the Rust path, in one place (the Python ones are in code_generation/languages/python/prompts.py).

The same shape as Python's, for the same small models: one module (``src/lib.rs``), one fenced
```rust block, the exact names the tests use, no ``main`` and no tests of its own, and the
compiler's own words in the feedback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from code_generation.languages.base import plan_request, planned_request

FENCE = "rust"

CODE_REQUEST = """{prompt}

Write the Rust library `src/lib.rs` of the crate `{crate}` so that every test in `{test_filename}` passes. \
{placement} {crates} Make the items the tests use `pub`, put everything in this one file (no `mod name;` \
declarations of other files), and do not write a `main` function, tests or example usage.

```rust
{test_source}
```

Reply with the complete `src/lib.rs` in one ```rust code block."""

PLACEMENT = {
    "integration": "The tests are an integration test: they use the crate as `{crate}::...`.",
    "unit": "The tests are compiled into the same file, after your code, as a `#[cfg(test)]` module that \
uses `super::*`.",
}

STD_ONLY = "Use only the Rust standard library."
WITH_CRATES = "Use the Rust standard library; these crates are available too: {names}."

# The code tested is the model's own last message above it (as for Python, not repeated here).
FEEDBACK = """Your `src/lib.rs` above {verdict}.

{details}

Rewrite `src/lib.rs` so that it compiles and every test passes. Think about what the failing tests \
expect, keep what already works, and reply with the complete corrected `src/lib.rs` in one ```rust \
code block."""

NO_CODE_FEEDBACK = """Your last reply could not be used: {problem}. Reply with the complete `src/lib.rs` \
in one ```rust code block that implements {names}; do not repeat the tests and do not write a `main` \
function."""

MISSING_CRATE_NOTE = """The crate `{name}` is not available where the tests run (they build offline, \
without crates.io). Use only the Rust standard library instead."""

UNSAFE_NOTE = """Unsafe code is not allowed here (the crate is built with `unsafe_code` forbidden): \
write it in safe Rust."""

TAMPERED_NOTE = """Do not interfere with the tests (their process, their output or the way they are \
run), and do not return values that compare equal to anything: write code that computes the right \
results. The sandbox rejected the module because {reason}"""

# The `plan` tactic (issue 29): repeated samples of one request give the 1.5B the same program, so
# the extra candidates first get different approaches in words (PlanSearch, 2024), one each.
PLAN_REQUEST = """{request}

{tried}Do not write any code yet. Describe {count} different approaches to this task, numbered 1 to \
{count}: each a different algorithm, data structure or way to structure the library, in one or two \
sentences of plain words, without code."""

PLAN_TRIED = """These approaches were tried already and did not pass the tests:
{tried}
Each new approach must differ from them.

"""

USE_APPROACH = "Use this approach: {plan}"

SYSTEM_TESTER = (
    "You are an expert Rust test engineer. You write an integration test file for a library crate "
    "that does not exist yet. Use only the standard library. Expected values must be exactly right: "
    "prefer simple inputs whose results you are certain of. Reply with the whole test file in a single "
    "```rust code block."
)

TEST_REQUEST = """Write the Rust integration test file `{test_filename}` for the library crate `{crate}`.

Task the crate must do: {prompt}

Rules:
- Import what you test with `use {crate}::...;` (the crate is `{crate}`).
- 3 to 6 focused `#[test]` functions, each with `assert_eq!` or `assert!` checks, including an edge case.
- No `main` function, no `mod` blocks, no other crates.
Reply with the complete test file in one ```rust code block."""

TEST_RETRY = """That test file cannot be used: {problem}. Write it again, following the rules. \
Reply with the complete test file in one ```rust code block."""

# Generated tests and the code keep disagreeing: one of them is wrong (the seed's decision step).
ARBITRATE = """A Rust library and its test file were both written by a model, and one failing test keeps \
disagreeing with the library. One of the two is wrong.

Task the library must do: {prompt}

The library `src/lib.rs` of the crate `{crate}`:
```rust
{code}
```

The failing test `{test_name}`:
```rust
{test_code}
```

The test run said:
{failure}

Work out by hand, from the task alone, what the correct result is for the test's inputs. Then \
answer on the first line with exactly `VERDICT: CODE` if the library is wrong, or `VERDICT: TEST` \
if the test expects a wrong result. If the test is wrong, follow with the corrected test function \
`{function}` (same name, same inputs, the correct expected values) in one ```rust code block."""


def crates_line(available: list[str]) -> str:
    return WITH_CRATES.format(names=", ".join(f"`{n}`" for n in available)) if available else STD_ONLY


def code_messages(prompt: str, crate: str, test_filename: str, test_source: str, style: str,
                  available: list[str]) -> list[BaseMessage]:
    """The opening request: the task, the tests as they are, and where they will be compiled."""
    return [HumanMessage(CODE_REQUEST.format(
        prompt=prompt.strip(), crate=crate, test_filename=test_filename, test_source=test_source.strip(),
        placement=PLACEMENT[style].format(crate=crate), crates=crates_line(available),
    ))]


def feedback_messages(opening: list[BaseMessage], code: str, verdict: str, details: str) -> list[BaseMessage]:
    """The request again, the attempt as the model's own answer, and what cargo said."""
    return [*opening, AIMessage(f"```rust\n{code.strip()}\n```"),
            HumanMessage(FEEDBACK.format(verdict=verdict, details=details))]


def continued_messages(history: list[BaseMessage], verdict: str, details: str) -> list[BaseMessage]:
    return [*history, HumanMessage(FEEDBACK.format(verdict=verdict, details=details))]


def no_code_messages(opening: list[BaseMessage], problem: str, names: list[str]) -> list[BaseMessage]:
    listed = ", ".join(f"`{n}`" for n in names) if names else "the items the tests use"
    reminder = NO_CODE_FEEDBACK.format(problem=problem, names=listed)
    return [*opening[:-1], HumanMessage(f"{opening[-1].content}\n\n{reminder}")]


_FIRST_BLOCK = re.compile(r"```(?:rust|rs)?[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


def code_of_reply(reply: str) -> str | None:
    """The first fenced code block of a reply (closed or not), stripped."""
    match = _FIRST_BLOCK.search(reply)
    return match.group(1).strip() if match else None


def fenced_reply(reply: str) -> str | None:
    """The reply as the model wrote it, its closing fence (cut by a stop sequence) put back."""
    if code_of_reply(reply) is None:
        return None
    return reply.rstrip("\n") + "\n```" if reply.count("```") % 2 == 1 else reply


def plan_messages(opening: list[BaseMessage], count: int, tried: Sequence[str] = ()) -> list[BaseMessage]:
    """The opening request asking for approaches in words instead of the library."""
    return plan_request(opening, count, tried, PLAN_REQUEST, PLAN_TRIED)


def planned_messages(opening: list[BaseMessage], plan: str) -> list[BaseMessage]:
    """The opening request, then the approach to follow."""
    return planned_request(opening, plan, USE_APPROACH)


def test_messages(prompt: str, crate: str, test_filename: str) -> list[BaseMessage]:
    return [SystemMessage(SYSTEM_TESTER),
            HumanMessage(TEST_REQUEST.format(test_filename=test_filename, crate=crate, prompt=prompt.strip()))]


def test_retry_messages(previous: list[BaseMessage], reply: str, problem: str) -> list[BaseMessage]:
    return [*previous, AIMessage(reply[:4000]), HumanMessage(TEST_RETRY.format(problem=problem))]


def arbitrate_messages(prompt: str, crate: str, code: str, test_name: str, test_code: str,
                       failure: str) -> list[BaseMessage]:
    return [HumanMessage(ARBITRATE.format(
        prompt=prompt.strip(), crate=crate, code=code.strip(), test_name=test_name, test_code=test_code.strip(),
        failure=failure.strip(), function=test_name.rsplit("::", 1)[-1],
    ))]

# The same words as Python's: a cut-off reply is about length, not the language.
CUT_OFF_NOTE = """Your reply was cut off at the length limit ({tokens} tokens) before the code was \
complete, so what follows is about unfinished code. Write the whole code again, shorter: no comments \
beyond what is needed, no explanations, no examples or tests."""
