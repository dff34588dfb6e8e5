"""Code out of a model reply, cleaned of what small models add by mistake.

Small models wrap the module in prose, split it over several blocks, paste the test class back,
import the module from itself, or call ``unittest.main()`` at import time. Cleaning works on the
syntax tree but deletes whole line ranges, so the comments and layout the model wrote survive.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field

from code_generation.imports import add_missing_imports, import_position
from code_generation.skeleton import definitions

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_LANGS = {"", "python", "py", "python3", "py3"}


@dataclass
class Extraction:
    """The module a reply holds (None when it holds none) and what cleaning did."""

    code: str | None
    notes: list[str] = field(default_factory=list)
    syntax_error: str | None = None


def code_blocks(reply: str) -> list[str]:
    """Fenced Python blocks in order; an unterminated last fence (a cut-off reply) counts too."""
    return [body for lang, body in _FENCE.findall(reply) if lang.lower() in _CODE_LANGS and body.strip()]


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _defined_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _is_test_code(code: str) -> bool:
    return bool(re.search(r"^\s*class \w+\((unittest\.)?TestCase\)", code, re.MULTILINE)) and not re.search(
        r"^\s*def (?!test)\w+", code, re.MULTILINE
    )


def _looks_like_code(text: str) -> bool:
    return bool(re.search(r"^\s*(def|class|import|from)\s", text, re.MULTILINE)) and _parses(text)


def choose_code(reply: str, required: list[str]) -> str | None:
    """Pick the module out of the reply: the block defining what the tests import wins."""
    blocks = code_blocks(reply)
    if not blocks:
        stripped = reply.strip()
        return stripped if stripped and _looks_like_code(stripped) else None
    if required:
        complete = [b for b in blocks if set(required) <= _defined_names(b)]
        if complete:
            return max(complete, key=len)
    useful = [b for b in blocks if not _is_test_code(b)] or blocks
    if len(useful) == 1:
        return useful[0]
    joined = "\n\n".join(b.rstrip() for b in useful)
    return joined if _parses(joined) else max(useful, key=len)


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
        elif isinstance(node, ast.FunctionDef) and (
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
    if not _parses(cleaned):  # e.g. a dropped block was the only body of something: keep the original
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
            return (code, notes) if wanted <= _defined_names(code) else None
    return None


def extract_module(
    reply: str,
    module_name: str,
    required: list[str] | None = None,
    test_names: set[str] | None = None,
    reference: str | None = None,
) -> Extraction:
    """The whole job: choose the block(s), clean, add forgotten imports; `code` is None when the reply has no code.

    `reference` is the code the request showed: an import it used binds the same name here.
    """
    code = choose_code(reply, required or [])
    if code is None or not code.strip():
        return Extraction(code=None, notes=["the reply contained no Python code"])
    result = clean_module(code, module_name, test_names, set(required or []))
    if result.code is None or result.syntax_error is not None:
        return result
    defined = _defined_names(result.code)
    if not defined:
        return Extraction(code=None, notes=[*result.notes, "the code defines nothing"])
    if required and not defined & set(required):
        wanted = ", ".join(f"`{name}`" for name in required)
        return Extraction(code=None, notes=[*result.notes, f"the code does not define {wanted}"])
    result.code, added = add_missing_imports(result.code, reference)
    result.notes.extend(f"added the missing `{statement}`" for statement in added)
    return result


def is_empty_body(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A stub: only a docstring, ``pass`` or ``...`` (it returns None)."""
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in node.body
    )


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def functions(code: str, names: list[str]) -> dict[str, Function]:
    """The module-level functions among `names` and the methods of the classes among them.

    A method is named ``"Class.method"``; dunder methods are left out (``__init__`` with ``pass``
    is a real body, and the tests never call one by name). In the order of `names`.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    found: dict[str, Function] = {}
    defined = definitions(tree)
    for name in names:
        node = defined.get(name)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, Function) and not _is_dunder(item.name):
                    found[f"{name}.{item.name}"] = item
        elif node is not None:
            found[name] = node
    return found


def empty_functions(code: str, names: list[str]) -> list[str]:
    """Functions and methods (see `functions`) whose body is still only a docstring, ``pass`` or ``...``."""
    return [name for name, node in functions(code, names).items() if is_empty_body(node)]


def span(node: ast.stmt) -> tuple[int, int]:
    """First and last line of a statement, decorators included (1-based, inclusive)."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return start, node.end_lineno or node.lineno


