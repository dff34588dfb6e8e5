"""Python's tactics: they read Python's syntax tree, so they apply to Python alone.

Importing this package registers them (the Python plug-in does, see plugin.py); what each does,
and the evidence for it, is in docs/tactics.md.
"""

from code_generation.languages.python.tactics import focus, notes, repairs, request, tracing  # noqa: F401

__all__ = ["focus", "notes", "repairs", "request", "tracing"]
