"""The insertion point and the byte-for-byte splice of a completion into a file.

Why bytes: an editor hands us a file exactly as it is on disk (a BOM, Windows line endings,
tabs), and a completion must change nothing but the text it inserts. So the file is kept as
bytes; the prefix (everything before the insertion point) and the suffix (everything after it,
or after a ``# TODO`` line the completion replaces) are byte slices of the original, never
re-encoded. Only the completion is converted to the file's style (its line ending, tabs when
the file indents with tabs) before it is encoded and put between them, and `Document.splice`
checks that the result starts with the prefix and ends with the suffix.
"""

from __future__ import annotations

import codecs
import difflib
import re
from dataclasses import dataclass

BOM = codecs.BOM_UTF8
# The line breaks Python's tokenizer knows (str.splitlines also splits on \f, \x1c, \u2028, ...).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_TODO = re.compile(r"^[ \t]*#.*\bTODO\b", re.IGNORECASE)


class SpliceError(ValueError):
    """The insertion point is outside the file, or a splice would change the kept bytes."""


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only at \\n, \\r\\n and \\r (as Python reads source)."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class Document:
    """A file split at the insertion point: prefix + [completion] + suffix, as bytes."""

    data: bytes  # the whole original file
    start: int  # byte offset where the completion goes
    end: int  # byte offset where the kept suffix starts (> start when a TODO line is replaced)
    newline: str  # the file's line ending, used for the completion
    tabs: bool  # the file indents with tabs
    line: int  # 1-based line of the insertion point
    todo: str = ""  # the replaced `# TODO` comment, stripped, if any

    @property
    def bom(self) -> bool:
        return self.data.startswith(BOM)

    @property
    def prefix(self) -> str:
        return self.data[len(BOM) if self.bom else 0 : self.start].decode("utf-8")

    @property
    def suffix(self) -> str:
        return self.data[self.end :].decode("utf-8")

    @property
    def at_line_start(self) -> bool:
        return not self.prefix or self.prefix.endswith(("\n", "\r"))

    def styled(self, completion: str) -> str:
        """The completion (written with \\n and spaces) in the file's line ending and indentation."""
        text = completion.replace("\r\n", "\n").replace("\r", "\n")
        if self.suffix and self.at_line_start and text and not text.endswith("\n"):
            text += "\n"  # the suffix's first line stays a line of its own
        if not self.suffix and text and not text.endswith("\n") and self.data.endswith((b"\n", b"\r")):
            text += "\n"
        if self.tabs:
            text = "".join(_tabs(line) for line in split_lines(text))
        return text.replace("\n", self.newline)

    def splice(self, completion: str) -> bytes:
        """The completed file's bytes; the prefix and suffix are the original bytes, checked."""
        middle = self.styled(completion).encode("utf-8")
        out = self.data[: self.start] + middle + self.data[self.end :]
        if not (out.startswith(self.data[: self.start]) and out.endswith(self.data[self.end :])):
            raise SpliceError("the splice changed bytes outside the completion")  # cannot happen; checked anyway
        if len(out) != self.start + len(middle) + len(self.data) - self.end:
            raise SpliceError("the splice changed the file's length outside the completion")
        return out

    def text(self, completion: str) -> str:
        """The completed file as text (no BOM), for the analyzers."""
        return self.prefix + self.styled(completion) + self.suffix

    def completion_lines(self, completion: str) -> tuple[int, int]:
        """First and last 1-based line of the completed file that hold the completion."""
        first = len(split_lines(self.prefix)) if self.prefix and not self.at_line_start else len(split_lines(self.prefix)) + 1
        added = len(split_lines(self.styled(completion))) or 1
        return first, max(first, first + added - 1)

    def lines_added(self, completion: str) -> int:
        """How far the completion moves the suffix's lines down (for matching old findings)."""
        return len(split_lines(self.text(completion))) - len(split_lines(self.prefix + self.suffix))


def _tabs(line: str) -> str:
    """Leading groups of four spaces as tabs (the model writes spaces; the file uses tabs)."""
    body = line.lstrip(" \t")
    lead = line[: len(line) - len(body)]
    if " " not in lead:
        return line
    width = sum(4 if ch == "\t" else 1 for ch in lead)
    return "\t" * (width // 4) + " " * (width % 4) + body


def _newline(text: str) -> str:
    counts = {nl: len(re.findall(re.escape(nl) if nl != "\n" else r"(?<!\r)\n", text)) for nl in ("\r\n", "\n")}
    counts["\r"] = len(re.findall(r"\r(?!\n)", text))
    best = max(counts, key=lambda nl: counts[nl])
    return best if counts[best] else "\n"


def _uses_tabs(lines: list[str]) -> bool:
    tabbed = sum(1 for line in lines if line.startswith("\t"))
    spaced = sum(1 for line in lines if line.startswith(" ") and line.strip())
    return tabbed > spaced


def decode(data: bytes) -> str:
    """The file's text without a BOM; raises UnicodeDecodeError for anything but UTF-8."""
    return data[len(BOM) :].decode("utf-8") if data.startswith(BOM) else data.decode("utf-8")


def locate(data: bytes, line: int | None = None, column: int | None = None) -> Document:
    """Split `data` at the end of the file, or at 1-based `line` (and 0-based `column`).

    A line that holds only a ``# TODO`` comment is replaced by the completion; otherwise the
    completion goes before the line's text (or at `column` within it, as an editor's cursor).
    """
    text = decode(data)
    lines = split_lines(text)
    base = len(BOM) if data.startswith(BOM) else 0
    newline, tabs = _newline(text), _uses_tabs(lines)
    if line is None:
        if column is not None:
            raise SpliceError("a column needs a line")
        return Document(data, len(data), len(data), newline, tabs, max(1, len(lines)))
    if not 1 <= line <= len(lines) + 1:
        raise SpliceError(f"line {line} is outside the file, which has {len(lines)} lines (give 1 to {len(lines) + 1})")
    before = "".join(lines[: line - 1])
    current = lines[line - 1] if line <= len(lines) else ""
    content = current.rstrip("\r\n")
    start = base + len(before.encode("utf-8"))
    if column is not None:
        if not 0 <= column <= len(content):
            raise SpliceError(f"column {column} is outside line {line}, which has {len(content)} characters")
        offset = start + len(content[:column].encode("utf-8"))
        return Document(data, offset, offset, newline, tabs, line)
    if _TODO.match(content):
        end = start + len(current.encode("utf-8"))
        return Document(data, start, end, newline, tabs, line, content.strip())
    return Document(data, start, start, newline, tabs, line)


def unified_diff(old: bytes, new: bytes, name: str) -> str:
    """What the completion changes, as a unified diff of the decoded text."""
    a, b = decode(old), decode(new)
    return "".join(
        difflib.unified_diff(
            [ln.rstrip("\r\n") + "\n" for ln in split_lines(a)],
            [ln.rstrip("\r\n") + "\n" for ln in split_lines(b)],
            f"a/{name}", f"b/{name}",
        )
    )
