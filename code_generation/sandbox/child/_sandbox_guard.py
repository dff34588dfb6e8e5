"""Checks, inside the sandboxed process, that the code under test left the testing framework alone.

The module under test runs in the same interpreter as the tests (they call it), so it could
rewrite unittest, the harness or builtins before the tests run, and a failing test would then
count as passed. The guard catches that in several independent ways:

* a snapshot, taken before the test file is imported, of the functions and classes the
  verdict depends on (unittest, the harness, chosen builtins, builtin types' dicts, every loaded
  module), compared by identity (and by closure cells; the audit hook of _sandbox_audit.py
  refuses changes to their code and defaults) after the import, after every test, around each
  assertion the test file makes and at the end; plus no trace or profile hook and no new
  garbage-collector callback, and no operation the audit hook refused;
* canaries: tests of the harness's own whose assertions compare random values that must
  differ, run after the user's tests through the same machinery; a neutered assertion lets
  one pass;
* per test: a test counts as passed only if its method ran to its end, nothing it left on the
  instance shadows a unittest method, and its class and functions are the ones collected;
* values whose ``__eq__`` says "equal" to random values they cannot equal (an object built to
  pass ``assertEqual`` whatever it is compared with).

It raises the bar; it is not a security boundary (see docs/sandbox.md and docs/sandbox-holes.md):
code that edits the interpreter's memory through ctypes can still hide. Standard library only.
"""

from __future__ import annotations

import ast
import builtins
import gc
import os
import sys
import types
import unittest
import unittest.case
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from operator import attrgetter, is_

from _sandbox_audit import Refused

_MISSING = object()
_gettrace = sys.gettrace
_getprofile = sys.getprofile
_audit = sys.audit
PLAIN_SCALARS = frozenset({int, float, complex, str, bytes, bool, type(None)})
CONTAINERS = frozenset({list, tuple, set, frozenset, dict})
PROBE_BUDGET = 2000  # values inspected per comparison
PROBES_PER_TYPE = 50  # instances of one type asked whether they lie (each asks 14 comparisons)

# What unittest and the harness rely on to reach a verdict. Tests often mock other builtins
# (open, input, print) and os or time functions during a test; those are left alone.
BUILTIN_NAMES = (
    "isinstance", "issubclass", "getattr", "setattr", "hasattr", "len", "abs", "round", "type", "bool", "id",
    "callable", "iter", "next", "zip", "range", "enumerate", "list", "tuple", "dict", "set", "frozenset", "int",
    "float", "str", "repr", "sorted", "min", "max", "sum", "all", "any", "super", "object", "__build_class__",
    "__import__", "BaseException", "Exception", "AssertionError", "TypeError", "ValueError", "AttributeError",
    "KeyError", "IndexError", "StopIteration", "SystemExit", "KeyboardInterrupt", "NotImplemented",
)
SYS_NAMES = ("exc_info", "modules", "_getframe", "settrace", "gettrace", "setprofile", "getprofile", "audit",
             "addaudithook")
HOT_MODULES = ("unittest.case", "unittest.result", "unittest.suite", "contextlib", "_sandbox_harness",
               "_sandbox_init", "_sandbox_collect", "_sandbox_audit", __name__)
# What a test's own assertion calls rely on, checked just before and after each (self.assertX in the test file).
ASSERTION_OWNERS = ("builtins", "unittest.case.TestCase")
# Modules that only shape messages (difflib, pprint) or that collection merely reads (inspect)
# are left out: patching them cannot turn a failure into a pass, and each costs time per run.
FULL_MODULES = (*HOT_MODULES, "unittest", "unittest.loader", "unittest.util", "unittest.signals", "unittest.runner",
                "unittest.main", "unittest.async_case", "doctest", "traceback", "collections", "abc")
BUILTIN_TYPES = (object, type, int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset,
                 BaseException, Exception, AssertionError, types.FunctionType, types.MethodType, property,
                 staticmethod, classmethod, type(None))
EQUALITY_ASSERTS = ("assertEqual", "assertNotEqual", "assertListEqual", "assertTupleEqual", "assertDictEqual",
                    "assertSetEqual", "assertSequenceEqual", "assertCountEqual", "assertIn", "assertNotIn",
                    "assertAlmostEqual", "assertNotAlmostEqual")
