"""Every prompt of the Q&A tool, in one place, so wording changes never hide in logic."""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate

__all__ = ["ANSWER_PROMPT", "SUMMARY_PROMPT", "format_context"]

SUMMARY_SYSTEM = (
    "You document source code for other developers. Write concise, factual Markdown. "
    "Describe only what the code shows; never invent functions or behaviour."
)

SUMMARY_HUMAN = """Summarise the file `{path}`.

Write Markdown with exactly these sections:
## Purpose
One or two sentences: what this file is for.
## Main classes and functions
A bullet per important class or function: its name, its inputs, what it returns or does.
## How to use it
A short example or sentence showing how other code uses this file.

Outline of the file (definitions and their first docstring line):
{outline}

Source (may be truncated):
```{language}
{source}
```"""

SUMMARY_PROMPT = ChatPromptTemplate.from_messages(
    [("system", SUMMARY_SYSTEM), ("human", SUMMARY_HUMAN)]
)

ANSWER_SYSTEM = (
    "You answer questions about a code repository using only the context below: excerpts of "
    "its files, each headed by [n] and its path and line range, and short summaries of files. "
    "Answer briefly and precisely. Name the files and functions you rely on and cite excerpts "
    "as [n]. If the context does not contain the answer, say you do not know; do not guess."
)

ANSWER_HUMAN = """Context from the repository `{repo}`:

{context}

Question: {question}"""

ANSWER_PROMPT = ChatPromptTemplate.from_messages(
    [("system", ANSWER_SYSTEM), ("placeholder", "{history}"), ("human", ANSWER_HUMAN)]
)


def format_context(blocks: list[tuple[str, str]]) -> str:
    """Join (heading, text) pairs into the numbered context the answer prompt expects."""
    return "\n\n".join(
        f"[{i}] {heading}\n{text.strip()}" for i, (heading, text) in enumerate(blocks, 1)
    )
