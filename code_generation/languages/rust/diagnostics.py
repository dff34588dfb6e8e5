"""cargo's result of one attempt: the sandbox's verdict plus the compiler's diagnostics.

The cargo harness (_sandbox_cargo.py) sends each error of ``cargo test --message-format=json``
as a signed ``diagnostic`` event (code, message, primary span with its source line, notes and
suggested fixes); here they become `Diagnostic`s on a `CargoResult`, with the file names the
model knows (``src/lib.rs``, the user's test file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from code_generation.sandbox.verdict import SandboxResult


@dataclass
class Fix:
    """A replacement the compiler suggests at one place."""

    file: str
    line: int
    column: int  # 1-based, in characters, as rustc counts
    replacement: str
    end_line: int = 0  # the end of the replaced text (0: an insertion at line:column)
    end_column: int = 0
    applicability: str = ""  # rustc's: MachineApplicable, MaybeIncorrect, HasPlaceholders, Unspecified


@dataclass
class Note:
    level: str  # "help" | "note" | ...
    message: str
    fixes: list[Fix] = field(default_factory=list)
    cut: bool = False  # the harness kept only the first of its fixes: never to be made (rust/fixes.py)


@dataclass
class Diagnostic:
    """One compiler error, as rustc reported it in JSON."""

    level: str
    code: str  # "E0308", or "" (lints, errors without a code)
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    label: str = ""
    source_line: str = ""
    notes: list[Note] = field(default_factory=list)
    rendered: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.file else ""


@dataclass
class CargoResult(SandboxResult):
    """A sandbox result with what the build said (only Rust runs have one)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    cargo_errors: str = ""  # cargo's own errors (a crate it could not resolve), when the build failed
    crates_added: list[str] = field(default_factory=list)  # dependencies taken from the offline source
    crates_missing: list[str] = field(default_factory=list)  # crates the code names that the source lacks
    crates_unknown: list[str] = field(default_factory=list)  # named only by a path, lacking from the source


class Paths:
    """Renames the package's files to the names the model knows, and unit-style test lines back."""

    def __init__(self, test_path: str, test_filename: str, test_offset: int) -> None:
        self.test_path, self.test_filename, self.offset = test_path, test_filename, test_offset

    def place(self, file: str, line: int) -> tuple[str, int]:
        if file == self.test_path and (self.offset == 0 or line > self.offset):
            return self.test_filename, line - self.offset
        return file, line

    def text(self, text: str) -> str:
        """Every ``file:line`` of the package in a message, renamed."""
        def one(match: re.Match[str]) -> str:
            file, line = self.place(match.group(1), int(match.group(2)))
            return f"{file}:{line}"

        return re.sub(rf"({re.escape(self.test_path)}|src/lib\.rs):(\d{{1,9}})(?!\d)", one, text)  # int() takes it


def _number(value: object) -> int:
    """A line or column the harness reported: a whole number, else 0 (unknown), never an error."""
    return value if type(value) is int and value >= 0 else 0


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _fixes(raw: object, paths: Paths) -> list[Fix]:
    """The fixes of a note; one without replacement text is no fix (``str(None)`` would be written)."""
    out = []
    for fix in _objects(raw):
        if not isinstance(fix.get("replacement"), str):
            continue
        file, end = str(fix.get("file", "")), _number(fix.get("line_end"))
        file_shown, line = paths.place(file, _number(fix.get("line")))
        end_line = paths.place(file, end)[1] if end else 0
        out.append(Fix(file_shown, line, _number(fix.get("column")), fix["replacement"], end_line,
                       _number(fix.get("column_end")), str(fix.get("applicability") or "")))
    return out


def diagnostic(event: dict[str, Any], paths: Paths) -> Diagnostic:
    """A ``diagnostic`` event of the harness as a Diagnostic, its places renamed; a field of the wrong
    type (the event is JSON out of the sandbox) reads as missing."""
    span = _object(event.get("span"))
    file, line = paths.place(str(span.get("file", "")), _number(span.get("line")))
    notes = [Note(str(c.get("level", "")), paths.text(str(c.get("message", ""))), _fixes(c.get("fixes"), paths),
                  bool(c.get("cut")))
             for c in _objects(event.get("children"))]
    return Diagnostic(str(event.get("level", "error")), str(event.get("code") or ""),
                      paths.text(str(event.get("message", ""))), file, line, _number(span.get("column")),
                      paths.text(str(span.get("label") or "")), str(span.get("source") or ""), notes,
                      paths.text(str(event.get("rendered") or "")))


def cargo_result(result: SandboxResult, events: list[dict[str, Any]], paths: Paths,
                 added: list[str], missing: list[str], unknown: list[str] | None = None) -> CargoResult:
    """The sandbox's result with the build's diagnostics, every message's places renamed."""
    found = [diagnostic(e, paths) for e in events if e.get("event") == "diagnostic"]
    failed = next((e for e in events if e.get("event") == "build_failed"), {})
    fields = {name: getattr(result, name) for name in SandboxResult.__dataclass_fields__}
    converted = CargoResult(**fields, diagnostics=found, cargo_errors=paths.text(str(failed.get("cargo", ""))),
                            crates_added=list(added), crates_missing=list(missing),
                            crates_unknown=list(unknown or []))
    converted.message = paths.text(converted.message)
    for case in converted.cases:
        case.message = paths.text(case.message)
    return converted
