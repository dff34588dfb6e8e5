"""The module to write, as a skeleton with doctest examples, inferred from the user's tests.

Small code models are trained on "complete this function" (HumanEval's shape): a signature and a
docstring with ``>>>`` examples. Shown a whole unittest file instead, a 0.5B model mostly pastes
the tests back. So we turn the tests into that familiar shape: one stub per name the tests import,
the request as the docstring, and every test body rewritten as an interactive example
(``self.assertEqual(f(2), 4)`` becomes ``>>> f(2)`` / ``4``). The result is only shown to the
model; the real tests still judge.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field

MAX_EXAMPLE_LINES = 60  # per stub: enough for a typical test file, short for a small model
_PLACEHOLDER_ARGS = ("x", "y", "z", "w")


@dataclass
class _Stub:
    name: str
    is_class: bool
    params: list[str] = field(default_factory=list)
    methods: dict[str, list[str]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)


def _unparse(node: ast.AST) -> str:
    return ast.unparse(node)


class _DropSelf(ast.NodeTransformer):
    """``self.converter.f(1)`` -> ``converter.f(1)``: fixtures become plain names in examples."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return ast.copy_location(ast.Name(id=node.attr, ctx=node.ctx), node)
        return node


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
    func = call.func  # ``self.assertEqual`` arrives here as ``assertEqual`` (see _DropSelf)
    kind = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if not kind.startswith("assert"):
        return None
    args = call.args
    if kind in {"assertEqual", "assertEquals", "assertAlmostEqual", "assertCountEqual", "assertListEqual",
                "assertDictEqual", "assertTupleEqual", "assertSetEqual", "assertMultiLineEqual"} and len(args) >= 2:
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
    binary = {
        "assertNotEqual": "!=", "assertIn": "in", "assertNotIn": "not in", "assertIs": "is",
        "assertIsNot": "is not", "assertGreater": ">", "assertGreaterEqual": ">=", "assertLess": "<",
        "assertLessEqual": "<=", "assertNotAlmostEqual": "!=",
    }
    if kind in binary and len(args) >= 2:
        return _prompt_line(f"{_unparse(args[0])} {binary[kind]} {_unparse(args[1])}", "True")
    if kind == "assertIsInstance" and len(args) >= 2:
        return _prompt_line(f"isinstance({_unparse(args[0])}, {_unparse(args[1])})", "True")
    if kind == "assertIsNotNone" and args:
        return _prompt_line(f"{_unparse(args[0])} is not None", "True")
    if kind in {"assertRaises", "assertRaisesRegex"} and len(args) >= 2:
        call_args = ", ".join(_unparse(a) for a in args[2:])
        return _prompt_line(f"{_unparse(args[1])}({call_args})", _raises(args[0]))
    return None


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
                out.extend(_prompt_line(_unparse(inner), _raises(ctx.args[0] if ctx.args else None) if last else None))
            return out
        if ctx_name == "subTest":
            return [line for inner in stmt.body for line in _statement(inner, consts)]
    if isinstance(stmt, ast.Pass):
        return []
    return _prompt_line(_unparse(stmt), None)


def _test_bodies(tree: ast.Module) -> list[tuple[str, list[ast.stmt], list[ast.stmt]]]:
    """(test name, setUp statements of its class, statements)."""
    found: list[tuple[str, list[ast.stmt], list[ast.stmt]]] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            setup: list[ast.stmt] = []
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "setUp":
                    setup = item.body
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    found.append((item.name, setup, item.body))
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            found.append((node.name, [], node.body))
    return found


def _names_in(stmts: list[ast.stmt]) -> set[str]:
    return {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)}


def _signature_from_prompt(name: str, prompt: str) -> list[str] | None:
    """``binary_search(items, target)`` written in the request names the parameters."""
    match = re.search(rf"\b{re.escape(name)}\(([^()]*)\)", prompt)
    if not match:
        return None
    params = [p.strip() for p in match.group(1).split(",") if p.strip()]
    if all(re.fullmatch(r"[A-Za-z_]\w*(\s*=\s*[^,]+)?", p) for p in params):
        return params
    return None


