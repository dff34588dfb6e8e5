"""General helpers on a module's syntax tree: its definitions, their line spans, empty bodies,
and one function split out of a module or spliced into it.

Edits work on the tree but cut and insert whole line ranges, so comments and layout survive.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Sequence

Function = ast.FunctionDef | ast.AsyncFunctionDef


def parses(code: str) -> bool:
    """Whether `code` is valid Python."""
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def defined_names(code: str) -> set[str]:
    """Names the module binds at its top level: definitions, assignments and imports."""
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


def definitions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Top-level functions and classes and their methods, by ``"Class.method"`` style name."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        found[f"{node.name}.{item.name}"] = item
    return found


def is_empty_body(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A stub: only a docstring, ``pass`` or ``...`` (it returns None)."""
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in node.body
    )



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


def import_position(tree: ast.Module) -> int:
    """The line index after the module docstring and ``from __future__`` imports."""
    at = 0
    for node in tree.body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]
        if is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            at = node.end_lineno or node.lineno
        else:
            break
    return at


def splice_function(module: str, blocks: Sequence[str], name: str) -> str | None:
    """`module` with its function (or ``"Class.method"``) `name` replaced by the first of `blocks`
    (a reply's code blocks) that writes it.

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
    for block in blocks:
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

        defined = defined_names(module)
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
        return code if parses(code) else None
    return None
