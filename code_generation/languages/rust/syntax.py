"""Just enough of Rust's syntax to find items: comments, strings and chars masked, items by braces.

No Rust parser runs here (none is installed, and the compiler is the judge anyway). `mask` blanks
the inside of comments, string, byte-string, raw-string and char literals (keeping every newline
and the text's length, so positions in the masked text are positions in the source), which
leaves braces, brackets and semicolons that are code. `items` then splits a region into its
items: attributes, then a keyword, then the end (a `;` at depth 0, or the `}` that closes the
body of a fn, impl, mod, trait, enum, struct, union or brace macro). Lifetimes (`'a`) are told
from chars (`'a'`) by the quote two characters on.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

IDENT = re.compile(r"(?:r#)?[A-Za-z_][A-Za-z0-9_]*")
BODY_ITEMS = frozenset({"fn", "impl", "mod", "trait", "enum", "struct", "union", "macro_rules", "extern", "macro"})
QUALIFIERS = frozenset({"pub", "unsafe", "async", "const", "default", "extern", "safe"})
KEYWORDS = frozenset({"fn", "struct", "enum", "union", "trait", "impl", "mod", "use", "const", "static", "type",
                      "macro_rules", "extern"})
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _raw_string_end(source: str, at: int) -> int | None:
    """The end of a raw string starting at `at` (``r"`` or ``r#"``, after any b/c prefix), or None."""
    match = re.compile(r'r(#*)"').match(source, at)
    if match is None:
        return None
    closing = '"' + match.group(1)
    end = source.find(closing, match.end())
    return len(source) if end < 0 else end + len(closing)


def _quoted_end(source: str, at: int, quote: str) -> int:
    """The end of a string or char literal whose opening quote is at `at` (escapes honoured)."""
    i = at + 1
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i + 1
        i += 1
    return len(source)


def _block_comment_end(source: str, at: int) -> int:
    """The end of a (nested) block comment starting at `at`."""
    depth, i = 0, at
    while i < len(source):
        if source.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif source.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(source)


def _literal_end(source: str, i: int) -> int | None:
    """The end of the comment or literal starting at `i`, or None when none starts there."""
    c = source[i]
    prev = source[i - 1] if i else " "
    if source.startswith("//", i):
        end = source.find("\n", i)
        return len(source) if end < 0 else end
    if source.startswith("/*", i):
        return _block_comment_end(source, i)
    if prev.isalnum() or prev == "_":
        return None  # inside an identifier: `br` of `abbr"` is not a prefix
    prefix = re.compile(r"[bc]?(?=r#*\")").match(source, i)
    if prefix is not None and (end := _raw_string_end(source, prefix.end())) is not None:
        return end
    if c == '"' or (c in "bc" and source.startswith('"', i + 1)):
        return _quoted_end(source, i + (c != '"'), '"')
    start = i + 1 if c == "b" and source.startswith("'", i + 1) else i
    if source.startswith("'", start):
        if source.startswith("\\", start + 1) or source.startswith("'", start + 2):
            return _quoted_end(source, start, "'")
    return None


def literals(source: str) -> list[tuple[int, int]]:
    """Where every comment and literal is, as (start, end) in order: text inside them is not code."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(source):
        end = _literal_end(source, i)
        if end is None:
            i += 1
            continue
        spans.append((i, end))
        i = end
    return spans


def mask(source: str) -> str:
    """The source with the inside of every comment and literal blanked (same length, same lines)."""
    out: list[str] = []
    last = 0
    for start, end in literals(source):
        out.append(source[last:start])
        piece = source[start:end]
        if piece.startswith(("//", "/*")):
            out.append(_blank(piece))
        else:  # keep the quotes' places, blank the contents
            out.append(piece[0] + _blank(piece[1:-1]) + piece[-1] if len(piece) > 1 else piece)
        last = end
    out.append(source[last:])
    return "".join(out)


def delimiters_balanced(masked: str) -> bool:
    """Whether every (, [ and { closes with its own kind, in order: rustc's lexer requires it of any
    file (macro bodies too), and items read from a file that breaks it run into each other."""
    opened: list[str] = []
    for c in re.sub(r"[^()\[\]{}]", "", masked):
        if c in _OPEN:
            opened.append(_OPEN[c])
        elif not opened or opened.pop() != c:
            return False
    return not opened


