"""One interface for every analyzer of a completion, and a registry of them by name.

Each analyzer is a small plug-in (LLMcoder's design): it reads the completed file and returns a
`Report` of `Finding`s, errors (the code would fail when it runs: a syntax error, a name or
attribute that does not exist, a call that does not fit its signature, a failing test) or advice
(mypy's type findings, unused names). The search ranks candidates by their reports and sends the
findings back to the model; a completion with no errors (and passing tests, if any) ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from code_generation.sandbox.runner import SandboxLimits
from code_generation.types import Finding


@dataclass(frozen=True)
class AnalysisInput:
    """The completed file and where in it the completion is."""

    text: str  # the completed file (no BOM)
    module_name: str  # the import name the sandbox and mypy give the file
    first_line: int  # 1-based lines of the completion in `text`
    last_line: int
    path: str | None = None  # the real file, so jedi finds the modules beside it
    test_source: str | None = None  # a unittest file, when the user gave one
    test_filename: str | None = None
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def in_completion(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line

    def source_line(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1].strip() if 1 <= line <= len(lines) else ""


class SortsFindings:
    """Errors and advice, split from `self.findings`, for every holder of findings."""

    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.critical]

    @property
    def advice(self) -> list[Finding]:
        return [f for f in self.findings if not f.critical]


@dataclass
class Report(SortsFindings):
    """What one analyzer found; `detail` is extra feedback text (a test run's failures)."""

    analyzer: str
    findings: list[Finding] = field(default_factory=list)
    tests_run: int = 0
    tests_passed: int = 0
    detail: str = ""
    skipped: str = ""  # why the analyzer could not judge (mypy crashed, nothing to test)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "analyzer": self.analyzer,
            "findings": [{"line": f.line, "message": f.message, "error": f.critical} for f in self.findings],
            "tests_run": self.tests_run,
            "tests_passed": self.tests_passed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


class Analyzer(Protocol):
    """A plug-in: a name, whether its findings on the original file are subtracted, and `analyze`."""

    name: str
    # True: findings the file had before the completion (at the same place) are not the
    # completion's and are dropped. False: the analyzer already looks only at the completion.
    subtract_baseline: bool

    def analyze(self, source: AnalysisInput) -> Report: ...


_REGISTRY: dict[str, Callable[[], Analyzer]] = {}


def register(name: str) -> Callable[[Callable[[], Analyzer]], Callable[[], Analyzer]]:
    """Class decorator: make an analyzer available under `name` (for --analyzers and the API)."""

    def add(factory: Callable[[], Analyzer]) -> Callable[[], Analyzer]:
        _REGISTRY[name] = factory
        return factory

    return add


def available() -> list[str]:
    return sorted(_REGISTRY)


def create(names: list[str] | tuple[str, ...]) -> list[Analyzer]:
    """Analyzers by name, in the order given; an unknown name is a ValueError naming the known ones."""
    unknown = [n for n in names if n not in _REGISTRY]
    if unknown:
        raise ValueError(f"unknown analyzer {', '.join(unknown)}: choose from {', '.join(available())}")
    return [_REGISTRY[n]() for n in dict.fromkeys(names)]