# Class attributes a test file may set on unittest's classes (longer diffs, method order), and
# those unittest and copy keep on test classes while they run (a test that stops early is
# caught by the collector and by the harness's count of tests that never ran).
TUNABLE = frozenset({"maxDiff", "longMessage", "_diffThreshold", "sortTestMethodsUsing", "__slotnames__",
                     "tearDown_exceptions", "_classSetupFailed", "_class_cleanups"})
TESTCASE_CALLABLES = frozenset(
    name for name in dir(unittest.TestCase) if not name.startswith("__") and callable(getattr(unittest.TestCase, name))
)


def _function_parts(func: types.FunctionType) -> list[tuple[object, str, object]]:
    """What makes a function behave as it does, besides its code and defaults: its closure's cells,
    as (object, attribute, value) to compare by identity.

    The audit hook refuses the code under test any change of the code or defaults of a function
    it does not own (and sees every read of ``__code__``, which would make each check slow);
    writing a closure cell raises no audit event, so the cells are compared.
    """
    parts: list[tuple[object, str, object]] = []
    for cell in func.__closure__ or ():
        try:
            parts.append((cell, "cell_contents", cell.cell_contents))
        except ValueError:
            continue  # an empty cell (a name assigned later in the enclosing function)
    return parts


def _unwrap(value: object) -> list[types.FunctionType]:
    """The functions behind a class attribute (methods, static and class methods, properties)."""
    if isinstance(value, types.FunctionType):
        return [value]
    if isinstance(value, (staticmethod, classmethod)):  # noqa: UP038 - a tuple is faster here
        return _unwrap(value.__func__)
    if isinstance(value, property):
        return [f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType)]
    return []


