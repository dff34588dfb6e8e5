"""Test results turned into feedback a model can act on, within a size budget."""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

from code_generation.languages.base import PER_CASE_CHARS, trim
from code_generation.languages.python.examples import plain
from code_generation.languages.python.prompts import TAMPERED_NOTE
from code_generation.languages.python.syntax_tree import definitions
from code_generation.sandbox.runner import CaseResult, SandboxResult

__all__ = ["culprit", "details", "failures_of", "failing_check", "missing_module",
           "tampered_note", "type_note", "verdict"]

def verdict(result: SandboxResult) -> str:
    """One clause for the feedback's first line."""
    if result.success:
        return "passes every test"
    if result.status == "tampered":
        return "was rejected: it modified the testing framework instead of passing the tests"
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


def _test_statement(message: str, test_source: str, test_filename: str) -> ast.stmt | None:
    """The test file's statement the traceback's last frame in it points at."""
    lines = re.findall(rf'File "[^"]*{re.escape(test_filename)}", line (\d+)', message)
    if not lines or not test_source:
        return None
    try:
        return _statement_at(ast.parse(test_source), int(lines[-1]))
    except SyntaxError:
        return None


def failing_check(message: str, test_source: str, test_filename: str) -> str | None:
    """The whole check a traceback points into, when its one quoted line does not show it.

    Python quotes only the first line of a statement: for ``with self.assertRaises(E):`` and for
    a call spread over several lines, the model would not see what was called with what.
    """
    stmt = _test_statement(message, test_source, test_filename)
    if stmt is None:
        return None
    if isinstance(stmt, ast.With) and "not raised" in message:
        calls = "; ".join(plain(s) for s in stmt.body)
        raised = re.search(r"(\w+) not raised", message)
        return f"`{calls}` should raise {raised.group(1) if raised else 'an exception'} but returned normally."
    if (stmt.end_lineno or stmt.lineno) > stmt.lineno:
        return f"The failing check, in full: `{' '.join(plain(stmt).split())}`"
    return None


_KINDS = {list: "a list", tuple: "a tuple", str: "a string", int: "an int", float: "a float", dict: "a dict", set: "a set"}


def _type_difference(first: object, second: object, path: str = "") -> tuple[str, object, object] | None:
    """The first place two values differ in type (a tuple for a list, "4" for 4), with its path."""
    a, b = type(first), type(second)
    if a is not b:
        if {a, b} <= {int, float}:
            return None  # 3 == 3.0: unittest would not have failed on that
        if a in _KINDS and b in _KINDS:
            return path, first, second
        return None
    if isinstance(first, dict) and isinstance(second, dict):
        for key in first:
            if key in second and (found := _type_difference(first[key], second[key], f"{path}[{key!r}]")):
                return found
    elif isinstance(first, list | tuple) and isinstance(second, list | tuple):
        for index, (x, y) in enumerate(zip(first, second, strict=False)):
            if found := _type_difference(x, y, f"{path}[{index}]"):
                return found
    return None


def _is_expected(node: ast.expr) -> bool:
    """An argument that states the expected value: a literal, or a name bound to one."""
    return isinstance(node, ast.Constant | ast.List | ast.Tuple | ast.Dict | ast.Set | ast.Name)


def type_note(message: str, test_source: str = "", test_filename: str = "") -> str | None:
    """A sentence on a difference of type that an ``X != Y`` line hides from a small model.

    ``{'args': ('-m', 'pytest')} != {'args': ['-m', 'pytest']}`` reads as equal to a small
    model, which then rewrites everything but the tuple. Named, it is one fix.
    """
    line = re.search(r"^AssertionError: (.+?) != (.+)$", message, re.MULTILINE)
    if line is None:
        return None
    text = f"{line.group(1)} != {line.group(2)}"
    values = None
    for at in (m.start() for m in re.finditer(" != ", text)):  # the split where both sides are literals
        try:
            values = ast.literal_eval(text[:at]), ast.literal_eval(text[at + 4 :])
            break
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    if values is None or (found := _type_difference(*values)) is None:
        return None
    path, first, second = found
    where = f" at `{path}`" if path else ""
    got, wanted = (first, second)
    stmt = _test_statement(message, test_source, test_filename)
    call = stmt.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else None
    args = call.args if call is not None else []
    if len(args) >= 2 and _is_expected(args[0]) and not _is_expected(args[1]):
        got, wanted = second, first
    elif not (len(args) >= 2 and _is_expected(args[1])):
        return (f"The two values differ in type{where}: {_KINDS[type(first)]}, `{first!r}`, against "
                f"{_KINDS[type(second)]}, `{second!r}`.")
    return (f"The values differ in type{where}: the code gives {_KINDS[type(got)]}, `{got!r}`, "
            f"where the test expects {_KINDS[type(wanted)]}, `{wanted!r}`.")


CaseNote = Callable[[str, str, str], str | None]  # (message, test source, test filename) -> a sentence


