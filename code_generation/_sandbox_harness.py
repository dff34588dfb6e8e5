"""Trusted harness that runs inside the sandboxed child process (see runner.py).

It is started by ``runner.py`` as ``python -s -P harness.py CONFIG.json`` (possibly under
``unshare``), still with the parent's privileges, so that it can finish the set-up that must
happen inside the child before any untrusted code runs: join the cgroups, hide private
directories behind tmpfs mounts, set resource limits and drop to an unprivileged user.
Then it imports the test file (or the module, for doctests), runs the tests with a result
collector and reports JSON lines on a pipe the parent passed in, so that the results never
depend on what the untrusted code prints.

Standard library only: it runs with the interpreter the project runs with, but must not
import anything from the project.
"""

from __future__ import annotations

import ast
import ctypes
import difflib  # noqa: F401
import doctest
import importlib
import importlib.util
import inspect
import itertools
import json
import os
import pprint  # noqa: F401
import resource
import select
import signal
import sys
import traceback
import types
import unittest
import unittest.case
import unittest.suite

# difflib and pprint are imported up front on purpose (unittest's assertEqual diffs): once
# privileges are dropped the interpreter's own files may be unreadable when no mount
# namespace could make them visible again.

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
PR_SET_PDEATHSIG = 1
CPU_LIMIT_EXIT = 152  # exit code after SIGXCPU, so that the parent can tell

_results_fd = -1
_harness_pid = -1
_workdir = ""
_budget = 2000


# --------------------------------------------------------------------------- reporting

def emit(event: dict) -> None:
    """Write one JSON line to the results pipe (all of it, even if the pipe is slow).

    Only the harness process reports: a test that forks must not make its children
    report a second, fake set of results.
    """
    if _results_fd < 0 or os.getpid() != _harness_pid:
        return
    data = (json.dumps(event) + "\n").encode("utf-8", "replace")
    try:
        while data:
            written = os.write(_results_fd, data)
            data = data[written:]
    except OSError:
        pass


def clean(text: str) -> str:
    """Drop the temporary directory from paths: the LLM should see ``test_x.py``."""
    if _workdir:
        text = text.replace(_workdir + os.sep, "")
    return text


def trim(text: str, budget: int) -> str:
    """Keep the head and the tail of a long text: the first line says what, the end says where."""
    if len(text) <= budget:
        return text
    head = budget * 2 // 3
    tail = budget - head - 40
    return text[:head] + f"\n[... {len(text) - head - tail} characters cut ...]\n" + text[-tail:]


def _is_user_file(filename: str) -> bool:
    return bool(_workdir) and os.path.abspath(filename).startswith(_workdir + os.sep)


