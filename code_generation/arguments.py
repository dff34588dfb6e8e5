"""Arguments a function is given and ignores: named for the feedback, and undone for a retry.

A small model that has just written a function taking ``now`` goes on with
``now = datetime.now()``: every test passes its own ``now`` and gets the present instead. Told so
in the feedback, a small model often keeps the line, so the loop can also take it out itself
(the `restore_arguments` tactic; evidence in docs/tactics.md).
"""

from __future__ import annotations

import ast

from code_generation.syntax_tree import is_empty_body

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _names(node: ast.AST, name: str, ctx: type[ast.expr_context]) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ctx) for n in ast.walk(node))


def _loads(node: ast.AST, name: str) -> bool:
    return _names(node, name, ast.Load)


def _binds(node: ast.AST, name: str) -> bool:
    return _names(node, name, ast.Store)


def overwrite(function: Function, param: str) -> ast.Assign | ast.AnnAssign | None:
    """The assignment to `param` that every call runs before anything reads it, if there is one."""
    pending: list[ast.stmt] = list(function.body)
    while pending:
        stmt = pending.pop(0)
        if isinstance(stmt, ast.With) and any(_loads(i, param) or _binds(i, param) for i in stmt.items):
            return None
        if isinstance(stmt, ast.Try | ast.With):  # their bodies run first, every time
            pending[:0] = stmt.body
            continue
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and not _loads(stmt, param):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == param for t in targets):
                return stmt
        if _loads(stmt, param) or _binds(stmt, param):
            return None
    return None


def _parameters(function: Function) -> list[str]:
    args = function.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]
            if a.arg not in {"self", "cls"} and not a.arg.startswith("_")]


def _functions(code: str) -> list[Function]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [n for n in ast.walk(tree) if isinstance(n, Function) and not is_empty_body(n)]


def ignored_arguments(code: str) -> list[tuple[str, str, bool]]:
    """(function, parameter, overwritten) for each argument a function overwrites before it reads
    it, or never reads at all (a body copied from a sibling function that names its parameter
    differently)."""
    found = []
    for function in _functions(code):
        for param in _parameters(function):
            if overwrite(function, param) is not None:
                found.append((function.name, param, True))
            elif not any(_loads(stmt, param) for stmt in function.body):
                found.append((function.name, param, False))
    return found


def without_overwrites(code: str) -> tuple[str, list[str]] | None:
    """The code with each statement that overwrites an argument before it is read taken out,
    and those statements; None when there is none to take out."""
    lines = code.splitlines()
    cuts: list[ast.stmt] = []
    for function in _functions(code):
        for param in _parameters(function):
            stmt = overwrite(function, param)
            if stmt is None or any(stmt is c for c in cuts):
                continue
            end = stmt.end_lineno or stmt.lineno
            if lines[stmt.lineno - 1][: stmt.col_offset].strip() or lines[end - 1][stmt.end_col_offset or 0 :].strip():
                continue  # shares a line with other code
            cuts.append(stmt)
    if not cuts:
        return None
    removed = [ast.unparse(cut) for cut in cuts]
    for cut in sorted(cuts, key=lambda s: s.lineno, reverse=True):
        lines[cut.lineno - 1 : cut.end_lineno or cut.lineno] = [" " * cut.col_offset + "pass"]
    inserted = {i + 1 for i, line in enumerate(lines) if line.strip() == "pass"}
    spare: set[int] = set()
    for node in ast.walk(ast.parse("\n".join(lines))):  # `pass` stays only where a block would be empty
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            ours = [s for s in block if isinstance(s, ast.Pass) and s.lineno in inserted]
            spare.update(s.lineno for s in ours[: len(ours) - (len(ours) == len(block))])
    kept = [line for number, line in enumerate(lines, start=1) if number not in spare]
    return "\n".join(kept) + ("\n" if code.endswith("\n") else ""), removed
