"""Test statements rewritten as interactive examples for the skeleton's docstrings.

``self.assertEqual(f(2), 4)`` becomes ``>>> f(2)`` / ``4``; loops over literal cases are written
out, subtests unwrapped, other assertions shown as the plain ``assert`` they mean. Shown to the
model only: the real tests still judge.
"""

from __future__ import annotations

import ast
import copy


def _unparse(node: ast.AST) -> str:
    return ast.unparse(node)


class _DropSelf(ast.NodeTransformer):
    """``self.converter.f(1)`` -> ``converter.f(1)``: fixtures become plain names in examples."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return ast.copy_location(ast.Name(id=node.attr, ctx=node.ctx), node)
        return node


def plain(stmt: ast.AST) -> str:
    """A test statement as source without ``self.`` (the way the skeleton's examples read)."""
    return _unparse(_DropSelf().visit(copy.deepcopy(stmt)))


def _prompt_line(expr: str, result: str | None) -> list[str]:
    lines = expr.splitlines() or [""]
    out = [f">>> {lines[0]}"] + [f"... {line}" for line in lines[1:]]
    if result is not None:
        out.extend(result.splitlines())
    return out


def _raises(exc: ast.expr | None) -> str:
    name = _unparse(exc) if exc is not None else "Exception"
    return f"Traceback (most recent call last):\n    ...\n{name}"


def _assert_call(call: ast.Call, consts: dict[str, str]) -> list[str] | None:
    """One ``self.assertX(...)`` call as doctest lines; None when it is not an assertion."""
    kind = _assert_kind(call)  # ``self.assertEqual`` arrives here as ``assertEqual`` (see _DropSelf)
    if not kind:
        return None
    args = call.args
    if kind in _EQUAL and len(args) >= 2:
        actual, expected = args[0], args[1]
        if _is_value(actual, consts) and not _is_value(expected, consts):
            actual, expected = expected, actual  # assertEqual(expected, actual) is common too
        shown = consts.get(expected.id, expected.id) if isinstance(expected, ast.Name) else _unparse(expected)
        return _prompt_line(_unparse(actual), shown)
    if kind in {"assertTrue", "assert_"} and args:
        return _prompt_line(_unparse(args[0]), "True")
    if kind == "assertFalse" and args:
        return _prompt_line(_unparse(args[0]), "False")
    if kind == "assertIsNone" and args:
        return _prompt_line(_unparse(args[0]), None)
    if kind in _BINARY and len(args) >= 2:
        return _prompt_line(f"{_unparse(args[0])} {_BINARY[kind]} {_unparse(args[1])}", "True")
    if kind == "assertIsInstance" and len(args) >= 2:
        return _prompt_line(f"isinstance({_unparse(args[0])}, {_unparse(args[1])})", "True")
    if kind == "assertIsNotNone" and args:
        return _prompt_line(f"{_unparse(args[0])} is not None", "True")
    if kind in {"assertRaises", "assertRaisesRegex"} and len(args) >= 2:
        call_args = ", ".join(_unparse(a) for a in args[2:])
        return _prompt_line(f"{_unparse(args[1])}({call_args})", _raises(args[0]))
    return None


_EQUAL = {"assertEqual", "assertEquals", "assertAlmostEqual", "assertCountEqual", "assertListEqual",
          "assertDictEqual", "assertTupleEqual", "assertSetEqual", "assertMultiLineEqual"}
_BINARY = {
    "assertNotEqual": "!=", "assertIn": "in", "assertNotIn": "not in", "assertIs": "is",
    "assertIsNot": "is not", "assertGreater": ">", "assertGreaterEqual": ">=", "assertLess": "<",
    "assertLessEqual": "<=", "assertNotAlmostEqual": "!=",
}


def _assert_kind(node: ast.AST) -> str:
    """``"assertEqual"`` for a ``self.assertEqual(...)`` call (already without ``self``), else ``""``."""
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    kind = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return kind if kind.startswith("assert") else ""


_OPERATORS: dict[str, type[ast.cmpop]] = {
    "==": ast.Eq, "!=": ast.NotEq, "in": ast.In, "not in": ast.NotIn, "is": ast.Is, "is not": ast.IsNot,
    ">": ast.Gt, ">=": ast.GtE, "<": ast.Lt, "<=": ast.LtE,
}


def _compare(left: ast.expr, operator: str, right: ast.expr) -> ast.expr:
    return ast.Compare(left=left, ops=[_OPERATORS[operator]()], comparators=[right])


def _condition_node(call: ast.Call) -> ast.expr | None:
    """An assertion as the boolean expression it checks, built as a tree (so ``lambda``, ``yield``
    or a conditional among the arguments keeps its parentheses); None for ``assertTrue(*args)``."""
    kind, args = _assert_kind(call), call.args
    if any(isinstance(a, ast.Starred) for a in args[:2]):
        return None
    if kind in _EQUAL and len(args) >= 2:
        return _compare(args[0], "==", args[1])
    if kind in {"assertTrue", "assert_"} and args:
        return args[0]
    if kind == "assertFalse" and args:
        return ast.UnaryOp(op=ast.Not(), operand=args[0])
    if kind in {"assertIsNone", "assertIsNotNone"} and args:
        return _compare(args[0], "is" if kind == "assertIsNone" else "is not", ast.Constant(None))
    if kind in _BINARY and len(args) >= 2:
        return _compare(args[0], _BINARY[kind], args[1])
    if kind == "assertIsInstance" and len(args) >= 2:
        return ast.Call(func=ast.Name(id="isinstance", ctx=ast.Load()), args=args[:2], keywords=[])
    return None


def _condition(call: ast.Call) -> str | None:
    """An assertion as the boolean expression it checks, for examples inside loops."""
    node = _condition_node(call)
    return None if node is None else _unparse(node)


class _PlainAsserts(ast.NodeTransformer):
    """Test code made into code that runs on its own inside compound statements (valid doctest):
    ``assertEqual(a, b)`` -> ``assert a == b``, ``with subTest(...):`` -> its body, and
    ``with assertRaises(E): f()`` -> a ``try`` that fails unless ``f()`` raises ``E``."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Call) and (condition := _condition_node(node.value)) is not None:
            return ast.copy_location(ast.Assert(test=condition), node)
        return node

    def visit_With(self, node: ast.With) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if _is_subtest(node):
            return node.body
        if (expected := _expected_exception(node)) is not None:
            calls = "; ".join(_unparse(s) for s in node.body)
            fail = ast.parse(f"raise AssertionError({f'{calls} should raise {_unparse(expected)}'!r})").body
            handler = ast.ExceptHandler(type=expected, name=None, body=[ast.Pass()])
            return ast.copy_location(ast.Try(body=node.body, handlers=[handler], orelse=fail, finalbody=[]), node)
        return node


def _is_subtest(stmt: ast.stmt) -> bool:
    """``with subTest(...):``: it only labels the failures of its body."""
    return isinstance(stmt, ast.With) and len(stmt.items) == 1 and _call_name(stmt.items[0].context_expr) == "subTest"


def _expected_exception(stmt: ast.stmt) -> ast.expr | None:
    """The exception of a ``with assertRaises(E):`` block (``Exception`` when it names none)."""
    if not (isinstance(stmt, ast.With) and len(stmt.items) == 1):
        return None
    ctx = stmt.items[0].context_expr
    if _call_name(ctx) not in {"assertRaises", "assertRaisesRegex"}:
        return None
    assert isinstance(ctx, ast.Call)
    return ctx.args[0] if ctx.args else ast.Name(id="Exception", ctx=ast.Load())


def _without_subtests(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """The statements with each ``with subTest(...):`` replaced by its body."""
    return [inner for s in stmts
            for inner in (_without_subtests(s.body) if isinstance(s, ast.With) and _is_subtest(s) else [s])]


class _Substitute(ast.NodeTransformer):
    """Each loaded name of `values` replaced by its value: one pass of a loop, written out."""

    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return ast.copy_location(copy.deepcopy(self.values[node.id]), node)
        return node


MAX_UNROLLED = 8  # passes of a loop written out as examples of their own


def _passes(stmt: ast.For) -> list[dict[str, ast.expr]] | None:
    """The loop variables' values, pass by pass, when the loop runs over a short literal."""
    items = stmt.iter
    if not isinstance(items, ast.List | ast.Tuple | ast.Set) or not 0 < len(items.elts) <= MAX_UNROLLED:
        return None
    target = stmt.target
    if isinstance(target, ast.Name):
        return [{target.id: value} for value in items.elts]
    if not (isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts)):
        return None
    names = [t.id for t in target.elts if isinstance(t, ast.Name)]
    if not all(isinstance(v, ast.Tuple) and len(v.elts) == len(names) for v in items.elts):
        return None
    return [dict(zip(names, v.elts, strict=True)) for v in items.elts if isinstance(v, ast.Tuple)]


