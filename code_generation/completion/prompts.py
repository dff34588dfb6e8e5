"""Every prompt template of file completion, in one place (the engine's are in code_generation/languages/python/prompts.py).

Two shapes of request. A model that continues a final assistant message (the embedded
llama.cpp one) is handed the start of its reply: an opening fence and the file up to the
insertion point, so it writes on from the cursor exactly as a code model is trained to, and
the code after the cursor is shown in the request so it does not write it again. Other models
(OpenAI's API cannot be prefilled) see the file with a marker and are asked for only the code
that goes there. Feedback shows the model its own completed file and what the analyzers found,
each finding with the line it is about.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from code_generation.completion.analysis import Analysis

CURSOR = "<CURSOR>"
MAX_SHOWN_CHARS = 24_000  # of the file before the cursor (about 6,000 tokens); older lines are left out

CONTINUE_REQUEST = """Continue the Python file `{name}` from where it stops.{task} Write working code \
that fits the rest of the file: use only names that exist in the modules it imports, call functions \
with the arguments their signatures take, and do not add tests, prints or example calls.{after}

Reply with the file in one ```python code block."""

AFTER = """

This code comes after the point where you write, and is already in the file (do not repeat it):

```python
{suffix}
```"""

INSERT_REQUEST = """Here is the Python file `{name}`; {CURSOR} marks where code is missing.{task}

```python
{file}
```

Write the code that goes at {CURSOR}: working code that fits the rest of the file, using only names \
that exist in the modules it imports and calling functions with the arguments their signatures take. \
Reply with only that code, indented as it must appear in the file, in one ```python code block."""

FEEDBACK = """Checking your code at lines {first}-{last} of `{name}` found problems:

{problems}

Write the code at the cursor again so that it has none of these problems. Keep the code before and \
after it exactly as it is.{reply}"""

# Inputs to tell candidates apart by what they do (agreement.py): no expected values, so the model
# cannot be wrong about them, only more or less thorough.
PROBE_REQUEST = """Here is the header of the Python function `{name}`:

```python
{header}
```

Write {count} different calls of `{name}` that would show whether an implementation is right: \
typical inputs and the edge cases its description allows (empty, zero, one item, negative, large, \
repeated values). Use only literal arguments (numbers, strings, lists, tuples, dicts, sets, True, \
False, None), one call per line, without results or any other code. Reply with the calls in one \
```python code block."""

FEEDBACK_CONTINUE = " Reply with the file in one ```python code block."
FEEDBACK_INSERT = " Reply with only the code for the cursor, in one ```python code block."


def _task(instruction: str | None, todo: str) -> str:
    parts = [f" {instruction.strip()}" if instruction and instruction.strip() else ""]
    if todo:
        parts.append(f" At that point the file said `{todo}`: do that.")
    return "".join(parts)


def shown_prefix(prefix: str) -> str:
    """The prefix, its start cut off (at a line start) when it is longer than MAX_SHOWN_CHARS."""
    if len(prefix) <= MAX_SHOWN_CHARS:
        return prefix
    cut = prefix.find("\n", len(prefix) - MAX_SHOWN_CHARS)
    return prefix[cut + 1 :] if cut >= 0 else prefix[-MAX_SHOWN_CHARS:]


def prefill(prefix: str) -> str:
    """The start of the reply we write for a model that continues it."""
    return f"```python\n{shown_prefix(prefix)}"


def request_messages(name: str, prefix: str, suffix: str, instruction: str | None, todo: str,
                     continues: bool) -> list[BaseMessage]:
    """The opening request (without the prefilled reply, which `with_prefill` adds)."""
    task = _task(instruction, todo)
    if continues:
        after = AFTER.format(suffix=suffix.strip("\n")) if suffix.strip() else ""
        return [HumanMessage(CONTINUE_REQUEST.format(name=name, task=task, after=after))]
    file = f"{shown_prefix(prefix)}{CURSOR}{suffix}"
    return [HumanMessage(INSERT_REQUEST.format(name=name, task=task, file=file, CURSOR=CURSOR))]


def with_prefill(messages: list[BaseMessage], prefix: str) -> list[BaseMessage]:
    return [*messages, AIMessage(prefill(prefix))]


def render_problems(analysis: Analysis, text: str, limit: int = 12) -> str:
    """Errors first, then advice; each with its line's code; then longer details (test failures)."""
    lines = text.splitlines()
    shown = []
    error_lines = {f.line for f in analysis.errors}
    # Advice on a line that already has an error mostly says the same again (mypy after hallucination).
    findings = [*analysis.errors, *(f for f in analysis.advice if f.line not in error_lines)]
    for finding in findings[:limit]:
        where = ""
        if 1 <= finding.line <= len(lines):
            where = f"line {finding.line} `{lines[finding.line - 1].strip()[:100]}`: "
        kind = "" if finding.critical else " (advice)"
        shown.append(f"- {where}{finding.message} [{finding.tool}{kind}]")
    more = len(findings) - limit
    if more > 0:
        shown.append(f"- ... and {more} more")
    details = [f"{r.analyzer}:\n{r.detail}" for r in analysis.reports if r.detail]
    return "\n".join(shown) + ("\n\n" + "\n\n".join(details) if details else "")


def feedback_messages(opening: list[BaseMessage], name: str, prefix: str, completion: str, analysis: Analysis,
                      text: str, lines: tuple[int, int], continues: bool) -> list[BaseMessage]:
    """The request, the model's completion as its own answer, and what the analyzers found."""
    answer = f"```python\n{shown_prefix(prefix)}{completion}```" if continues else f"```python\n{completion}```"
    problems = render_problems(analysis, text)
    reply = FEEDBACK_CONTINUE if continues else FEEDBACK_INSERT
    message = FEEDBACK.format(first=lines[0], last=lines[1], name=name, problems=problems, reply=reply)
    return [*opening, AIMessage(answer), HumanMessage(message)]


def probe_messages(name: str, header: str, count: int) -> list[BaseMessage]:
    return [HumanMessage(PROBE_REQUEST.format(name=name, header=header.rstrip(), count=count))]
