"""Analyzers that run the completed file, always in the project's sandbox (runner.py).

`tests`: the user's unittest file, when one is given (the same judge as create-script).
`doctest`: the examples in the docstrings of the functions the completion writes or finishes.
They are the user's own examples, in the file, not hidden tests: a HumanEval prompt, or a
developer's half-written function, often carries them. Examples of other functions are not
the completion's business and are not run as its findings.
"""

from __future__ import annotations

import ast
import time

from code_generation.completion.analyzers import _jedi
from code_generation.completion.analyzers.base import AnalysisInput, Report, register
from code_generation.languages.python import feedback
from code_generation.sandbox.runner import run_doctests, run_tests
from code_generation.types import Finding

FEEDBACK_BUDGET = 3000  # characters of test failures sent back


@register("tests")
class TestsAnalyzer:
    """The user's tests against the completed file: each failing test is an error."""

    name = "tests"
    subtract_baseline = False

    def analyze(self, source: AnalysisInput) -> Report:
        started = time.monotonic()
        if not source.test_source or not source.test_filename:
            return Report(self.name, skipped="no test file", seconds=0.0)
        result = run_tests(source.text, source.module_name, source.test_source, source.test_filename,
                           limits=source.limits)
        failing = [c for c in result.cases if c.outcome in {"failed", "error"}]
        findings = [Finding(0, f"{c.name} {c.outcome}", True, self.name) for c in failing]
        if not result.success and not findings:  # no test ran: an import error, a timeout, a crash
            findings = [Finding(0, result.message or result.status, True, self.name)]
        detail = "" if result.success else feedback.details(result, FEEDBACK_BUDGET, source.test_source, source.test_filename)
        return Report(self.name, findings, result.tests_run, result.passed, detail, seconds=time.monotonic() - started)


def _own_functions(source: AnalysisInput) -> set[str]:
    """Qualified names (``K.m``, ``f``) of the functions and classes the completion's lines touch."""
    module = _jedi.tree(source.text)
    if module is None:
        return set()
    names: set[str] = set()

    def visit(nodes: list[ast.stmt], outer: str) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{outer}{node.name}"
                end = node.end_lineno or node.lineno
                if node.lineno <= source.last_line and end >= source.first_line:
                    names.add(name)
                visit(node.body, f"{name}.")

    visit(module.body, "")
    return names


@register("doctest")
class DoctestAnalyzer:
    """The docstring examples of the completion's functions, run in the sandbox (errors)."""

    name = "doctest"
    subtract_baseline = False

    def analyze(self, source: AnalysisInput) -> Report:
        started = time.monotonic()
        own = _own_functions(source)
        if not own or ">>>" not in source.text:
            return Report(self.name, skipped="no examples to run", seconds=time.monotonic() - started)
        result = run_doctests(source.text, source.module_name, limits=source.limits)
        if result.status in {"import_error", "crashed", "timeout"}:
            message = feedback.details(result, FEEDBACK_BUDGET)
            return Report(self.name, [Finding(0, f"running the file's examples failed: {result.status}", True, self.name)],
                          detail=message, seconds=time.monotonic() - started)
        cases = [c for c in result.cases if c.name in own]
        failing = [c for c in cases if c.outcome in {"failed", "error"}]
        findings = [Finding(0, f"the examples in the docstring of `{c.name}` fail", True, self.name) for c in failing]
        detail = "\n\n".join(_example_failure(c.message) for c in failing)
        return Report(self.name, findings, len(cases), len(cases) - len(failing), detail[:FEEDBACK_BUDGET],
                      seconds=time.monotonic() - started)


def _example_failure(message: str) -> str:
    """doctest's report without its header lines and doctest's own stack frames: the example,
    what was expected, and what came (the exception's last line, when one was raised)."""
    body = message.split("Failed example:", 1)
    text = "Failed example:" + body[1] if len(body) == 2 else message
    kept, in_traceback = [], False
    for line in text.splitlines():
        if line.strip().startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if in_traceback and (line.startswith("      ") or line.strip().startswith("File ")):
            continue
        in_traceback = False
        kept.append(line)
    return "\n".join(kept)