def _sentence(stmt: ast.For, body: list[ast.stmt]) -> list[str]:
    """A loop of checks as one plain sentence, a doctest comment: ``# For each x in xs: f(x) raises ValueError.``"""
    checks = []
    for inner in body:
        expected = _expected_exception(inner)
        condition = _condition(inner.value) if isinstance(inner, ast.Expr) and isinstance(inner.value, ast.Call) else None
        if expected is not None and isinstance(inner, ast.With):
            checks.append(f"{'; '.join(_unparse(s) for s in inner.body)} raises {_unparse(expected)}")
        else:
            checks.append(condition or _unparse(_PlainAsserts().visit(copy.deepcopy(inner))))
    text = " ".join(f"For each {_unparse(stmt.target)} in {_unparse(stmt.iter)}: {'; '.join(checks)}.".split())
    return [f">>> # {text}"]


def _loop(stmt: ast.For, consts: dict[str, str]) -> list[str] | None:
    """A loop of checks as examples: ``all(...)`` for one assertion, each pass written out when
    it expects an exception (else a sentence); None for a plain loop of code."""
    body = _without_subtests(stmt.body)
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Call):
        if cond := _condition(body[0].value):
            # ``for n in ...: assertEqual(f(n), n)`` -> ``all(f(n) == n for n in ...)`` / ``True``
            return _prompt_line(f"all({cond} for {_unparse(stmt.target)} in {_unparse(stmt.iter)})", "True")
    if not any(_expected_exception(s) is not None for s in body):
        return None
    passes = _passes(stmt)
    if passes is None:
        return _sentence(stmt, body)
    return [line for values in passes for s in body
            for line in _statement(_Substitute(values).visit(copy.deepcopy(s)), consts)]