class Snapshot:
    """Identities of named objects, and of the code behind functions, to compare later.

    Entries are grouped by namespace (a module's or class's dict) and by function attribute,
    so that a check compares them by identity at C speed (operator.is_; not id(), which the
    audit hook sees): a snapshot holds a few thousand objects and is compared after every test.
    """

    def __init__(self) -> None:
        self.spaces: list[tuple[str, Mapping, tuple[str, ...], tuple[object, ...]]] = []  # label, dict, names, values
        self.parts: dict[str, list[tuple[str, object, object]]] = {}  # attribute -> (label, object, value)
        self.classes: list[tuple[str, Mapping, int, frozenset]] = []
        self.modules: list[tuple[str, types.ModuleType]] = []
        self._fast: list[tuple[Callable[[], tuple], tuple]] = []

    def function(self, label: str, func: types.FunctionType, depth: int = 2) -> None:
        """A function and, ``depth`` levels down, the functions its closure and defaults hold."""
        inner = list(func.__defaults__ or ())
        for obj, attr, value in _function_parts(func):
            self.parts.setdefault(attr, []).append((label, obj, value))
            inner.append(value)
        for f in inner if depth > 0 else ():
            if isinstance(f, types.FunctionType) and f is not func:
                self.function(label, f, depth - 1)

    def mapping(self, label: str, namespace: Mapping, names: Iterable[str] | None = None) -> None:
        """Named values of a namespace; plain data (message lengths, flags) cannot change a verdict."""
        kept = [(n, v) for n in (list(namespace) if names is None else names) if n not in TUNABLE
                and type(v := namespace.get(n, _MISSING)) not in PLAIN_SCALARS]
        self.spaces.append((label, namespace, tuple(n for n, _ in kept), tuple(v for _, v in kept)))
        for name, value in kept:
            for func in _unwrap(value):
                self.function(f"{label}.{name}", func)

    def cls(self, label: str, klass: type) -> None:
        namespace = klass.__dict__
        self.classes.append((label, namespace, len(namespace), frozenset(namespace)))
        self.mapping(label, namespace)

    def module(self, module: types.ModuleType) -> None:
        name = module.__name__
        self.modules.append((name, module))
        self.mapping(name, vars(module))
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == name:
                self.cls(f"{name}.{value.__qualname__}", value)

    def freeze(self) -> Snapshot:
        """Prepare the quick comparison (call after the last entry was added)."""
        modules = tuple(name for name, _ in self.modules)
        fast = [(lambda: tuple(map(sys.modules.get, modules)), tuple(m for _, m in self.modules))]
        for _, namespace, names, values in self.spaces:
            fast.append((lambda ns=namespace, names=names: tuple(map(ns.get, names, repeat(_MISSING))), values))
        for attr, entries in self.parts.items():
            objs = tuple(obj for _, obj, _ in entries)
            fast.append((lambda get=attrgetter(attr), objs=objs: tuple(map(get, objs)),
                         tuple(value for _, _, value in entries)))
        self._fast = [(now, tuple(then)) for now, then in fast]
        return self

    def first_change(self) -> str | None:
        """One line naming the first thing that changed, or None (quick unless something did)."""
        try:
            same = (all(all(map(is_, now(), then)) for now, then in self._fast)
                    and all(len(namespace) == size for _, namespace, size, _ in self.classes))
        except (AttributeError, ValueError):  # an attribute deleted, a closure cell emptied
            same = False
        return None if same else self._describe_change()

    def _describe_change(self) -> str | None:
        for name, module in self.modules:
            if sys.modules.get(name) is not module:
                return f"sys.modules[{name!r}] was replaced"
        for label, namespace, names, values in self.spaces:
            for name, value in zip(names, values, strict=True):
                if namespace.get(name, _MISSING) is not value:
                    return f"{label}.{name} was {'removed' if value is _MISSING else 'replaced'}"
        for attr, entries in self.parts.items():
            for label, obj, value in entries:
                try:
                    now = getattr(obj, attr)
                except (AttributeError, ValueError):
                    now = _MISSING
                if now is not value:
                    return f"the code of {label} was changed ({attr})"
        for label, namespace, size, keys in self.classes:
            if len(namespace) != size:
                added = sorted(set(namespace) - keys - TUNABLE)
                if added:
                    return f"{label}.{added[0]} was added"
        return None

    def subset(self, owners: tuple[str, ...]) -> Snapshot:
        """The entries whose label is one of ``owners`` or lies inside one (``unittest.case.TestCase``)."""
        prefixes = tuple(o + "." for o in owners)
        mine: dict[str, bool] = {}

        def keep(label: str) -> bool:
            if label not in mine:
                mine[label] = label in owners or label.startswith(prefixes)
            return mine[label]

        part = Snapshot()
        part.spaces = [s for s in self.spaces if keep(s[0])]
        part.parts = {attr: [e for e in entries if keep(e[0])] for attr, entries in self.parts.items()}
        part.classes = [c for c in self.classes if keep(c[0])]
        part.modules = [m for m in self.modules if keep(m[0])]
        return part.freeze()


def build_snapshot() -> tuple[Snapshot, Snapshot, Snapshot]:
    """The full snapshot, its hot part (checked after every test) and the part assertions rely on.

    The full one also holds every module loaded so far (sys.modules entries only: a module put
    in place of one the test file imports later).
    """
    snap = Snapshot()
    snap.mapping("builtins", vars(builtins), BUILTIN_NAMES)
    snap.mapping("sys", vars(sys), SYS_NAMES)
    for name in FULL_MODULES:
        if name in sys.modules:
            snap.module(sys.modules[name])
    for klass in BUILTIN_TYPES:
        snap.classes.append((klass.__name__, klass.__dict__, len(klass.__dict__), frozenset(klass.__dict__)))
        snap.spaces.append((klass.__name__, klass.__dict__, tuple(klass.__dict__), tuple(klass.__dict__.values())))
    known = {name for name, _ in snap.modules}
    snap.modules += [(name, module) for name, module in list(sys.modules.items())
                     if name not in known and isinstance(module, types.ModuleType)]
    return snap.freeze(), snap.subset(("builtins", "sys", *HOT_MODULES)), snap.subset(ASSERTION_OWNERS)


class _Nonce:
    """An object nothing honest compares equal to."""

    __slots__ = ()


def _refusal() -> str | None:
    """The first operation the audit hook refused (it remembers, whatever the module did to the report)."""
    try:
        _audit("sandbox.refused")
    except Refused as exc:
        return str(exc)
    return None


