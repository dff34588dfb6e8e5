"""Test results turned into feedback a model can act on, within a size budget."""

from __future__ import annotations

import ast
import re
import sys
from typing import TYPE_CHECKING

from code_generation.extract import is_empty_body
from code_generation.runner import SandboxResult
from code_generation.skeleton import definitions, plain

if TYPE_CHECKING:
    from code_generation.loop import LoopOutcome

PER_CASE_CHARS = 900
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


def _trim(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "\n[...]\n" + text[-(limit - head - 7) :]


def verdict(result: SandboxResult) -> str:
    """One clause for the feedback's first line."""
    if result.success:
        return "passes every test"
    if result.status == "timeout":
        return "did not finish: the tests were stopped at the time limit"
    if result.status == "import_error":
        return "could not be imported by the tests"
    if result.status == "no_tests":
        return "was tested but no test ran"
    if result.status == "crashed":
        return "crashed the test run before it could report"
    failing = result.tests_run - result.passed
    return f"fails {failing} of {result.tests_run} tests"


def _statement_at(tree: ast.Module, line: int) -> ast.stmt | None:
    """The innermost statement of the test file that spans `line`."""
    best: ast.stmt | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if best is None or (node.end_lineno or 0) - node.lineno <= (best.end_lineno or 0) - best.lineno:
                best = node
    return best


def failing_check(message: str, test_source: str, test_filename: str) -> str | None:
    """The whole check a traceback points into, when its one quoted line does not show it.

    Python quotes only the first line of a statement: for ``with self.assertRaises(E):`` and for
    a call spread over several lines, the model would not see what was called with what.
    """
    lines = re.findall(rf'File "[^"]*{re.escape(test_filename)}", line (\d+)', message)
    if not lines:
        return None
    try:
        tree = ast.parse(test_source)
    except SyntaxError:
        return None
    stmt = _statement_at(tree, int(lines[-1]))
    if stmt is None:
        return None
    if isinstance(stmt, ast.With) and "not raised" in message:
        calls = "; ".join(plain(s) for s in stmt.body)
        raised = re.search(r"(\w+) not raised", message)
        return f"`{calls}` should raise {raised.group(1) if raised else 'an exception'} but returned normally."
    if (stmt.end_lineno or stmt.lineno) > stmt.lineno:
        return f"The failing check, in full: `{' '.join(plain(stmt).split())}`"
    return None


def details(result: SandboxResult, budget: int = 3500, test_source: str = "", test_filename: str = "") -> str:
    """Each failing test with its message, then any stderr that explains a crash."""
    if result.status == "timeout":
        return (
            "The tests did not finish in time. The code probably loops forever (check loop "
            "conditions) or is far too slow for the inputs in the tests."
        )
    if result.status in {"import_error", "crashed", "no_tests"}:
        text = result.message
        tail = (result.stderr or "").strip()
        if tail and tail not in text:
            text += "\n" + tail[-1500:]
        return "Error:\n" + _trim(text, budget)
    parts: list[str] = []
    used = 0
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    for number, case in enumerate(failing, start=1):
        kind = "FAIL" if case.outcome == "failed" else "ERROR"
        block = f"{kind}: {case.name}\n{_trim(case.message, PER_CASE_CHARS)}"
        if test_source and (check := failing_check(case.message, test_source, test_filename)):
            block += f"\n{_trim(check, PER_CASE_CHARS)}"
        if used + len(block) > budget:
            parts.append(f"... and {len(failing) - number + 1} more failing tests")
            break
        parts.append(block)
        used += len(block)
    passed = [c.name for c in result.cases if c.outcome == "passed"]
    if passed:
        parts.append("These tests already pass; keep them passing: " + ", ".join(passed[:20]))
    return "\n\n".join(parts) if parts else _trim(result.message or result.stderr, budget)


def unimplemented(code: str) -> list[str]:
    """Functions and methods whose body is still only a docstring, ``pass`` or ``...``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [
        node.name for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and is_empty_body(node)
    ]


def stub_note(code: str) -> str:
    """A line for the feedback when the model left stubs empty (they return None)."""
    empty = unimplemented(code)
    if not empty:
        return ""
    names = ", ".join(f"`{name}`" for name in empty)
    return f"Not implemented yet (the body is empty, so it returns None): {names}. Write their code."


_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def missing_module(result: SandboxResult, module_name: str) -> str | None:
    """The third-party package the code imported but the sandbox lacks, if that is what failed."""
    texts = [result.message, result.stderr, *(c.message for c in result.cases if c.outcome == "error")]
    for text in texts:
        for match in _NO_MODULE.finditer(text or ""):
            top = match.group(1).split(".")[0]
            if top != module_name and top not in sys.stdlib_module_names and not top.startswith("test_"):
                return top
    return None


def failure_reason(outcome: LoopOutcome) -> str | None:
    """Why a pair is unsolved, in one line (None when solved)."""
    if outcome.success:
        return None
    best = outcome.best
    if best is None or best.result is None:
        notes = "; ".join(outcome.attempts[-1].notes) if outcome.attempts else "no attempt was made"
        return f"no usable code in the reply ({notes})"
    result = best.result
    if result.status != "ok":
        line = _error_line(result.message or result.stderr or "")
        return f"{result.status}: {line}" if line else result.status
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    reason = f"{result.passed}/{result.tests_run} tests passed"
    if failing:
        reason += f"; {failing[0].name}: {_error_line(failing[0].message) or failing[0].outcome}"
    return reason


def _error_line(message: str) -> str:
    """The exception line of a traceback (``AssertionError: 1 != 2``), else its last line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return (errors[0] if errors else lines[-1] if lines else "")[:200]


def _called_by_test(test_source: str) -> dict[str, set[str]]:
    """Per test ("Class.test_x" or "test_x"), the names it calls: ``f(...)`` and ``obj.f(...)`` both give f."""
    try:
        tree = ast.parse(test_source)
    except SyntaxError:
        return {}
    calls: dict[str, set[str]] = {}
    for name, node in definitions(tree).items():
        if isinstance(node, ast.ClassDef) or not name.rpartition(".")[2].startswith("test"):
            continue
        called = (n.func for n in ast.walk(node) if isinstance(n, ast.Call))
        calls[name] = {f.id if isinstance(f, ast.Name) else f.attr for f in called if isinstance(f, ast.Name | ast.Attribute)}
    return calls


_MISSING_ATTRIBUTE = re.compile(r"AttributeError: '(\w+)' object has no attribute")


def _raised_in(message: str, module_name: str) -> str | None:
    """The function of the module where a test's error was raised: the innermost module frame."""
    frames = re.findall(rf'File "(?:[^"]*/)?{re.escape(module_name)}\.py", line \d+, in (\w+)', message)
    return frames[-1] if frames else None


def culprit(
    result: SandboxResult, test_source: str, functions: list[str], module_name: str | None = None
) -> str | None:
    """The one function (or ``"Class.method"``) of several that every failing test points at, when some tests pass.

    Then the model is asked to rewrite that function alone instead of the module, which a small
    model often breaks elsewhere. A failing test points at what it calls, or, when the error was
    raised inside the module, at the function it was raised in. Ties go to a function no passing
    test calls; still tied, none.
    """
    if len(functions) < 2 or result.status != "ok":
        return None
    calls = _called_by_test(test_source)

    def pointed(called: set[str]) -> set[str]:
        return {f for f in functions if f.rpartition(".")[2] in called}

    failing = []
    for case in result.cases:
        if case.outcome not in {"failed", "error"}:
            continue
        missing = _MISSING_ATTRIBUTE.search(case.message)
        if missing and any(f.startswith(f"{missing[1]}.") for f in functions):
            return None  # the object's state is missing (no __init__ sets it): the class, not one method
        raised = _raised_in(case.message, module_name) if module_name else None
        at = pointed({raised}) if raised else set()
        failing.append(at if len(at) == 1 else pointed(calls.get(case.name, set())))
    passing = [pointed(calls.get(c.name, set())) for c in result.cases if c.outcome == "passed"]
    if not failing or not passing:
        return None
    suspects = set.intersection(*failing)
    if len(suspects) > 1:
        suspects -= set().union(*passing)
    return suspects.pop() if len(suspects) == 1 else None
