"""The imports a generated module forgot, added before its tests run.

A small model writes ``@dataclasses.dataclass`` under ``from dataclasses import dataclass``, or
``List[int]`` with no ``typing`` import, and then copies the same import line back round after
round, every attempt failing at import for that one name. The missing name is found by pyflakes (it reads the syntax tree; nothing runs) and bound
by the import the request's own skeleton used, else by the standard library module or the well-
known standard-library name it is.
"""

from __future__ import annotations

import ast
import importlib
import sys
from functools import cache, lru_cache

from pyflakes import checker, messages

from code_generation.syntax_tree import import_position

__all__ = ["add_missing_imports", "import_for", "import_position", "undefined_names"]

# Modules whose public names a model uses bare; on a clash the earlier module wins (collections'
# Counter, not typing's deprecated alias).
_FROM_MODULES = (
    "collections", "dataclasses", "functools", "itertools", "math", "fractions", "decimal", "datetime",
    "enum", "pathlib", "heapq", "bisect", "string", "typing",
)  # fmt: skip
_NOT_MODULES = {"this", "antigravity"}  # importing them prints or opens a browser


@cache
def _stdlib_names() -> dict[str, str]:
    """Bare name → ``from module import name`` for the modules above."""
    known: dict[str, str] = {}
    for module_name in _FROM_MODULES:
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for name in public:
            known.setdefault(name, f"from {module_name} import {name}")
    return known


def undefined_names(code: str) -> list[str]:
    """Names the module uses but never binds, in order of first use."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = checker.Checker(tree)
    names: list[str] = []
    for message in found.messages:
        if isinstance(message, messages.UndefinedName) and message.message_args[0] not in names:
            names.append(message.message_args[0])
    return names


@lru_cache(maxsize=8)
def _bindings(reference: str | None) -> dict[str, str]:
    """Name → the import statement that binds it in `reference` (the skeleton shown to the model)."""
    if not reference:
        return {}
    try:
        tree = ast.parse(reference)
    except SyntaxError:
        return {}
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = ast.unparse(ast.Import(names=[alias]))
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                bound[alias.asname or alias.name] = ast.unparse(
                    ast.ImportFrom(module=node.module, names=[alias], level=node.level)
                )
    return bound


def import_for(name: str, reference: str | None = None) -> str | None:
    """The statement that binds `name`, or None when it is no import we know of."""
    if statement := _bindings(reference).get(name):
        return statement
    if name in sys.stdlib_module_names and not name.startswith("_") and name not in _NOT_MODULES:
        return f"import {name}"
    return _stdlib_names().get(name)


def add_missing_imports(code: str, reference: str | None = None) -> tuple[str, list[str]]:
    """`code` with an import for each undefined name we can bind, and the statements added."""
    # A one-letter name is a forgotten variable, not math's e.
    wanted = [n for n in undefined_names(code) if len(n) > 1]
    added = [s for s in dict.fromkeys(import_for(n, reference) for n in wanted) if s]
    if not added:
        return code, []
    tree = ast.parse(code)  # undefined_names found names, so it parses
    lines = code.splitlines()
    at = import_position(tree)
    lines[at:at] = added
    return "\n".join(lines).strip() + "\n", added