class Guard:
    """The checks of one sandboxed run.

    Only ``prober`` is reachable from the test file's namespace (its rewritten ``==`` and
    ``self.assertX`` calls, and the equality assertions, call it); the snapshots are not.
    """

    def __init__(self, workdir: str, module_name: str, seed: int) -> None:
        self.workdir = workdir
        self.module_name = module_name
        self.prober = Prober(workdir, seed)
        self.hot: Snapshot | None = None
        self.full: Snapshot | None = None
        self.gc_callbacks = len(gc.callbacks)
        self.watched = Snapshot().freeze()
        self.shadows: list[tuple[str, object, frozenset, Callable[[str], bool]]] = []

    # ----------------------------------------------------------------- set-up

    def install(self) -> None:
        """Our own changes to unittest, made before the snapshot so that they are the baseline.

        unittest swallows ``_ShouldStop`` silently (it is meant for failfast, which we never
        use): raised by the code under test, it would end a test early as passed. An empty
        tuple in its place catches nothing, so it counts as an error like any exception.
        Equality assertions also check that no value lies about being equal.
        """
        unittest.case._ShouldStop = ()  # type: ignore[attr-defined,assignment]
        for name in EQUALITY_ASSERTS:
            original = getattr(unittest.TestCase, name, None)
            if original is not None:
                setattr(unittest.TestCase, name, self._checked(original))

    def _checked(self, original: Callable) -> Callable:
        probe = self.prober.probe

        def checked(case: unittest.TestCase, *args: object, **kwargs: object) -> None:
            original(case, *args, **kwargs)
            probe(*args[:2], *kwargs.values())

        checked.__name__ = checked.__qualname__ = original.__name__
        checked.__doc__ = original.__doc__
        return checked

    def baseline(self) -> None:
        self.full, self.hot, self.prober.asserts = build_snapshot()

    def watch_tests(self, tests: list[unittest.TestCase], module: types.ModuleType) -> None:
        """After collection: the tests' functions, their classes and the test module's globals."""
        self.prober.test_module = module.__name__
        snap = Snapshot()
        for test in tests:
            method = getattr(test, "_testMethodName", "")
            func = getattr(test, "_testFunc", None) or getattr(type(test), method, None)
            for f in _unwrap(func) or _unwrap(getattr(func, "__func__", None)):
                snap.function(f"{type(test).__qualname__}.{method}", f)
        for klass in {type(t) for t in tests}:
            for base in klass.__mro__:
                if base.__module__.startswith("unittest") or base is object:
                    break
                snap.mapping(base.__qualname__, base.__dict__, [k for k in base.__dict__ if k in TESTCASE_CALLABLES])
                self.shadows.append((base.__qualname__, base, frozenset(base.__dict__), TESTCASE_CALLABLES.__contains__))
        namespace = vars(module)
        shadowing = [k for k in namespace if k in vars(builtins) or k.startswith("__sandbox_")]
        snap.mapping(module.__name__, namespace, shadowing)
        self.shadows.append((module.__name__, module, frozenset(namespace),
                             lambda k: k in vars(builtins) or k.startswith("__sandbox_")))
        self.watched = snap.freeze()

    def _shadowed(self) -> str | None:
        """A name added after collection that hides a unittest method or a builtin."""
        for label, owner, start, shadows in self.shadows:
            for key in list(vars(owner)):
                if key not in start and shadows(key):
                    return f"{label}.{key} was added after the tests were collected"
        return None

    # ----------------------------------------------------------------- checks

    def check(self, full: bool) -> str | None:
        """The first sign of tampering, or None; ``full`` compares everything, else the hot part."""
        if self.prober.findings:
            return self.prober.findings[0]
        refused = _refusal()
        if refused:
            return refused
        snap = self.full if full else self.hot
        if snap is None:
            return "the harness's snapshot of the testing framework was removed"
        change = snap.first_change() or self.watched.first_change() or self._shadowed()
        if change:
            return change
        if _gettrace() is not None or _getprofile() is not None:
            return "a trace or profile function was installed (sys.settrace/sys.setprofile): it can skip lines of the tests"
        threading = sys.modules.get("threading")
        if getattr(threading, "_trace_hook", None) is not None or getattr(threading, "_profile_hook", None) is not None:
            return "a trace or profile function was installed for threads (threading.settrace)"
        if len(gc.callbacks) != self.gc_callbacks:
            return "a garbage-collector callback was added (gc.callbacks): it runs code at unpredictable moments"
        return None

    def check_case(self, test: unittest.TestCase) -> str | None:
        """What a test left on its own instance: unittest methods shadowed, equality functions swapped."""
        own = vars(test)
        for name in own:
            if name in TESTCASE_CALLABLES and name != "failureException":  # that one only names failures
                return f"{type(test).__qualname__}.{name} was replaced on the test instance"
        module_file = f"{self.workdir}/{self.module_name}.py"
        for func in (own.get("_type_equality_funcs") or {}).values():
            code = getattr(func, "__code__", None) or getattr(getattr(func, "__func__", None), "__code__", None)
            if code is not None and code.co_filename == module_file:
                return "the code under test registered a type equality function on the test (addTypeEqualityFunc)"
        return None

    # ----------------------------------------------------------------- canaries

    def canaries(self, nonces: list[str]) -> tuple[list[unittest.TestCase], dict[str, str]]:
        """Tests whose outcome is known: all fail (random values that differ) but two.

        They go through the same machinery as the user's tests (TestCase.run, the outcome
        context manager, the collector); the assertion methods themselves are also covered
        by the snapshot, so a few common ones suffice here. The random values are the
        instances' own, not a class's or a closure's: nothing the module can reach holds them.
        """
        names = sorted(n for n in vars(SandboxCanary) if n.startswith("test_"))
        cases = []
        for name in names:
            case = SandboxCanary(name)
            case.a, case.b = nonces
            cases.append(case)
        expected = {f"SandboxCanary.{n}": "failed" for n in names}
        expected.update({"SandboxCanary.test_equal_holds": "passed", "SandboxCanary.test_passes": "passed",
                         "SandboxCanary.test_error": "error"})
        return cases, expected

    def judge_canaries(self, seen: dict[str, tuple[str, str]], expected: dict[str, str]) -> tuple[str | None, str]:
        """A problem (or None) and the failure message of ``test_equal``, which names both random values."""
        for name, outcome in expected.items():
            got = seen.get(name, ("missing", ""))[0]
            if got != outcome:
                return (f"a check of the harness that must end {outcome} ended {got} ({name}): "
                        "the testing framework was modified"), ""
        return None, seen["SandboxCanary.test_equal"][1]


