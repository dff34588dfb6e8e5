"""Run the chosen analyzers on one completion and keep only what the completion caused.

Whole-file analyzers (pyflakes, mypy) also report on the user's own code. Each is run once on
the file without the completion (the baseline, cached per analyzer); a finding of the completed
file that the baseline has too, with the same message at the same place (lines after the
insertion point moved down by the completion's length), is the user's and is dropped.
"""

from __future__ import annotations

import ast
import textwrap
from collections import Counter
from dataclasses import dataclass, field, replace

from code_generation.completion.analyzers import AnalysisInput, Analyzer, Report
from code_generation.completion.analyzers.base import SortsFindings
from code_generation.completion.splice import Document
from code_generation.sandbox.runner import SandboxLimits
from code_generation.types import Finding


@dataclass
class Analysis(SortsFindings):
    """Every analyzer's report on one completion, and how it ranks."""

    reports: list[Report] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.reports for f in r.findings]

    @property
    def tests_run(self) -> int:
        return sum(r.tests_run for r in self.reports if r.analyzer == "tests")

    @property
    def tests_passed(self) -> int:
        return sum(r.tests_passed for r in self.reports if r.analyzer == "tests")

    @property
    def accepted(self) -> bool:
        """No analyzer found an error (advice does not block), and every test ran and passed."""
        tests = [r for r in self.reports if r.analyzer == "tests" and not r.skipped]
        return not self.errors and all(r.tests_run and r.tests_passed == r.tests_run for r in tests)

    def score(self) -> tuple[bool, float, int, int]:
        """Higher is better: accepted, share of tests passed, fewest errors, fewest advice."""
        share = self.tests_passed / self.tests_run if self.tests_run else 0.0
        return (self.accepted, share, -len(self.errors), -len(self.advice))

    def to_dict(self) -> dict[str, object]:
        return {"accepted": self.accepted, "errors": len(self.errors), "advice": len(self.advice),
                "reports": [r.to_dict() for r in self.reports]}


class Analyst:
    """The analyzers of one run, bound to its document (for the baselines) and its tests."""

    def __init__(self, analyzers: list[Analyzer], document: Document, module_name: str, path: str | None,
                 test_source: str | None = None, test_filename: str | None = None,
                 limits: SandboxLimits | None = None) -> None:
        self.analyzers = analyzers
        self.document = document
        self.base = AnalysisInput(document.prefix + document.suffix, module_name, document.line, document.line,
                                  path, test_source, test_filename, limits or SandboxLimits())
        self._baselines: dict[str, list[Finding]] = {}

    def _baseline(self, analyzer: Analyzer) -> list[Finding]:
        if analyzer.name not in self._baselines:
            self._baselines[analyzer.name] = analyzer.analyze(self.base).findings
        return self._baselines[analyzer.name]

    def analyze(self, completion: str) -> Analysis:
        first, last = self.document.completion_lines(completion)
        source = replace(self.base, text=self.document.text(completion), first_line=first, last_line=last)
        moved = self.document.lines_added(completion)
        reports = [stub] if (stub := stub_report(completion, first)) else []
        for analyzer in self.analyzers:
            report = analyzer.analyze(source)
            if analyzer.subtract_baseline and report.findings:
                report.findings = _new_findings(report.findings, self._baseline(analyzer), self.document.line, moved)
            reports.append(report)
        return Analysis(reports)


def _does_nothing(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
        return True
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def stub_report(completion: str, line: int) -> Report | None:
    """An error when the completion writes no code: only `pass`, `...`, comments or NotImplementedError.

    Always on, whatever the analyzers: seen with the 1.5B model asked afresh, `# Your code here`
    and `pass` passed every analyzer (none of them has anything to say about nothing).
    """
    try:
        body = ast.parse(textwrap.dedent(completion)).body
    except SyntaxError:
        return None
    if body and not all(_does_nothing(node) for node in body):
        return None
    message = "the completion writes no code (only `pass`, `...`, comments or NotImplementedError): write the real code"
    return Report("completion", [Finding(line, message, True, "completion")])


def _new_findings(found: list[Finding], before: list[Finding], insertion_line: int, moved: int) -> list[Finding]:
    """`found` less those the file had before the completion (same message, same moved place)."""
    old: Counter[tuple[str, int]] = Counter()
    for f in before:
        if f.line <= insertion_line:  # the insertion line itself may have moved or not
            old[(f.message, f.line)] += 1
        if f.line >= insertion_line and moved:
            old[(f.message, f.line + moved)] += 1
    kept = []
    for f in found:
        if old[(f.message, f.line)] > 0:
            old[(f.message, f.line)] -= 1
        else:
            kept.append(f)
    return kept