def _calls(stmts: list[ast.stmt], name: str) -> list[ast.Call]:
    return [
        n for s in stmts for n in ast.walk(s)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def _params_from_calls(calls: list[ast.Call]) -> list[str]:
    """Positional count from the widest call; names from keyword calls where the tests use them."""
    positional = max((len(c.args) for c in calls if not any(isinstance(a, ast.Starred) for a in c.args)), default=0)
    keywords = list(dict.fromkeys(k.arg for c in calls for k in c.keywords if k.arg))
    by_name = [c for c in calls if not c.args and len(c.keywords) >= positional]
    if by_name:  # ``Item(name=..., price=...)`` names every parameter, in order
        return [k.arg for k in max(by_name, key=lambda c: len(c.keywords)).keywords if k.arg]
    placeholders = [_PLACEHOLDER_ARGS[i] if i < len(_PLACEHOLDER_ARGS) else f"arg{i}" for i in range(positional)]
    return placeholders + [f"{k}=None" for k in keywords]


def _methods(stmts: list[ast.stmt], class_name: str) -> dict[str, list[str]]:
    """Methods called on instances of the class (names bound to ``ClassName(...)``)."""
    instances: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if isinstance(func, ast.Name) and func.id == class_name:
                instances.update(_unparse(t) for t in stmt.targets)
    methods: dict[str, list[ast.Call]] = {}
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = _unparse(node.func.value)
                if owner in instances or owner == class_name:
                    methods.setdefault(node.func.attr, []).append(node)
    return {name: _params_from_calls(calls) for name, calls in methods.items()}


def module_skeleton(test_source: str, module_name: str, names: list[str], prompt: str) -> str:
    """A stub per imported name, with the request and the tests as doctest examples."""
    tree = ast.parse(test_source)
    bodies = [
        ([_DropSelf().visit(s) for s in setup], [_DropSelf().visit(s) for s in stmts])
        for _name, setup, stmts in _test_bodies(tree)
    ]
    all_stmts = [s for setup, stmts in bodies for s in [*setup, *stmts]]
    stubs: dict[str, _Stub] = {}
    for name in names:
        is_class = name[:1].isupper()
        stub = _Stub(name, is_class)
        stub.params = _signature_from_prompt(name, prompt) or _params_from_calls(_calls(all_stmts, name))
        if is_class:
            stub.methods = {
                method: _signature_from_prompt(method, prompt) or params
                for method, params in _methods(all_stmts, name).items()
            }
        stubs[name] = stub
    shown_setup: set[str] = set()
    for setup, stmts in bodies:
        # The first imported name the test body uses owns its examples (else one setUp uses).
        in_body, in_setup = _names_in(stmts), _names_in(setup)
        owner = next((n for n in names if n in in_body), None) or next((n for n in names if n in in_setup), None)
        owner = owner or (names[0] if names else None)
        if owner is None:
            continue
        stub = stubs[owner]
        consts = _literals([*setup, *stmts])
        lines = [
            line for s in setup if f"{owner}:{_unparse(s)}" not in shown_setup for line in _statement(s, consts)
        ]
        lines += [line for s in stmts for line in _statement(s, consts)]
        if len(stub.examples) + len(lines) <= MAX_EXAMPLE_LINES:
            stub.examples.extend(lines)
            shown_setup.update(f"{owner}:{_unparse(s)}" for s in setup)
    # One stub: the request is its docstring (HumanEval's shape). Several: the module's docstring.
    parts = [] if len(stubs) == 1 or not prompt else [_docstring(prompt, [], "")]
    parts += [_render(stub, prompt if len(stubs) == 1 else "") for stub in stubs.values()]
    return "\n\n\n".join(parts) + "\n"


def _docstring(prompt: str, examples: list[str], indent: str) -> str:
    body: list[str] = []
    if prompt:
        body.extend(textwrap.wrap(" ".join(prompt.split()), 88))
    if examples:
        if body:
            body.append("")
        body.extend(examples)
    text = "\n".join(body).replace('"""', "'''").replace("\\", "\\\\")
    opening = "" if prompt else "\n" + indent  # examples alone start on a line of their own
    return indent + '"""' + opening + textwrap.indent(text, indent).lstrip() + "\n" + indent + '"""'


def _render(stub: _Stub, prompt: str) -> str:
    if not stub.is_class:
        return f"def {stub.name}({', '.join(stub.params)}):\n" + _docstring(prompt, stub.examples, "    ")
    lines = [f"class {stub.name}:", _docstring(prompt, stub.examples, "    ")]
    if stub.params:
        lines.append(f"\n    def __init__(self, {', '.join(stub.params)}):\n        ...")
    for method, params in stub.methods.items():
        lines.append(f"\n    def {method}({', '.join(['self', *params])}):\n        ...")
    return "\n".join(lines)
