"""The compiler's own suggested fixes, applied to the module without a model call (as `cargo fix` does).

rustc attaches to many errors a replacement it is sure of or nearly sure of: the import of a
type from the standard library, a missing ``&`` or ``.to_string()``, a ``mut``. A small model
told so in the feedback often rewrites the module instead and makes new errors; applied here,
they cost one build. Rules, as rustfix's:

- only fixes inside the module (``src/lib.rs``), never in the tests;
- a note's fixes all at one place are alternatives (several imports that fit): the first is
  taken; fixes of one note at different places belong together (a multi-part fix): all or none;
- fixes whose replacement holds a placeholder (``HasPlaceholders``) are skipped, and so is a note
  whose fixes the harness cut (``Note.cut``: a part of a fix is not a fix);
- the same edit suggested by several errors is made once, and an edit that overlaps one already
  taken is dropped.

Whether the result is kept is the sandbox's decision (compiler_fixes.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from code_generation.languages.rust.diagnostics import Diagnostic, Fix, Note

MODULE_FILE = "src/lib.rs"
SKIPPED = frozenset({"HasPlaceholders"})


@dataclass(frozen=True)
class Edit:
    """One replacement of the characters [start, end) of the module."""

    start: int
    end: int
    text: str


def _offsets(code: str) -> list[int]:
    """The offset of each line's first character (line 1 at index 0)."""
    starts = [0]
    for index, char in enumerate(code):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _offset(starts: list[int], code: str, line: int, column: int) -> int | None:
    if not 1 <= line <= len(starts) or column < 1:
        return None
    line_end = starts[line] - 1 if line < len(starts) else len(code)
    offset = starts[line - 1] + column - 1
    return offset if offset <= line_end else None


def _edit(fix: Fix, code: str, starts: list[int]) -> Edit | None:
    start = _offset(starts, code, fix.line, fix.column)
    end = _offset(starts, code, fix.end_line, fix.end_column) if fix.end_line else start
    if start is None or end is None or end < start:
        return None
    return Edit(start, end, fix.replacement)


def _usable(fix: Fix, module_lines: int) -> bool:
    return (fix.file == MODULE_FILE and fix.applicability not in SKIPPED and 1 <= fix.line <= module_lines
            and fix.end_line <= module_lines)


def _note_edits(note: Note, code: str, starts: list[int], module_lines: int) -> list[Edit]:
    """One note's edits: the first of its alternatives, or all parts of a multi-part fix; none of a
    note whose fixes were cut."""
    fixes = note.fixes
    if note.cut or not fixes or not all(_usable(f, module_lines) for f in fixes):
        return []
    places = {(f.line, f.column, f.end_line, f.end_column) for f in fixes}
    chosen = fixes[:1] if len(places) == 1 else fixes
    edits = [_edit(f, code, starts) for f in chosen]
    return [e for e in edits if e is not None] if all(e is not None for e in edits) else []


def suggested_edits(code: str, diagnostics: Iterable[Diagnostic]) -> list[Edit]:
    """The edits the errors' notes suggest in the module, in order, without repeats or overlaps."""
    module_lines = code.rstrip("\n").count("\n") + 1
    starts = _offsets(code)
    taken: list[Edit] = []
    for found in diagnostics:
        for note in found.notes:
            group = _note_edits(note, code, starts, module_lines)
            if any(_clashes(edit, taken) for edit in group):
                continue
            taken.extend(e for e in group if e not in taken)
    return sorted(taken, key=lambda e: (e.start, e.end))


def _clashes(edit: Edit, taken: list[Edit]) -> bool:
    """Overlaps an edit already taken (the same edit again does not clash: it is made once)."""
    for other in taken:
        if other == edit:
            continue
        if edit.start < other.end and other.start < edit.end:
            return True
        if edit.start == edit.end == other.start == other.end:  # two different insertions at one place
            return True
    return False


def apply_edits(code: str, edits: list[Edit]) -> str:
    """The code with the edits made, from the last one back so earlier offsets stay right."""
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        code = code[:edit.start] + edit.text + code[edit.end:]
    return code


def fixed_module(code: str, diagnostics: Iterable[Diagnostic]) -> str | None:
    """The module with the compiler's suggestions made, or None when there is none to make."""
    edits = suggested_edits(code, diagnostics)
    if not edits:
        return None
    fixed = apply_edits(code, edits)
    return fixed if fixed != code else None