@functools.lru_cache(maxsize=8)
def _closing(masked: str) -> dict[int, int]:
    """Every opening bracket's partner (the index after it), found in one pass over the text."""
    pairs: dict[int, int] = {}
    opened: list[int] = []
    for i, c in enumerate(masked):
        if c in _OPEN:
            opened.append(i)
        elif c in _CLOSE and opened:
            pairs[opened.pop()] = i + 1
    return pairs


def match_bracket(masked: str, at: int) -> int:
    """The index just after the bracket that closes the one at `at` (the end of text if none).

    Brackets of any kind count alike. For an opening bracket the answer comes from `_closing`, so
    modules nested thousands deep cost one pass over the file, not one per level.
    """
    if 0 <= at < len(masked) and masked[at] in _OPEN:
        return _closing(masked).get(at, len(masked))
    depth = 0
    for i in range(at, len(masked)):
        c = masked[i]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth <= 0:
                return i + 1
    return len(masked)


@dataclass
class Attribute:
    start: int
    end: int
    text: str  # as written (from the source, not the masked text)

    @property
    def path(self) -> str:
        """``test``, ``should_panic``, ``cfg``, ``tokio::test`` ..."""
        match = re.match(r"#!?\[\s*((?:\w+\s*::\s*)*\w+)", self.text)
        return re.sub(r"\s+", "", match.group(1)) if match else ""


@dataclass
class Item:
    """One item of a region: ``kind`` is its keyword (``fn``, ``mod``, ``use`` ...) or ``macro``."""

    start: int  # its first attribute, else its first word
    end: int
    kind: str
    name: str
    keyword_at: int  # where the keyword (`fn`, `mod` ...) starts
    name_at: int = -1
    body: tuple[int, int] | None = None  # the braces of its body, both included
    attributes: list[Attribute] = field(default_factory=list)


def _skip_space(masked: str, i: int, end: int) -> int:
    while i < end and masked[i].isspace():
        i += 1
    return i


def _attributes(source: str, masked: str, i: int, end: int) -> tuple[list[Attribute], int]:
    found: list[Attribute] = []
    while True:
        i = _skip_space(masked, i, end)
        if not (masked.startswith("#[", i) or masked.startswith("#![", i)):
            return found, i
        close = match_bracket(masked, masked.index("[", i))
        found.append(Attribute(i, close, source[i:close]))
        i = close


def _keyword(masked: str, i: int, end: int) -> tuple[str, int, int]:
    """(kind, where the keyword starts, index after it), skipping visibility and qualifiers."""
    while i < end:
        i = _skip_space(masked, i, end)
        word = IDENT.match(masked, i)
        if word is None:
            return "", i, i
        text = word.group(0)
        after = _skip_space(masked, word.end(), end)
        if text == "pub" and masked.startswith("(", after):
            i = match_bracket(masked, after)
            continue
        if text == "extern":
            if masked.startswith('"', after):  # an ABI: extern "C" (never closed: to the end of the region)
                close = masked.find('"', after + 1, end)
                after = _skip_space(masked, close + 1 if close >= 0 else end, end)
            nxt = IDENT.match(masked, after)
            if nxt is None or nxt.group(0) == "crate":  # extern "C" { ... } / extern crate x;
                return "extern", i, after
            i = after  # extern "C" fn: a qualifier
            continue
        if text in QUALIFIERS and not (text == "const" and not _qualifies_fn(masked, after, end)):
            i = after
            continue
        if masked.startswith("!", after) and text != "macro_rules":
            return "macro", i, after + 1
        return text, i, word.end()
    return "", i, i


def _qualifies_fn(masked: str, i: int, end: int) -> bool:
    """`const` before `fn`/`unsafe`/`async`/`extern` is a qualifier; otherwise it is a const item."""
    word = IDENT.match(masked, i)
    return bool(word and word.group(0) in {"fn", "unsafe", "async", "extern"})


def _item_end(masked: str, kind: str, i: int, end: int) -> tuple[int, tuple[int, int] | None]:
    """Where the item that continues at `i` ends, and the braces of its body."""
    while i < end:
        c = masked[i]
        if c == ";":
            return i + 1, None
        if c == "{":
            close = match_bracket(masked, i)
            if kind in BODY_ITEMS:
                return close, (i, close)
            i = close
            continue
        if c in "([":
            i = match_bracket(masked, i)
            continue
        i += 1
    return end, None


