"""Split a source file into chunks with line ranges: Python along its syntax tree, other
languages with LangChain's language-aware splitter.

Each chunk is one definition, or neighbouring small pieces packed together, so a retrieved chunk
reads as a whole and its citation (path, first and last line) points at something meaningful.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHUNKER_VERSION",
    "MAX_CHUNK_CHARS",
    "PACK_CHARS",
    "Chunk",
    "chunk_text",
    "file_hash",
    "language_of",
]

# Why these sizes: all-MiniLM-L6-v2 reads 256 word pieces (~900 characters of code), so a chunk
# much longer than that is embedded by its head only; tiny chunks carry too little meaning.
MAX_CHUNK_CHARS = 1400
PACK_CHARS = 700
CHUNKER_VERSION = "1"  # bump when chunking changes, so every file is re-embedded once

_EXT_LANGUAGE = {
    ".py": "python",
    ".pyi": "python",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".js": "js",
    ".jsx": "js",
    ".mjs": "js",
    ".ts": "ts",
    ".tsx": "ts",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".scala": "scala",
    ".swift": "swift",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".php": "php",
    ".rb": "ruby",
    ".lua": "lua",
    ".pl": "perl",
    ".hs": "haskell",
    ".ex": "elixir",
    ".exs": "elixir",
    ".r": "r",
    ".sol": "sol",
    ".proto": "proto",
    ".html": "html",
    ".tex": "latex",
    ".ps1": "powershell",
}


@dataclass
class Chunk:
    """A piece of one file with the 1-based inclusive line range it came from."""

    path: str
    start_line: int
    end_line: int
    text: str
    context: str = ""  # e.g. "class Session" for a method: helps the embedding and the reader

    def document(self) -> str:
        """The text that is embedded and shown to the model: where it lives, then the code."""
        where = f"# {self.path} lines {self.start_line}-{self.end_line}"
        if self.context:
            where += f" ({self.context})"
        return f"{where}\n{self.text}"


def file_hash(data: bytes) -> str:
    """Content hash that also changes when the chunker does."""
    return hashlib.sha256(CHUNKER_VERSION.encode() + b"\0" + data).hexdigest()



def language_of(path: str) -> str | None:
    """The language-aware splitter to use for a path, by extension."""
    return _EXT_LANGUAGE.get(Path(path).suffix.lower())


def chunk_text(path: str, text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Split a file into chunks with line ranges: Python by its syntax tree, others by splitter."""
    if language_of(path) == "python":
        try:
            return _chunk_python(path, text, max_chars)
        except (SyntaxError, ValueError, RecursionError):
            pass  # not valid Python 3: fall back to the language-aware text splitter
    return _chunk_with_splitter(path, text, max_chars)


@dataclass
class _Segment:
    start: int  # 1-based, inclusive
    end: int
    context: str = ""
    node: ast.AST | None = None


def _node_start(node: ast.AST, lines: list[str]) -> int:
    """First line of a definition, including decorators and the comment block just above it."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    while start > 1 and lines[start - 2].lstrip().startswith("#"):
        start -= 1
    return start


def _segments(body: list[ast.stmt], lines: list[str], first: int, last: int) -> list[_Segment]:
    """Cover lines first..last: one segment per def/class, glue statements in between."""
    segments: list[_Segment] = []
    cursor = first
    for node in body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        start = max(_node_start(node, lines), cursor)
        end = node.end_lineno or node.lineno
        if start > cursor:
            segments.append(_Segment(cursor, start - 1))
        segments.append(_Segment(start, end, node=node))
        cursor = end + 1
    if cursor <= last:
        segments.append(_Segment(cursor, last))
    return segments


def _text(lines: list[str], start: int, end: int) -> str:
    return "".join(lines[start - 1 : end])


def _line_windows(lines: list[str], start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a long run of lines into windows under max_chars, preferring blank lines as cuts."""
    windows = []
    s = start
    while s <= end:
        size, e, best_blank = 0, s, None
        while e <= end and (size + len(lines[e - 1]) <= max_chars or e == s):
            size += len(lines[e - 1])
            if not lines[e - 1].strip() and e > s:
                best_blank = e
            e += 1
        cut = e - 1
        if e <= end and best_blank is not None and best_blank - s > (cut - s) // 2:
            cut = best_blank
        windows.append((s, cut))
        s = cut + 1
    return windows


def _chunk_python(path: str, text: str, max_chars: int) -> list[Chunk]:
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    pieces: list[tuple[int, int, str]] = []  # (start, end, context)

    def emit(seg: _Segment, context: str) -> None:
        body_text = _text(lines, seg.start, seg.end)
        if not body_text.strip():
            return
        node = seg.node
        if len(body_text) <= max_chars:
            pieces.append((seg.start, seg.end, context))
            return
        if isinstance(node, ast.ClassDef) and node.body:
            inner = f"{context}.{node.name}" if context else f"class {node.name}"
            children = _segments(node.body, lines, seg.start, seg.end)
            for child in children:
                emit(child, inner)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            context = f"{context}.{node.name}" if context else f"def {node.name}"
        for s, e in _line_windows(lines, seg.start, seg.end, max_chars):
            if _text(lines, s, e).strip():
                pieces.append((s, e, context))

    for seg in _segments(tree.body, lines, 1, len(lines)):
        emit(seg, "")

    # Pack neighbouring small pieces (imports, constants, one-line helpers) into one chunk.
    chunks: list[Chunk] = []
    for start, end, context in pieces:
        size = len(_text(lines, start, end))
        if chunks:
            prev = chunks[-1]
            prev_size = len(prev.text)
            if (
                prev.context == context
                and prev.end_line + 1 >= start
                and prev_size + size <= PACK_CHARS
            ):
                prev.text = _text(lines, prev.start_line, end)
                prev.end_line = end
                continue
        chunks.append(Chunk(path, start, end, _text(lines, start, end), context))
    for chunk in chunks:  # trim blank lines at the edges so the ranges are tight
        _tighten(chunk, lines)
    return [c for c in chunks if c.text.strip()]


def _tighten(chunk: Chunk, lines: list[str]) -> None:
    while chunk.start_line < chunk.end_line and not lines[chunk.start_line - 1].strip():
        chunk.start_line += 1
    while chunk.end_line > chunk.start_line and not lines[chunk.end_line - 1].strip():
        chunk.end_line -= 1
    chunk.text = _text(lines, chunk.start_line, chunk.end_line)


def _chunk_with_splitter(path: str, text: str, max_chars: int) -> list[Chunk]:
    """LangChain's language-aware splitter, with line ranges recovered from start offsets."""
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    lang = language_of(path)
    kwargs: dict[str, Any] = {"chunk_size": max_chars, "chunk_overlap": 0, "add_start_index": True}
    try:
        splitter = (
            RecursiveCharacterTextSplitter.from_language(Language(lang), **kwargs)
            if lang
            else RecursiveCharacterTextSplitter(**kwargs)
        )
    except ValueError:
        splitter = RecursiveCharacterTextSplitter(**kwargs)
    chunks = []
    for doc in splitter.create_documents([text]):
        start_index = int(doc.metadata.get("start_index", -1))
        if start_index < 0:
            start_index = max(text.find(doc.page_content), 0)
        content = doc.page_content
        if not content.strip():
            continue
        start_line = text.count("\n", 0, start_index) + 1
        end_line = start_line + content.rstrip("\n").count("\n")
        chunks.append(Chunk(path, start_line, end_line, content))
    return chunks
