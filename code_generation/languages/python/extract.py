"""Code out of a model reply, cleaned of what small models add by mistake.

Small models wrap the module in prose, split it over several blocks, paste the test class back,
import the module from itself, or call ``unittest.main()`` at import time. Cleaning works on the
syntax tree but deletes whole line ranges, so the comments and layout the model wrote survive.
"""

from __future__ import annotations

import ast
import re

from code_generation.languages.blocks import BlockRules, Extraction, pick_block, unusable
from code_generation.languages.python import syntax_tree
from code_generation.languages.python.syntax_tree import (  # re-exported: callers import them from here
    Function,
    defined_names,
    definitions,
    empty_functions,
    functions,
    header,
    is_empty_body,
    parses,
    span,
    split_function,
)

__all__ = [
    "Extraction", "Function", "choose_code", "clean_module", "code_blocks", "definitions", "drop_broken_blocks",
    "empty_functions", "extract_module", "functions", "header", "is_empty_body", "span", "splice_function",
    "split_function",
]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_LANGS = {"", "python", "py", "python3", "py3"}


def code_blocks(reply: str) -> list[str]:
    """Fenced Python blocks in order; an unterminated last fence (a cut-off reply) counts too."""
    return [body for lang, body in _FENCE.findall(reply) if lang.lower() in _CODE_LANGS and body.strip()]


def _is_test_code(code: str) -> bool:
    return bool(re.search(r"^\s*class \w+\((unittest\.)?TestCase\)", code, re.MULTILINE)) and not re.search(
        r"^\s*def (?!test)\w+", code, re.MULTILINE
    )


def _looks_like_code(text: str) -> bool:
    return bool(re.search(r"^\s*(def|class|import|from)\s", text, re.MULTILINE)) and parses(text)


def choose_code(reply: str, required: list[str]) -> str | None:
    """Pick the module out of the reply: the block defining what the tests import wins."""
    return pick_block(code_blocks(reply), reply, required,
                      BlockRules(defined_names, _is_test_code, _looks_like_code, parses))


def _is_testcase_class(node: ast.stmt) -> bool:
    if not isinstance(node, ast.ClassDef):
        return False
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if name in {"TestCase", "IsolatedAsyncioTestCase"}:
            return True
    return False


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _is_side_effect_call(node: ast.stmt) -> bool:
    """Top-level calls (``print(f(3))``, ``unittest.main()``, ``sys.exit()``) run on import."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await)


def _self_import(node: ast.stmt, module_name: str) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and node.module == module_name
    if isinstance(node, ast.Import):
        return any(alias.name == module_name for alias in node.names)
    return False


_FILENAME_LINE = re.compile(r"^\s*(File:\s*)?`?[\w./-]+\.py`?:?\s*$", re.IGNORECASE)


def clean_module(
    code: str, module_name: str, test_names: set[str] | None = None, keep: set[str] | None = None
) -> Extraction:
    """Drop self-imports, pasted tests, and code that would run on import; never a name in `keep`."""
    first, _, rest = code.lstrip("\n").partition("\n")
    if _FILENAME_LINE.match(first):
        code = rest  # a bare ``module.py`` heading line: small models copy it from the request
    notes: list[str] = []
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        repaired = drop_broken_blocks(code, keep or set())
        if repaired is None:
            return Extraction(code=code, syntax_error=f"SyntaxError: {exc.msg} (line {exc.lineno})")
        code, notes = repaired
        tree = ast.parse(code)
    test_names = test_names or set()
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        start, end = span(node)
        reason = None
        if _self_import(node, module_name):
            reason = f"removed an import of {module_name} from itself"
        elif _is_testcase_class(node):
            reason = f"removed the test class {node.name} copied into the module"  # type: ignore[attr-defined]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            node.name in test_names or node.name.startswith("test")
        ) and node.name not in (keep or set()):
            reason = f"removed the test function {node.name} from the module"
        elif _is_main_guard(node):
            reason = "removed the `if __name__ == '__main__':` block"
        elif _is_side_effect_call(node):
            reason = f"removed a top-level call on line {node.lineno}"
        elif isinstance(node, ast.Assert):  # the model's own checks, run on import: a wrong one fails it
            reason = f"removed a top-level assert on line {node.lineno}"
        if reason:
            drop.append((start, end))
            notes.append(reason)
    if not drop:
        return Extraction(code=code.strip() + "\n", notes=notes)
    lines = code.splitlines()
    kept = [
        line for number, line in enumerate(lines, start=1) if not any(a <= number <= b for a, b in drop)
    ]
    cleaned = re.sub(r"\n{3,}", "\n\n\n", "\n".join(kept)).strip() + "\n"
    if not parses(cleaned):  # e.g. a dropped block was the only body of something: keep the original
        return Extraction(code=code.strip() + "\n", notes=["cleaning skipped: it broke the syntax"])
    return Extraction(code=cleaned, notes=notes)


_TOP_LEVEL_START = re.compile(r"^(?![\s#)\]}])")  # a line at column 0 that is no comment or closing bracket
_DEFINES = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)")


def drop_broken_blocks(code: str, keep: set[str], tries: int = 3) -> tuple[str, list[str]] | None:
    """The code without the top-level blocks that do not parse, or None when that does not help.

    Small models end a module with a test function holding doctest output as code
    (``assert f(0) == Traceback (most recent call last):``). Such a block would be removed
    anyway; dropping it from its first line at column 0 to the next one saves a round. A block
    that defines a name in `keep` (what the tests import) is never dropped: that syntax error
    goes back to the model.
    """
    notes: list[str] = []
    wanted = {m[1] for line in code.splitlines() if (m := _DEFINES.match(line))} & keep
    for _ in range(tries):
        try:
            ast.parse(code)
        except SyntaxError as exc:
            lines = code.splitlines()
            at = min(max((exc.lineno or 1) - 1, 0), max(len(lines) - 1, 0))
            starts = [i for i, line in enumerate(lines) if line.strip() and _TOP_LEVEL_START.match(line)]
            first = max((i for i in starts if i <= at), default=None)
            if first is None:
                return None
            while first - 1 >= 0 and lines[first - 1].startswith("@"):
                first -= 1  # the block's decorators go with it
            last = min((i for i in starts if i > at and not lines[i].startswith("@")), default=len(lines))
            defined = {m[1] for line in lines[first:last] if (m := _DEFINES.match(line))}
            if defined & keep:
                return None
            notes.append(f"removed lines {first + 1}-{last}, which did not parse ({exc.msg})")
            code = "\n".join(lines[:first] + lines[last:])
        else:
            return (code, notes) if wanted <= defined_names(code) else None
    return None


def extract_module(
    reply: str,
    module_name: str,
    required: list[str] | None = None,
    test_names: set[str] | None = None,
) -> Extraction:
    """The whole job: choose the block(s) and clean them; `code` is None when the reply has no code."""
    code = choose_code(reply, required or [])
    if code is None or not code.strip():
        return Extraction(code=None, notes=["the reply contained no Python code"])
    result = clean_module(code, module_name, test_names, set(required or []))
    if result.code is None or result.syntax_error is not None:
        return result
    refused = unusable(result, defined_names(result.code), required)
    if refused is not None:
        return refused
    return result


def splice_function(module: str, reply: str, name: str) -> str | None:
    """`module` with its function (or ``"Class.method"``) `name` replaced by the one the reply wrote
    (see `syntax_tree.splice_function`); None when the reply holds none or the result does not parse."""
    return syntax_tree.splice_function(module, code_blocks(reply) or [reply], name)