def details(
    result: SandboxResult, budget: int = 3500, test_source: str = "", test_filename: str = "",
    case_notes: Sequence[CaseNote] | None = None,
) -> str:
    """Each failing test with its message, then any stderr that explains a crash.

    Under each message: the whole failing check when the traceback quotes only its first line,
    then each of `case_notes` (None: the note on a difference of type, `type_note`).
    """
    notes: Sequence[CaseNote] = (type_note,) if case_notes is None else case_notes
    if result.status == "tampered":
        return tampered_note(result)
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
        return "Error:\n" + trim(text, budget)
    parts: list[str] = []
    used = 0
    failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
    for number, case in enumerate(failing, start=1):
        kind = "FAIL" if case.outcome == "failed" else "ERROR"
        block = f"{kind}: {case.name}\n{trim(case.message, PER_CASE_CHARS)}"
        if test_source and (check := failing_check(case.message, test_source, test_filename)):
            block += f"\n{trim(check, PER_CASE_CHARS)}"
        for case_note in notes:
            if note := case_note(case.message, test_source, test_filename):
                block += f"\n{trim(note, PER_CASE_CHARS)}"
        if used + len(block) > budget:
            parts.append(f"... and {len(failing) - number + 1} more failing tests")
            break
        parts.append(block)
        used += len(block)
    passed = [c.name for c in result.cases if c.outcome == "passed"]
    if passed:
        parts.append("These tests already pass; keep them passing: " + ", ".join(passed[:20]))
    return "\n\n".join(parts) if parts else trim(result.message or result.stderr, budget)


def tampered_note(result: SandboxResult) -> str:
    """What the model is told when its module tampered with the tests (status ``tampered``)."""
    reason = result.message.split(": ", 1)[-1] if ": " in result.message else result.message
    return TAMPERED_NOTE.format(reason=trim(reason, PER_CASE_CHARS))


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


def _called_by_test(tree: ast.Module) -> dict[str, set[str]]:
    """Per test ("Class.test_x" or "test_x"), the names it calls."""
    return {
        name: _calls_in(node) for name, node in definitions(tree).items()
        if not isinstance(node, ast.ClassDef) and name.rpartition(".")[2].startswith("test")
    }


_MISSING_ATTRIBUTE = re.compile(r"AttributeError: '(\w+)' object has no attribute")


def _raised_in(message: str, module_name: str) -> str | None:
    """The function of the module where a test's error was raised: the innermost module frame."""
    frames = re.findall(rf'File "(?:[^"]*/)?{re.escape(module_name)}\.py", line \d+, in (\w+)', message)
    return frames[-1] if frames else None


def _pointers(
    result: SandboxResult, test_source: str, functions: list[str], module_name: str | None
) -> list[tuple[CaseResult, set[str]]] | None:
    """Each test with the functions it points at: what it calls, or, for an error raised inside
    the module, the function the traceback names. None when an object of a class lacks state."""
    try:
        tree: ast.Module | None = ast.parse(test_source)
    except SyntaxError:
        tree = None
    calls = _called_by_test(tree) if tree is not None else {}

    def pointed(called: set[str]) -> set[str]:
        return {f for f in functions if f.rpartition(".")[2] in called}

    pointers = []
    for case in result.cases:
        called = pointed(calls.get(case.name, set()))
        if case.outcome in {"failed", "error"}:
            missing = _MISSING_ATTRIBUTE.search(case.message)
            if missing and any(f.startswith(f"{missing[1]}.") for f in functions):
                return None  # no __init__ set up the object's state: the class, not one method
            raised = _raised_in(case.message, module_name) if module_name else None
            statement = _failing_statement(case, tree)
            # The most precise evidence first: where the error was raised, the check that failed, the test.
            for evidence in ({raised} if raised else set(), _calls_in(statement) if statement else set()):
                if len(at := pointed(evidence)) == 1:
                    called = at
                    break
        pointers.append((case, called))
    return pointers


def _failing_statement(case: CaseResult, tree: ast.Module | None) -> ast.stmt | None:
    """The statement of the test the traceback stops at (a ``with`` block: all of it)."""
    method = case.name.rpartition(".")[2]
    lines = re.findall(rf'File "[^"]*", line (\d+), in {re.escape(method)}\b', case.message)
    return _statement_at(tree, int(lines[-1])) if tree is not None and lines else None


def _calls_in(node: ast.AST) -> set[str]:
    """``f(...)`` and ``obj.f(...)`` both give f."""
    called = (n.func for n in ast.walk(node) if isinstance(n, ast.Call))
    return {f.id if isinstance(f, ast.Name) else f.attr for f in called if isinstance(f, ast.Name | ast.Attribute)}


def _failing(case: CaseResult) -> bool:
    return case.outcome in {"failed", "error"}


def culprit(
    result: SandboxResult, test_source: str, functions: list[str], module_name: str | None = None
) -> str | None:
    """The function (or ``"Class.method"``) of several to ask for alone, when some tests pass.

    Rewriting the whole module, a small model often breaks what passes; so one function is asked
    for at a time. A failing test points at the function its error was raised in, else at the one
    function the failing check calls, else at what the test calls. The one function every failing test points at
    goes first (ties go to one no passing test calls); when the failures split, the function the
    most failing tests point at alone (ties: the first in `functions`). Otherwise none.
    """
    if len(functions) < 2 or result.status != "ok":
        return None
    pointers = _pointers(result, test_source, functions, module_name)
    if pointers is None:
        return None
    failing = [at for case, at in pointers if _failing(case)]
    passing = [at for case, at in pointers if case.outcome == "passed"]
    if not failing or not passing:
        return None
    suspects = set.intersection(*failing)
    if len(suspects) > 1:
        suspects -= set().union(*passing)
    if len(suspects) == 1:
        return suspects.pop()
    if suspects:
        return None  # several functions, each called by every test: no one to blame
    votes = Counter(next(iter(at)) for at in failing if len(at) == 1)
    top = max(votes.values(), default=0)
    return next((f for f in functions if top and votes[f] == top), None)


def failures_of(
    result: SandboxResult, test_source: str, functions: list[str], module_name: str | None, name: str
) -> SandboxResult:
    """The result with only the failing tests that point at `name` (the passing ones stay)."""
    pointers = _pointers(result, test_source, functions, module_name) or []
    kept = [case for case, at in pointers if not _failing(case) or name in at]
    return replace(result, cases=kept) if kept else result