def _is_value(node: ast.expr, consts: dict[str, str]) -> bool:
    """A literal, or a name the test bound to one: the expected side of an assertion."""
    if isinstance(node, ast.Name):
        return node.id in consts
    return not any(isinstance(n, ast.Call | ast.Name) for n in ast.walk(node))


def _literals(stmts: list[ast.stmt]) -> dict[str, str]:
    """Names the test binds to literals (``expected = {...}``), to show the value itself."""
    found: dict[str, str] = {}
    for stmt in stmts:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and _is_value(stmt.value, {})):
            found[stmt.targets[0].id] = _unparse(stmt.value)
    return found


def _call_name(node: ast.expr) -> str:
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _statement(stmt: ast.stmt, consts: dict[str, str]) -> list[str]:
    """A test statement as doctest lines: assertions show their expected value."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        lines = _assert_call(stmt.value, consts)
        if lines is not None:
            return lines
    if isinstance(stmt, ast.Assert):
        test = stmt.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            return _prompt_line(_unparse(test.left), _unparse(test.comparators[0]))
        return _prompt_line(_unparse(test), "True")
    if isinstance(stmt, ast.With) and len(stmt.items) == 1:
        ctx = stmt.items[0].context_expr
        ctx_name = _call_name(ctx)
        if ctx_name in {"assertRaises", "assertRaisesRegex"}:
            out: list[str] = []
            for index, inner in enumerate(stmt.body):
                last = index == len(stmt.body) - 1
                out.extend(_prompt_line(_unparse(inner), _raises(ctx.args[0] if isinstance(ctx, ast.Call) and ctx.args else None) if last else None))
            return out
        if ctx_name == "subTest":
            return [line for inner in stmt.body for line in _statement(inner, consts)]
    if isinstance(stmt, ast.For) and not stmt.orelse and (lines := _loop(stmt, consts)) is not None:
        return lines
    if isinstance(stmt, ast.Pass):
        return []
    return _prompt_line(_unparse(ast.fix_missing_locations(_PlainAsserts().visit(stmt))), None)