class Prober:
    """What the test file's rewritten ``==``, ``!=`` and ``self.assertX(...)`` calls use: the lying-value
    probes and the check around each assertion. Reachable from the test file's namespace, so it
    holds nothing else of the guard's; ``findings`` collects what it saw."""

    def __init__(self, workdir: str, seed: int) -> None:
        self.workdir = workdir
        self.findings: list[str] = []
        self.asserts: Snapshot | None = None
        self.test_module: str | None = None
        self._trusted: dict[type, bool] = {}
        self._probed: dict[type, int] = {}
        words = os.urandom(16).hex(), os.urandom(16).hex()  # not the canaries' values, which stay in the harness
        self._probes = [_Nonce(), seed, words[0], float(seed % 999_983) + 0.5, (words[1],), [seed + 1],
                        {words[0]: seed}]

    def _trusted_type(self, klass: type) -> bool:
        """A type is trusted when it lives where it says, outside the work folder, or in the test file."""
        known = self._trusted.get(klass)
        if known is not None:
            return known
        module = sys.modules.get(getattr(klass, "__module__", "") or "")
        where = getattr(module, "__file__", None) or ""
        found: object = module
        for part in klass.__qualname__.split("."):
            found = getattr(found, part, None)
        trusted = found is klass and (not where.startswith(self.workdir + "/") or module.__name__ == self.test_module)
        self._trusted[klass] = trusted
        return trusted

    def _lies(self, value: object) -> bool:
        for other in self._probes:
            try:
                if (value == other) is True or (value != other) is False:
                    return True
            except Exception:  # noqa: BLE001 - a comparison that fails does not lie
                continue
        return False

    def probe(self, *values: object) -> None:
        """Fail the test if a value the code made claims equality with anything."""
        if all(type(v) in PLAIN_SCALARS for v in values):
            return
        stack, budget = list(values), PROBE_BUDGET
        while stack and budget:
            budget -= 1
            value = stack.pop()
            kind = type(value)
            if kind in PLAIN_SCALARS:
                continue
            if kind in CONTAINERS:
                stack.extend(value.items() if kind is dict else value)  # type: ignore[attr-defined]
                continue
            if self._trusted_type(kind) or self._probed.get(kind, 0) >= PROBES_PER_TYPE:
                continue
            self._probed[kind] = self._probed.get(kind, 0) + 1
            if self._lies(value):
                reason = (f"a value of type {kind.__qualname__} compares equal to anything (its __eq__ or __ne__ "
                          "answers 'equal' for unrelated random values): return real values, not objects that fool ==")
                self.findings.append(reason)
                raise AssertionError(reason)

    def assertion(self, test: object, name: str, *args: object, **kwargs: object) -> object:
        """A test's ``self.<name>(...)``: unittest's assertions must be the same just before and after it.

        The arguments are evaluated by then: a patch the module made while computing them, to
        be undone later (from a finaliser, when the test returns), is seen here.
        """
        snap = self.asserts
        change = snap.first_change() if snap is not None else "the guard's snapshot of unittest was removed"
        if change is None:
            result = getattr(test, name)(*args, **kwargs)
            change = snap.first_change()  # type: ignore[union-attr]
            if change is None:
                return result
        reason = f"{change} while a test called {name}"
        self.findings.append(reason)
        raise AssertionError(reason)

    def eq(self, left: object, right: object) -> object:
        """``left == right`` in the test file, rewritten so that lying values are caught."""
        result = left == right
        if result is True and not (type(left) in PLAIN_SCALARS and type(right) in PLAIN_SCALARS):
            self.probe(left, right)
        return result

    def ne(self, left: object, right: object) -> object:
        result = left != right
        if result is False and not (type(left) in PLAIN_SCALARS and type(right) in PLAIN_SCALARS):
            self.probe(left, right)
        return result


