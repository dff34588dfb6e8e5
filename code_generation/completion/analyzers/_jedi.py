"""What the signature and hallucination analyzers share: one jedi Script per completed file.

Why jedi and not `inspect` in a child process: jedi reads source and typeshed's stubs and runs
nothing of the file, so a completion can be checked before anything of it executes, the names
the file defines earlier are understood as written (not as an import would leave them), and
no sandbox start (about 0.1 s) is paid per call. Compiled modules (numpy's, say) are
introspected by jedi in its own subprocess, never in ours.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache

import jedi


@lru_cache(maxsize=1)
def script(text: str, path: str | None) -> jedi.Script:
    """The Script of the last file asked about: the two jedi analyzers of a candidate share it.

    Only the last: a Script used again after others were made (for other text) answered
    nothing (seen here: a wrong call's signature came back empty), so none is kept longer.
    """
    project = jedi.Project(os.path.dirname(os.path.abspath(path))) if path else None
    return jedi.Script(text, path=path, project=project)


@lru_cache(maxsize=8)
def tree(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # pyflakes reports the syntax error


def char_column(text: str, line: int, byte_column: int) -> int:
    """ast's UTF-8 byte column as jedi's character column."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return byte_column
    return len(lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


def segment(text: str, node: ast.AST, limit: int = 80) -> str:
    """The node's source, on one line and shortened."""
    found = ast.get_source_segment(text, node) or ""
    flat = " ".join(found.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
