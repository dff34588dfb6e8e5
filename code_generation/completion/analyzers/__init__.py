"""Analyzers of a completion, each a plug-in behind `Analyzer` and registered by name.

Importing this package registers the built-in ones: pyflakes, mypy, signature, hallucination,
doctest and tests.
"""

from code_generation.completion.analyzers import hallucination, sandboxed, signature, static  # noqa: F401  (registers)
from code_generation.completion.analyzers.base import (
    AnalysisInput,
    Analyzer,
    Report,
    available,
    create,
    register,
)

# Without a test file; "tests" joins them when the user gives one.
DEFAULT_ANALYZERS = ("pyflakes", "mypy", "signature", "hallucination", "doctest")

__all__ = ["DEFAULT_ANALYZERS", "AnalysisInput", "Analyzer", "Report", "available", "create", "register"]