class SandboxCanary(unittest.TestCase):
    """The guard's canaries (see Guard.canaries); ``a`` and ``b`` are set on each instance."""

    a = b = ""

    def test_equal(self) -> None:
        self.assertEqual(self.a, self.b)

    def test_equal_holds(self) -> None:
        self.assertEqual(self.a, "".join(list(self.a)))

    def test_true(self) -> None:
        self.assertTrue(self.a == self.b)

    def test_in(self) -> None:
        self.assertIn(self.a, [self.b])

    def test_raises(self) -> None:
        with self.assertRaises(KeyError):
            {self.a: 1}.get(self.b)

    def test_count(self) -> None:
        self.assertCountEqual([self.a, self.a], [self.a, self.b])

    def test_assert(self) -> None:
        if self.a != self.b:
            raise AssertionError(self.b)

    def test_subtest(self) -> None:
        with self.subTest(self.a):
            self.assertEqual(self.b, self.a)

    def test_error(self) -> None:
        raise ValueError(self.a)

    def test_passes(self) -> None:
        self.assertEqual(len(self.a), len(self.b))

    def test_int_equal(self) -> None:
        self.assertEqual(len(self.a), len(self.b) + 1)


class AssertionCallRewriter(ast.NodeTransformer):
    """``self.assertEqual(a, b)`` (any of unittest's assert and fail methods) becomes
    ``__sandbox_assert__(self, "assertEqual", a, b)``: the guard checks unittest just before and
    after the call, once the arguments (which may call the module) are evaluated."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
                and func.attr in TESTCASE_CALLABLES and func.attr.startswith(("assert", "fail"))):
            return node
        call = ast.Call(func=ast.Name("__sandbox_assert__", ast.Load()),
                        args=[func.value, ast.Constant(func.attr), *node.args], keywords=node.keywords)
        return ast.copy_location(call, node)


class EqualityRewriter(ast.NodeTransformer):
    """``a == b`` and ``a != b`` in the test file become calls the guard can check."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return node
        name = "__sandbox_eq__" if isinstance(node.ops[0], ast.Eq) else "__sandbox_ne__"
        call = ast.Call(func=ast.Name(name, ast.Load()), args=[node.left, node.comparators[0]], keywords=[])
        return ast.copy_location(call, node)