def format_exception(exc: BaseException, failure: bool, budget: int | None = None) -> str:
    """Traceback limited to frames in the user's files, trimmed to the budget.

    Harness, unittest and stdlib frames are noise for the model; if no user frame is left,
    failures show only the message and errors show the innermost frame.
    """
    budget = budget or _budget
    frames = traceback.extract_tb(exc.__traceback__)
    user = [f for f in frames if _is_user_file(f.filename)]
    if not user and frames and not failure:
        user = frames[-1:]
    tail = clean("".join(traceback.format_exception_only(type(exc), exc))).rstrip("\n")
    tail = trim(tail, budget * 3 // 5)
    room = budget - len(tail) - 40
    kept: list[str] = []
    for line in reversed(traceback.format_list(user)):
        line = clean(line)
        if len(line) > room:
            break
        kept.insert(0, line)
        room -= len(line)
    if not kept:
        return tail
    skipped = len(user) - len(kept)
    head = "Traceback (most recent call last):\n"
    if skipped:
        head += f"  [... {skipped} earlier frames cut ...]\n"
    return head + "".join(kept) + tail


# --------------------------------------------------------------------------- set-up

def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    rc = libc.mount(src.encode() if src else None, target.encode(),
                    fstype.encode() if fstype else None, flags, data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _closed_ancestor(path: str) -> str | None:
    """The outermost directory on the way to path that others may not enter (e.g. /root)."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/" + "/".join(parts[:i])
        try:
            mode = os.stat(prefix).st_mode
        except OSError:
            return None
        if os.path.isdir(prefix) and not mode & 0o001:
            return prefix
    return None


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def private_mounts(cfg: dict) -> list[str]:
    """In our own mount namespace: tmpfs over /tmp-like and private directories.

    Writes outside the work directory then land in throw-away tmpfs instances, the parent's
    home (secrets, caches) is hidden, and the Python installation is bound back read-only
    so that the unprivileged user can still import the standard library.
    """
    workdir = cfg["workdir"]
    keep_ro: list[str] = []
    for p in [sys.base_prefix, sys.prefix, sys.exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable)), *sys.path]:
        if p and os.path.isdir(p):
            rp = os.path.realpath(p)
            if rp not in keep_ro:
                keep_ro.append(rp)
    keep_ro = [k for k in keep_ro if not any(k != o and _inside(k, o) for o in keep_ro)]
    masks = [d for d in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(d) and not os.path.islink(d)]
    for home in cfg.get("hide", []):
        if home and home != "/" and os.path.isdir(home):
            masks.append(os.path.realpath(home))
    for k in [*keep_ro, workdir]:
        blocked = _closed_ancestor(k)
        if blocked:
            masks.append(blocked)
    masks = sorted(set(masks))
    masks = [m for m in masks if not any(m != o and _inside(m, o) for o in masks)]
    size_mb = max(16, 2 * int(cfg.get("max_file_mb", 64)))
    done: list[str] = []
    for mask in masks:
        keeps = [k for k in [workdir, *keep_ro] if _inside(k, mask)]
        if mask in keeps:
            continue  # the whole directory is needed: leave it as it is
        fds = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keeps}
        try:
            tmp_like = mask in ("/tmp", "/var/tmp", "/dev/shm")
            _mount("tmpfs", mask, "tmpfs", MS_NOSUID | MS_NODEV,
                   f"mode={'1777' if tmp_like else '755'},size={size_mb}m")
            for k, fd in fds.items():
                os.makedirs(k, mode=0o755, exist_ok=True)
                _mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC, None)
                if k != workdir:
                    _mount(None, k, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        finally:
            for fd in fds.values():
                os.close(fd)
        done.append(mask)
    return done


def _on_cpu_limit(signum: int, frame: object) -> None:
    emit({"event": "cpu_limit"})
    os._exit(CPU_LIMIT_EXIT)


def setup(cfg: dict) -> list[str]:
    """Everything that needs the parent's privileges, then drop them. Returns notes."""
    notes: list[str] = []
    for procs in cfg.get("cgroups", []):
        try:
            with open(procs, "w") as fh:
                fh.write("0")
            notes.append(f"cgroup: joined {os.path.dirname(procs)}")
        except OSError as exc:
            notes.append(f"cgroup: could NOT join {os.path.dirname(procs)} ({exc.strerror})")
    if cfg.get("private_mounts"):
        try:
            masked = private_mounts(cfg)
            notes.append("filesystem: private tmpfs over " + ", ".join(masked)
                         + " (writes there vanish; the Python installation is bound back read-only)")
        except OSError as exc:
            notes.append(f"filesystem: private mounts FAILED ({exc})")
    limits = cfg["rlimits"]
    for name, value in limits.items():
        if value is None:
            continue
        res = getattr(resource, "RLIMIT_" + name)
        hard = value + 1 if name == "CPU" else value  # SIGXCPU first, SIGKILL a second later
        try:
            resource.setrlimit(res, (value, hard))
        except (ValueError, OSError) as exc:
            notes.append(f"rlimit {name}: could NOT be set ({exc})")
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    drop = cfg.get("drop_to")
    if drop:
        uid, gid, user = drop
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            notes.append(f"user: dropped to {user} (uid {uid}), so RLIMIT_NPROC applies "
                         "and most files are read-only")
        except OSError as exc:
            notes.append(f"user: NOT dropped to {user} ({exc})")
        # Changing credentials clears the parent-death signal that unshare --kill-child set.
        try:
            _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    return notes


# --------------------------------------------------------------------------- assertions

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


def load_source_module(name: str, path: str, rewrite: bool) -> types.ModuleType:
    """Import a file as ``name`` (not ``__main__``, so ``unittest.main()`` guards stay quiet)."""
    with open(path, "rb") as fh:
        source = fh.read()
    code = None
    if rewrite:
        try:
            tree = AssertRewriter().visit(ast.parse(source, filename=path))
            code = compile(ast.fix_missing_locations(tree), path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, TypeError):
            code = None  # a SyntaxError is reported by the plain compile below
    if code is None:
        code = compile(source, path, "exec", dont_inherit=True)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    module.__dict__["__sandbox_explain__"] = _explain
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
        if inspect.isfunction(obj) and attr.startswith("test"):
            extra.append((line, _function_cases(obj, attr, workdir)))
        elif (inspect.isclass(obj) and attr.startswith("Test")
              and not issubclass(obj, unittest.TestCase) and "__init__" not in vars(obj)):
            cases: list[unittest.TestCase] = []
            for meth_name, meth in vars(obj).items():
                if meth_name.startswith("test") and inspect.isfunction(meth):
                    cases.append(NamedFunctionCase(_method_call(obj, meth_name),
                                                   f"{attr}.{meth_name}", _skip_reason(meth)))
            try:
                line = inspect.getsourcelines(obj)[1]
            except (OSError, TypeError):
                line = 0
            extra.append((line, cases))
    for _, cases in sorted(extra, key=lambda item: item[0]):
        suite.addTests(cases)
    return suite


# --------------------------------------------------------------------------- running

def _is_pytest_outcome(exc: BaseException, kind: str) -> bool:
    """pytest.fail / pytest.raises / pytest.skip raise these (their __module__ says builtins)."""
    mro = type(exc).__mro__
    return any(c.__name__ == kind for c in mro) and any(
        c.__name__ == "OutcomeException" and c.__module__.startswith("_pytest") for c in mro)


class Collector(unittest.TestResult):
    """Reports each test as one JSON event as soon as it finishes (so crashes keep progress)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.current: dict | None = None
        self.count = 0

    def name_of(self, test: unittest.TestCase) -> str:
        if isinstance(test, NamedFunctionCase):
            return test.case_name
        if isinstance(test, doctest.DocTestCase):
            name = test._dt_test.name
            return name[len(self.prefix) + 1:] if name.startswith(self.prefix + ".") else name
        if isinstance(test, unittest.suite._ErrorHolder):
            return test.description.replace(f"({self.prefix}.", "(")
        method = getattr(test, "_testMethodName", None)
        if method:
            return f"{type(test).__qualname__}.{method}"
        return str(test)

    def startTest(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().startTest(test)
        name = self.name_of(test)
        self.current = {"name": name, "outcome": "passed", "messages": []}
        emit({"event": "start", "name": name})

    def stopTest(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().stopTest(test)
        if self.current is not None:
            self._report(self.current)
        self.current = None

    def _report(self, case: dict) -> None:
        self.count += 1
        message = "\n\n".join(case["messages"])
        emit({"event": "case", "name": case["name"], "outcome": case["outcome"],
              "message": trim(message, _budget)})

    def _record(self, test: unittest.TestCase, outcome: str, message: str) -> None:
        rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
        if self.current is None:  # setUpClass / setUpModule problems: no startTest for them
            self._report({"name": self.name_of(test), "outcome": outcome, "messages": [message]})
            return
        if rank[outcome] >= rank[self.current["outcome"]]:
            self.current["outcome"] = outcome
        if message:
            self.current["messages"].append(message)

    def _classify(self, test: unittest.TestCase, err) -> tuple[str, str]:
        exc = err[1]
        if exc is None:
            exc = err[0]()
        if _is_pytest_outcome(exc, "Skipped"):
            return "skipped", str(exc)
        failure_type = getattr(test, "failureException", None) or AssertionError  # None: _ErrorHolder
        failure = isinstance(exc, (failure_type, AssertionError)) or _is_pytest_outcome(exc, "Failed")
        return ("failed" if failure else "error"), format_exception(exc, failure)

    # Classify before calling super(): unittest truncates the traceback in place.
    def addError(self, test, err) -> None:  # noqa: N802
        self._record(test, *self._classify(test, err))
        super().addError(test, err)

    def addFailure(self, test, err) -> None:  # noqa: N802
        self._record(test, *self._classify(test, err))
        super().addFailure(test, err)

    def addSkip(self, test, reason) -> None:  # noqa: N802
        super().addSkip(test, reason)
        self._record(test, "skipped", f"skipped: {reason}")

    def addExpectedFailure(self, test, err) -> None:  # noqa: N802
        super().addExpectedFailure(test, err)
        self._record(test, "passed", "")

    def addUnexpectedSuccess(self, test) -> None:  # noqa: N802
        super().addUnexpectedSuccess(test)
        self._record(test, "failed", "unexpected success: the test is marked expectedFailure but passed")

    def addSubTest(self, test, subtest, err) -> None:  # noqa: N802
        if err is not None:
            outcome, message = self._classify(test, err)
            self._record(test, outcome, f"{subtest._subDescription()}:\n{message}")
        super().addSubTest(test, subtest, err)


def _forget_shadowed(names: list[str], workdir: str) -> None:
    """A user module called e.g. ``json`` must win over the stdlib one the harness loaded."""
    for name in names:
        mod = sys.modules.get(name)
        if mod is not None and not _is_user_file(getattr(mod, "__file__", None) or "/"):
            del sys.modules[name]


def _import_target(cfg: dict) -> types.ModuleType | None:
    """Import the test file (or the module for doctests); report import problems."""
    workdir = cfg["workdir"]
    if cfg["mode"] == "doctest":
        name, path, rewrite = cfg["module_name"], os.path.join(workdir, cfg["module_name"] + ".py"), False
    else:
        name = os.path.splitext(cfg["test_filename"])[0]
        path, rewrite = os.path.join(workdir, cfg["test_filename"]), True
    _forget_shadowed([name, cfg["module_name"], *cfg.get("extra_modules", [])], workdir)
    real_main = unittest.main
    unittest.main = lambda *a, **k: None  # an unguarded unittest.main() must not run the tests
    try:
        return load_source_module(name, path, rewrite)
    except SystemExit as exc:
        emit({"event": "import_exit", "code": repr(exc.code),
              "message": format_exception(exc, failure=False)})
    except BaseException as exc:  # noqa: BLE001 - everything the import does is the user's
        emit({"event": "import_error", "message": format_exception(exc, failure=False, budget=3 * _budget)})
    finally:
        unittest.main = real_main
    return None


def main() -> None:
    global _results_fd, _harness_pid, _workdir, _budget
    with open(sys.argv[1]) as fh:
        cfg = json.load(fh)
    _results_fd = cfg["results_fd"]
    _harness_pid = os.getpid()
    os.set_inheritable(_results_fd, False)  # subprocesses of the tests do not get it
    _workdir = os.path.realpath(cfg["workdir"])
    cfg["workdir"] = _workdir
    _budget = int(cfg.get("message_budget", 2000))
    try:
        notes = setup(cfg)
    except Exception as exc:  # noqa: BLE001
        emit({"event": "harness_error", "message": f"sandbox set-up failed: {exc!r}"})
        os._exit(70)
    os.chdir(_workdir)
    sys.path.insert(0, _workdir)
    sys.dont_write_bytecode = True
    emit({"event": "setup", "notes": notes, "uid": os.getuid()})
    lifeline = cfg.get("lifeline_fd")
    if lifeline is not None:
        os.set_inheritable(lifeline, False)
    if os.getpid() == 1:
        _be_init(lifeline)

    module = _import_target(cfg)
    if module is None:
        _finish(0)
    prefix = module.__name__
    if cfg["mode"] == "doctest":
        try:
            suite = doctest.DocTestSuite(module)
        except ValueError:
            suite = unittest.TestSuite()
    else:
        suite = collect(module, _workdir)
    total = suite.countTestCases()
    emit({"event": "collected", "count": total})
    collector = Collector(prefix)
    suite.run(collector)
    emit({"event": "done", "count": collector.count})
    _finish(0)


def _be_init(lifeline: int | None) -> None:
    """As PID 1 of a new PID namespace, fork the real harness and wait for it.

    The kernel shields PID 1 from its own signals, so tests that kill their own process
    would otherwise survive; and this way a death by signal is reported by name. If the
    parent (the tool) dies, the lifeline pipe reaches EOF and we exit, which makes the
    kernel kill everything in the namespace.
    """
    global _harness_pid
    child = os.fork()
    if child == 0:
        _harness_pid = os.getpid()
        return
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    while True:
        if lifeline is not None:
            ready, _, _ = select.select([lifeline], [], [], 0.05)
            if ready and not os.read(lifeline, 1):
                os._exit(137)
        else:
            select.select([], [], [], 0.05)
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)  # also reaps orphans re-parented to us
        except ChildProcessError:
            os._exit(70)
        if pid == child:
            break
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        emit({"event": "child_exit", "signal": sig})
        os._exit(128 + sig)
    code = os.waitstatus_to_exitcode(status)
    emit({"event": "child_exit", "code": code})
    os._exit(code)


def _finish(code: int) -> None:
    """Flush and leave without atexit hooks or thread joins the untrusted code may have added."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    try:
        main()
    except BaseException as exc:  # noqa: BLE001 - report harness bugs instead of dying silently
        emit({"event": "harness_error", "message": "".join(traceback.format_exception(exc))[-4000:]})
        _finish(70)