def items(source: str, start: int = 0, end: int | None = None, masked: str | None = None) -> list[Item]:
    """The items between `start` and `end` (a whole file, or the inside of a module's braces)."""
    masked = mask(source) if masked is None else masked
    end = len(source) if end is None else end
    found: list[Item] = []
    i = start
    while True:
        attributes, i = _attributes(source, masked, i, end)
        if i >= end:
            return found
        if masked[i] in ";":
            i += 1
            continue
        kind, keyword_at, after = _keyword(masked, i, end)
        if kind == "macro_rules" and masked.startswith("!", after):
            after += 1
        name_match = IDENT.match(masked, _skip_space(masked, after, end))
        if kind == "macro":
            name_match = IDENT.match(masked, keyword_at)
        name = name_match.group(0) if name_match and kind not in {"impl", "use"} else ""
        stop, body = _item_end(masked, kind, after, end)
        if stop <= i:  # not an item we understand: skip one character
            stop = i + 1
        outer = [a for a in attributes if not a.text.startswith("#![")]
        begin = outer[0].start if outer else i
        found.append(Item(begin, stop, kind or "?", name.removeprefix("r#"), keyword_at,
                          name_match.start() if name_match and name else -1, body, outer))
        i = stop


def walk(source: str, masked: str | None = None, start: int = 0, end: int | None = None,
         path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Item]]:
    """Every item with the inline modules it sits in (``mod a { mod b { fn f } }`` -> ``("a", "b")``),
    in file order; a loop, not recursion: a file may nest modules deeper than Python's stack."""
    masked = mask(source) if masked is None else masked
    out: list[tuple[tuple[str, ...], Item]] = []
    pending = [(path, item) for item in reversed(items(source, start, end, masked))]
    while pending:
        where, item = pending.pop()
        out.append((where, item))
        if item.kind == "mod" and item.body is not None:
            inner = items(source, item.body[0] + 1, item.body[1] - 1, masked)
            pending += [((*where, item.name), i) for i in reversed(inner)]
    return out


def line_of(source: str, index: int) -> int:
    """The 1-based line of a position."""
    return source.count("\n", 0, index) + 1


def use_roots(masked: str) -> list[str]:
    """The first segment of every ``use`` path and ``extern crate`` (``use a::{b, c}`` -> a)."""
    roots = re.findall(r"(?<![\w:])use\s+(?:::)?((?:r#)?[A-Za-z_]\w*)", masked)
    roots += re.findall(r"(?<![\w:])extern\s+crate\s+([A-Za-z_]\w*)", masked)
    return list(dict.fromkeys(r.removeprefix("r#") for r in roots))


def path_roots(masked: str) -> list[str]:
    """Lower-case first segments of paths in code (``regex::Regex::new`` -> regex), in order; not
    a function called with a turbofish (``parse::<u8>(s)``)."""
    roots = re.findall(r"(?<![\w:.'])([a-z_][a-z0-9_]*)\s*::(?!\s*<)", masked)
    return list(dict.fromkeys(roots))


def use_names(masked: str) -> set[str]:
    """The names ``use`` lines bring in: each path's last segment or its ``as`` name
    (``use std::{mem, fmt::Write as W};`` -> mem, W)."""
    names: set[str] = set()
    for tree in re.findall(r"(?<![\w:$])use\s+([^;]*);", masked):
        for part in re.split(r"[{},]", tree):
            words = part.split()
            if len(words) >= 3 and words[-2] == "as":
                names.add(words[-1].removeprefix("r#"))
            elif words:
                names.add(re.split(r"\s*::\s*", " ".join(words))[-1].removeprefix("r#"))
    return names - {"*", "self", "_", ""}


def local_modules(masked: str) -> set[str]:
    """Modules the text declares (``mod name``) and names it brings in with ``use ... as name``."""
    names = set(re.findall(r"(?<![\w:])mod\s+([A-Za-z_]\w*)", masked))
    names |= set(re.findall(r"\bas\s+([a-z_]\w*)", masked))
    return names
