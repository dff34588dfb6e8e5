"""Loading the test file and collecting its tests, inside the sandbox (see _sandbox_harness.py).

unittest.TestCase classes are collected as unittest would; pytest-style test functions and
classes become unittest cases too (parametrize expanded, ``tmp_path`` supplied), so that one
result collector sees every test. Plain ``assert`` statements are rewritten so that a failure
names the compared values, and the guard's rewriters are applied on top.

Standard library only (see _sandbox_harness.py).
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import sys
import types
import unittest
from collections.abc import Callable, Iterable


def trim(text: str, budget: int) -> str:
    """Keep the head and the tail of a long text: the first line says what, the end says where."""
    if len(text) <= budget:
        return text
    head = budget * 2 // 3
    tail = budget - head - 40
    return text[:head] + f"\n[... {len(text) - head - tail} characters cut ...]\n" + text[-tail:]


def _explain(msg: object, src: str, parts: list[tuple[str, object]]) -> str:
    """Message for a failed plain ``assert``: the line and the values, like pytest does."""
    lines = [] if msg is None else [str(msg)]
    lines.append(f"assert {src}")
    for label, value in parts:
        try:
            text = repr(value)
        except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not hide the failure
            text = f"<repr failed: {exc!r}>"
        lines.append(f"  where {label} = {trim(text, 400)}")
    return "\n".join(lines)


class AssertRewriter(ast.NodeTransformer):
    """Rewrite plain asserts so that a failure says which values were compared.

    ``assert f(3) == 9`` becomes: evaluate both sides once, compare, and raise an
    AssertionError naming the source and both values. Only simple shapes are rewritten.
    """

    counter = itertools.count()

    def visit_Assert(self, node: ast.Assert) -> ast.AST | list[ast.stmt]:
        test = node.test
        src = ast.unparse(test)
        n = next(self.counter)
        msg = node.msg if node.msg is not None else ast.Constant(None)

        def name(suffix: str, ctx: ast.expr_context) -> ast.Name:
            return ast.Name(id=f"_sandbox_{suffix}_{n}", ctx=ctx)

        def fail(parts: list[tuple[str, ast.expr]]) -> ast.Raise:
            pairs = ast.List(elts=[ast.Tuple(elts=[ast.Constant(lab), val], ctx=ast.Load())
                                   for lab, val in parts], ctx=ast.Load())
            call = ast.Call(func=ast.Name("__sandbox_explain__", ast.Load()),
                            args=[msg, ast.Constant(src), pairs], keywords=[])
            return ast.Raise(exc=ast.Call(func=ast.Name("AssertionError", ast.Load()),
                                          args=[call], keywords=[]), cause=None)

        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, right = name("left", ast.Store()), name("right", ast.Store())
            stmts: list[ast.stmt] = [
                ast.Assign(targets=[left], value=test.left),
                ast.Assign(targets=[right], value=test.comparators[0]),
                ast.If(
                    test=ast.UnaryOp(ast.Not(), ast.Compare(
                        left=name("left", ast.Load()), ops=test.ops,
                        comparators=[name("right", ast.Load())])),
                    body=[fail([(ast.unparse(side), name(label, ast.Load()))
                                for side, label in ((test.left, "left"), (test.comparators[0], "right"))
                                if not isinstance(side, ast.Constant)])],
                    orelse=[]),
            ]
        elif isinstance(test, ast.Constant):
            return node
        else:
            negate = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            inner = test.operand if negate else test
            value = name("value", ast.Store())
            check: ast.expr = name("value", ast.Load())
            if not negate:
                check = ast.UnaryOp(ast.Not(), check)
            parts = [(ast.unparse(inner), name("value", ast.Load()))]
            stmts = [ast.Assign(targets=[value], value=inner),
                     ast.If(test=check, body=[fail(parts)], orelse=[])]
        for stmt in stmts:
            ast.copy_location(stmt, node)
            ast.fix_missing_locations(stmt)
        return stmts


def compile_source(path: str, source: bytes,
                   rewriters: Iterable[ast.NodeTransformer] = ()) -> types.CodeType | SyntaxError:
    """The code of ``source`` (read from ``path``), rewritten by the rewriters in order (plain asserts,
    equality checks, assertion calls); or the SyntaxError of the plain source, for the import to raise."""
    rewriters = list(rewriters)
    if rewriters:
        try:
            tree = ast.parse(source, filename=path)
            for rewriter in rewriters:
                tree = rewriter.visit(tree)
            return compile(ast.fix_missing_locations(tree), path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, TypeError):
            pass  # reported by the plain compile below
    try:
        return compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc


def load_source_module(name: str, path: str, code: types.CodeType, names: dict | None = None,
                       trust: Callable[[types.CodeType, dict], None] | None = None) -> types.ModuleType:
    """Run ``code`` (compiled from ``path``) as module ``name``, not ``__main__``.

    Under its own name, ``unittest.main()`` guards stay quiet. ``names`` are put in the module's
    namespace first. ``trust`` (the audit hook's) is told the code and namespace of the test file,
    whose code the hook knows apart from the module's.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    module.__dict__["__sandbox_explain__"] = _explain
    module.__dict__.update(names or {})
    if trust is not None:
        trust(code, module.__dict__)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


# --------------------------------------------------------------------------- collection

class NamedFunctionCase(unittest.FunctionTestCase):
    """A pytest-style test function (or method) as a unittest case with a short name."""

    def __init__(self, func, name: str, skip_reason: str | None = None) -> None:
        super().__init__(func)
        self.case_name = name
        self.skip_reason = skip_reason

    def runTest(self) -> None:  # noqa: N802 - unittest's name
        if self.skip_reason is not None:
            raise unittest.SkipTest(self.skip_reason)
        self._testFunc()

    def id(self) -> str:
        return self.case_name

    def __str__(self) -> str:
        return self.case_name


def _marks(func: object) -> list:
    return list(getattr(func, "pytestmark", []) or [])


def _skip_reason(func: object) -> str | None:
    for mark in _marks(func):
        if mark.name == "skip":
            return str(mark.kwargs.get("reason", mark.args[0] if mark.args else "skipped"))
        if mark.name == "skipif" and mark.args and bool(mark.args[0]):
            return str(mark.kwargs.get("reason", "skipif condition true"))
    return None


def _function_cases(func, name: str, workdir: str) -> list[unittest.TestCase]:
    """Expand pytest.mark.parametrize; supply tmp_path; refuse other fixtures clearly."""
    import inspect  # only pytest-style files need it; the harness imported it already when they do

    reason = _skip_reason(func)
    combos: list[tuple[str, dict]] = [("", {})]
    for mark in reversed(_marks(func)):
        if mark.name != "parametrize" or len(mark.args) < 2:
            continue
        argnames, argvalues = mark.args[0], list(mark.args[1])
        names = [a.strip() for a in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
        new: list[tuple[str, dict]] = []
        for ident, params in combos:
            for values in argvalues:
                values = getattr(values, "values", values)  # pytest.param(...)
                vals = list(values) if len(names) > 1 else [values]
                label = "-".join(str(v) for v in vals)
                new.append((f"{ident}-{label}" if ident else label, {**params, **dict(zip(names, vals, strict=False))}))
        combos = new
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        signature = None
    cases: list[unittest.TestCase] = []
    for ident, params in combos:
        missing = []
        if signature is not None:
            missing = [p for p, v in signature.parameters.items()
                       if p not in params and v.default is inspect.Parameter.empty
                       and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)]
        case_name = f"{name}[{ident}]" if ident else name

        def call(func=func, params=params, missing=missing, case_name=case_name) -> None:
            kwargs = dict(params)
            for p in missing:
                if p == "tmp_path":
                    import pathlib
                    import tempfile
                    kwargs[p] = pathlib.Path(tempfile.mkdtemp(prefix="tmp_path_", dir=workdir))
                else:
                    raise TypeError(f"{case_name} needs the pytest fixture {p!r}, which this runner "
                                    "does not provide: write the test without fixtures")
            func(**kwargs)

        cases.append(NamedFunctionCase(call, case_name, reason))
    return cases


def _method_call(cls: type, method_name: str):
    def call() -> None:
        obj = cls()
        setup = getattr(obj, "setup_method", None)
        method = getattr(obj, method_name)
        if setup:
            setup(method)
        try:
            method()
        finally:
            teardown = getattr(obj, "teardown_method", None)
            if teardown:
                teardown(method)
    return call


def collect(module: types.ModuleType, workdir: str) -> unittest.TestSuite:
    """unittest.TestCase classes as unittest would, plus pytest-style functions and classes."""
    suite = unittest.TestSuite()
    suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(module))
    extra: list[tuple[int, list[unittest.TestCase]]] = []
    for attr, obj in list(vars(module).items()):
        if not attr.startswith("test") and not attr.startswith("Test"):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        line = getattr(getattr(obj, "__code__", None), "co_firstlineno", 0)
        if isinstance(obj, types.FunctionType) and attr.startswith("test"):
            extra.append((line, _function_cases(obj, attr, workdir)))
        elif (isinstance(obj, type) and attr.startswith("Test")
              and not issubclass(obj, unittest.TestCase) and "__init__" not in vars(obj)):
            cases: list[unittest.TestCase] = []
            for meth_name, meth in vars(obj).items():
                if meth_name.startswith("test") and isinstance(meth, types.FunctionType):
                    cases.append(NamedFunctionCase(_method_call(obj, meth_name),
                                                   f"{attr}.{meth_name}", _skip_reason(meth)))
            codes = [m.__code__ for m in vars(obj).values() if isinstance(m, types.FunctionType)]
            line = min((c.co_firstlineno for c in codes), default=0)
            extra.append((line, cases))
    for _, cases in sorted(extra, key=lambda item: item[0]):
        suite.addTests(cases)
    return suite
