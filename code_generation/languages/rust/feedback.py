"""cargo's results turned into feedback a model can act on, within the same budget as Python's.

A compile error is feedback like a failing test: each error with its code, message, place and
source line, the compiler's notes and the fixes it suggests. Failing tests come with their panic
message (``assertion `left == right` failed``, the values). Places use the names the model knows:
``src/lib.rs`` and the user's test file.
"""

from __future__ import annotations

import re

from code_generation.languages.base import PER_CASE_CHARS, trim
from code_generation.languages.rust import prompts
from code_generation.languages.rust.diagnostics import CargoResult, Diagnostic
from code_generation.sandbox.verdict import SandboxResult

_NOISE = re.compile(r"`cargo add |rustc --explain|For more information about this error")
SHOWN_FIXES = 6  # of one note: a lifetime on every reference can be many
_UNLINKED = re.compile(r"(?:unlinked crate|undeclared crate or module|can't find crate for|"
                       r"unresolved import|no matching package named) `(\w+)")


def verdict(result: SandboxResult) -> str:
    """One clause for the feedback's first line."""
    if result.status == "compile_error":
        errors = len(getattr(result, "diagnostics", []))
        return "does not compile" + (f" ({errors} error{'s' if errors != 1 else ''})" if errors else "")
    if result.success:
        return "passes every test"
    if result.status == "tampered":
        return "was rejected: it interfered with the tests instead of passing them"
    if result.status == "timeout":
        return "did not finish: the build or the tests were stopped at the time limit"
    if result.status == "no_tests":
        return "was tested but no test ran"
    if result.status != "ok":
        return "crashed the test run before it could report"
    return f"fails {result.tests_run - result.passed} of {result.tests_run} tests"


def render(diagnostic: Diagnostic) -> str:
    """One compiler error, as a reader of rustc's output expects it, without the noise."""
    head = f"{diagnostic.level}[{diagnostic.code}]" if diagnostic.code else diagnostic.level
    lines = [f"{head}: {diagnostic.message}"]
    if diagnostic.where:
        lines.append(f"  --> {diagnostic.where}")
        gutter = " " * len(str(diagnostic.line))
        if diagnostic.source_line.strip():
            lines.append(f"{diagnostic.line} | {diagnostic.source_line.rstrip()}")
        if diagnostic.label:
            lines.append(f"{gutter} | {' ' * max(0, diagnostic.column - 1)}^ {diagnostic.label}")
    for note in diagnostic.notes:
        if _NOISE.search(note.message):
            continue
        lines.append(f"   = {note.level}: {note.message}")
        for fix in note.fixes[:SHOWN_FIXES]:
            lines.append(f"     suggested at {fix.file}:{fix.line}:{fix.column}: `{fix.replacement}`")
        if len(note.fixes) > SHOWN_FIXES or note.cut:
            lines.append("     ... and more changes of the same suggestion")
    return "\n".join(lines)


def missing_crate(result: SandboxResult) -> str | None:
    """A crate the code uses that the offline source does not hold, when that is why it failed: one
    named in a ``use``, or only by a path (``rand::random()``) when the compiler found no such crate."""
    if result.status != "compile_error" or not isinstance(result, CargoResult):
        return None
    missing = set(result.crates_missing) | set(result.crates_unknown)
    texts = [d.message + " " + d.label for d in result.diagnostics] + [result.cargo_errors, result.message]
    for text in texts:
        for name in _UNLINKED.findall(text):
            if name.replace("-", "_") in missing:
                return name.replace("-", "_")
    unresolvable = re.search(r"no matching package named|failed to select a version", result.cargo_errors)
    if unresolvable and result.crates_added:  # the source has the crate but not what it depends on
        return result.crates_added[0]
    return None


def _compile_details(result: CargoResult, budget: int) -> str:
    parts, used = [], 0
    unsafe = any("unsafe" in d.message and ("usage of" in d.message or "forbid" in d.message)
                 for d in result.diagnostics)
    if unsafe:
        parts.append(prompts.UNSAFE_NOTE)
    for number, diagnostic in enumerate(result.diagnostics, start=1):
        block = trim(render(diagnostic), PER_CASE_CHARS)
        if used + len(block) > budget:
            parts.append(f"... and {len(result.diagnostics) - number + 1} more errors")
            break
        parts.append(block)
        used += len(block)
    if not result.diagnostics:
        parts.append("cargo said:\n" + trim(result.cargo_errors or result.message, budget))
    return "\n\n".join(parts)


def details(result: SandboxResult, budget: int = 3500) -> str:
    """Each compile error, or each failing test with its message, within `budget` characters."""
    if result.status == "tampered":
        return tampered_note(result)
    if result.status == "compile_error" and isinstance(result, CargoResult):
        return _compile_details(result, budget)
    if result.status == "timeout":
        return (f"{result.message}. The code probably loops forever (check loop conditions and recursion) "
                "or is far too slow for the inputs in the tests.")
    if result.status != "ok":
        return "Error:\n" + trim(result.message or result.stderr, budget)
    parts, used = [], 0
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    for number, case in enumerate(failing, start=1):
        kind = "FAIL" if case.outcome == "failed" else "ERROR"
        block = f"{kind}: {case.name}\n{trim(case.message, PER_CASE_CHARS)}"
        if used + len(block) > budget:
            parts.append(f"... and {len(failing) - number + 1} more failing tests")
            break
        parts.append(block)
        used += len(block)
    passed = [c.name for c in result.cases if c.outcome == "passed"]
    if passed:
        parts.append("These tests already pass; keep them passing: " + ", ".join(passed[:20]))
    return "\n\n".join(parts) if parts else trim(result.message, budget)


def tampered_note(result: SandboxResult) -> str:
    reason = result.message.split(": ", 1)[-1] if ": " in result.message else result.message
    return prompts.TAMPERED_NOTE.format(reason=trim(reason, PER_CASE_CHARS))
