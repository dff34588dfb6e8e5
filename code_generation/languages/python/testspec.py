"""What a test file asks of the module under test, read from its syntax tree (never imported)."""

from __future__ import annotations

import ast
import sys

from code_generation.languages.base import TestFileError, TestSpec

_TEST_HELPERS = {"unittest", "pytest", "hypothesis", "doctest", "typing", "_pytest"}
# Syntax nodes inside one another. The skeleton, the feedback and the prompts walk the tests' tree
# with recursive code (ast.NodeTransformer, copy.deepcopy, ast.unparse: several frames a level),
# which a test file nested deeper than this would take past Python's recursion limit.
MAX_DEPTH = 100


def _depth(tree: ast.AST) -> int:
    """How deep the syntax tree goes (a loop: the tree may be deeper than Python's stack)."""
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _local_imports(tree: ast.Module) -> dict[str, list[str]]:
    """Non-stdlib modules the tests import, with the names they take from each."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root not in sys.stdlib_module_names and root not in _TEST_HELPERS:
                found.setdefault(node.module, []).extend(a.name for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root not in sys.stdlib_module_names and root not in _TEST_HELPERS:
                    found.setdefault(alias.name, [])
    return found


def _attribute_uses(tree: ast.Module, module_name: str) -> list[str]:
    """For `import mod` style tests: the `mod.name` attributes they use."""
    names = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == module_name
    }
    return sorted(names)


def _tests(tree: ast.Module) -> tuple[set[str], int]:
    names: set[str] = set()
    count = 0
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            methods = [
                n.name
                for n in node.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
            ]
            if methods:
                names.add(node.name)
                names.update(methods)
                count += len(methods)
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.add(node.name)
            count += 1
    return names, count


def analyse_test_source(source: str, module_name: str, test_label: str = "the test file") -> TestSpec:
    """Check the tests parse and import `module_name`; errors name both sides when they don't."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise TestFileError(
            f"{test_label} does not parse (line {exc.lineno}: {exc.msg}): fix it before generating code"
        ) from exc
    except (ValueError, RecursionError, MemoryError) as exc:  # absurd nesting: Python's parser gives up
        raise TestFileError(f"{test_label} nests too deeply to be parsed as Python: fix it before generating code") from exc
    if (depth := _depth(tree)) > MAX_DEPTH:
        raise TestFileError(f"{test_label} nests expressions and blocks {depth} deep, more than the {MAX_DEPTH} "
                            "a test file is read with: split them up")
    imports = _local_imports(tree)
    if module_name not in imports:
        others = ", ".join(sorted(imports)) or "no module of yours"
        raise TestFileError(
            f"{test_label} imports {others}, but the output file is {module_name}.py: "
            f"make the test import {module_name}, or name the output after the module it imports"
        )
    names = imports[module_name] or _attribute_uses(tree, module_name)
    test_names, count = _tests(tree)
    if count == 0:
        raise TestFileError(f"{test_label} defines no tests (no test_* methods or functions)")
    return TestSpec(module_name, list(dict.fromkeys(names)), test_names, count)