def _function_of(module: str, name: str) -> tuple[ast.Module, Function] | None:
    try:
        tree = ast.parse(module)
    except SyntaxError:
        return None
    node = definitions(tree).get(name)
    return (tree, node) if isinstance(node, Function) else None


def split_function(module: str, name: str) -> tuple[str, str]:
    """The module without the function (or ``"Class.method"``) `name`, and its source, dedented."""
    found = _function_of(module, name)
    if found is None:
        return module, ""
    lines = module.splitlines()
    first, last = span(found[1])
    rest = re.sub(r"\n{3,}", "\n\n\n", "\n".join([*lines[:first - 1], *lines[last:]]))
    return rest.strip() + "\n", textwrap.dedent("\n".join(lines[first - 1:last])) + "\n"


def header(module: str, name: str) -> str:
    """The function (or ``"Class.method"``) `name` with its body left out: decorators, the
    ``def`` line and the docstring, dedented, then ``...``. Empty when there is no such function."""
    found = _function_of(module, name)
    if found is None:
        return ""
    node = found[1]
    first = span(node)[0]
    body = node.body[0]
    docstring = isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant) and isinstance(body.value.value, str)
    end = (body.end_lineno or body.lineno) if docstring else body.lineno - 1
    if end < node.lineno:  # `def f(): return 1` on one line
        return ""
    lines = module.splitlines()[first - 1:end]
    return textwrap.dedent("\n".join(lines)) + "\n    ...\n"


def _written(new: ast.Module, name: str) -> tuple[Function | None, list[Function]]:
    """The reply's version of `name` (top level, or inside its class for a method), and the other
    methods the reply's class has (new helper methods come along with a method)."""
    owner, _, member = name.rpartition(".")
    top = [n for n in new.body if isinstance(n, Function) and n.name == member]
    if owner:
        cls = next((n for n in new.body if isinstance(n, ast.ClassDef) and n.name == owner), None)
        methods = [i for i in cls.body if isinstance(i, Function)] if cls else []
        inside = [m for m in methods if m.name == member]
        if inside:
            return inside[0], [m for m in methods if m.name != member]
    return (top[0] if top else None), []


def splice_function(module: str, reply: str, name: str) -> str | None:
    """`module` with its function (or ``"Class.method"``) `name` replaced by the one the reply wrote.

    The reply's new imports go to the top and its new helpers before the function (before the
    class, for a method; a helper method the reply's class adds goes after the method). None when
    the reply holds no non-empty `name`, or the result does not parse: the caller then reads the
    reply as a whole module.
    """
    found = _function_of(module, name)
    if found is None:
        return None
    tree, target = found
    owner = name.rpartition(".")[0]
    holder = definitions(tree).get(owner) if owner else target
    assert holder is not None
    for block in code_blocks(reply) or [reply]:
        try:
            new = ast.parse(block)
        except SyntaxError:
            continue
        function, siblings = _written(new, name)
        if function is None or is_empty_body(function):
            continue
        block_lines = block.splitlines()

        def source(node: ast.stmt, lines: list[str] = block_lines) -> str:
            start, end = span(node)
            return textwrap.dedent("\n".join(lines[start - 1:end]))

        defined = _defined_names(module)
        present = {ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)}
        imports = [source(n) for n in new.body if isinstance(n, ast.Import | ast.ImportFrom) and ast.unparse(n) not in present]
        helpers = [source(n) for n in new.body if isinstance(n, Function | ast.ClassDef)
                   and n.name not in defined and n is not function]
        known = {n.name for n in getattr(holder, "body", []) if isinstance(n, Function)}
        extra = [source(m) for m in siblings if m.name not in known]
        gap = "\n\n" if owner else "\n\n\n"
        body = textwrap.indent(gap.join([source(function), *extra]), " " * target.col_offset)
        lines = module.splitlines()
        first, last = span(target)
        spliced = [*lines[:first - 1], body, *lines[last:]]
        if helpers:
            at = span(holder)[0] - 1
            spliced[at:at] = ["\n\n\n".join(helpers) + "\n\n"]
        at = import_position(tree)
        spliced[at:at] = imports
        code = "\n".join(spliced).strip() + "\n"
        return code if _parses(code) else None
    return None
