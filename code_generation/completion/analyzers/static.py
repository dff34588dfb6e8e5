"""pyflakes and mypy on the completed file (the project's static checks, as plug-ins).

Both read the whole file, so what they report about the user's own code before the completion
is subtracted (`subtract_baseline`): the model is told only about what its code added.
"""

from __future__ import annotations

import time

from code_generation.completion.analyzers.base import AnalysisInput, Report, register
from code_generation.languages.python import static_checks


@register("pyflakes")
class PyflakesAnalyzer:
    """Syntax errors and undefined names (errors), unused imports and variables (advice)."""

    name = "pyflakes"
    subtract_baseline = True

    def analyze(self, source: AnalysisInput) -> Report:
        started = time.monotonic()
        findings = static_checks.check_module(source.text, f"{source.module_name}.py")
        return Report(self.name, findings, seconds=time.monotonic() - started)


@register("mypy")
class MypyAnalyzer:
    """mypy's type errors; advice, as in create-script: code with a wrong annotation can still work."""

    name = "mypy"
    subtract_baseline = True

    def analyze(self, source: AnalysisInput) -> Report:
        started = time.monotonic()
        findings = static_checks.typecheck(source.text, source.module_name)
        return Report(self.name, findings, seconds=time.monotonic() - started)
