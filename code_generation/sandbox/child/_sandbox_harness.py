"""Trusted harness that runs inside the sandboxed child process (see runner.py).

runner.py starts ``python -S -s -P harness.py CONFIG`` (under ``unshare`` where possible);
harness.py is a stub that runs _sandbox_init.start(), which reads the run's secrets, forks the
PID-namespace init and calls ``entry`` here, in a process that still has the parent's
privileges. Here the set-up that must happen inside the child before any untrusted code runs
is finished: join the cgroups, move into a private root (_sandbox_root.py), set resource
limits and drop to an unprivileged user. Then the test file (or the module, for doctests) is
imported, the tests run with a result collector, and each result goes out as a signed JSON
line on a pipe the parent passed in, so that the results never depend on what the untrusted
code prints. _sandbox_guard.py checks that the code under test left the testing framework
alone, and _sandbox_audit.py's audit hook refuses it the frames, objects and memory that hold the
run's secrets; a run that reports "done" exits with a code only the tool and the harness know.

Standard library only: it runs with the interpreter the tests need, but must not import
anything from the project (its helper modules are copied beside it).
"""

from __future__ import annotations

import difflib  # noqa: F401
import os
import pprint  # noqa: F401
import re
import resource
import signal
import sys
import traceback
import types
import unittest
import unittest.case
import unittest.suite
from collections.abc import Callable

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
import _sandbox_audit as sandbox_audit  # noqa: E402
import _sandbox_collect as sandbox_collect  # noqa: E402
import _sandbox_guard as sandbox_guard  # noqa: E402
import _sandbox_init as sandbox_init  # noqa: E402
import _sandbox_root as sandbox_root  # noqa: E402
import _sandbox_trace as sandbox_trace  # noqa: E402

while _here in sys.path:  # the tests must not import the harness's files
    sys.path.remove(_here)
blake2b = sandbox_init.blake2b

# difflib and pprint are imported up front on purpose (unittest's assertEqual diffs): once
# privileges are dropped the interpreter's own files may be unreadable when no mount
# namespace could make them visible again.

PR_SET_PDEATHSIG = 1
CPU_LIMIT_EXIT = 152  # exit code after SIGXCPU, so that the parent can tell
TAMPERED_EXIT = 153  # the guard found tampering (also reported as an event)
HARNESS_ERROR_EXIT = sandbox_init.HARNESS_ERROR_EXIT
CO_COROUTINE = 0x80

_exit = os._exit  # captured before any untrusted code runs
_workdir = ""
_budget = 2000
_channel: sandbox_init.Channel | None = None


# --------------------------------------------------------------------------- reporting

def emit(event: dict) -> None:
    if _channel is not None:
        _channel.send(event)


def clean(text: str) -> str:
    """Drop the temporary directory from paths: the LLM should see ``test_x.py``."""
    if _workdir:
        text = text.replace(_workdir + os.sep, "")
    return text


trim = sandbox_collect.trim


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

def add_site_packages() -> None:
    """What ``site`` would add to sys.path, without running the .pth files' import lines.

    We start Python with -S: site's import lines are slow (an editable install's finder) and
    can reach the user's project. The virtual environment is found as site finds it.
    """
    import site

    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    prefix = os.path.dirname(exe_dir)
    prefixes = [sys.base_prefix]
    for conf in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(prefix, "pyvenv.cfg")):
        if os.path.isfile(conf):
            with open(conf, encoding="utf-8") as fh:
                system = re.search(r"(?im)^\s*include-system-site-packages\s*=\s*true", fh.read())
            sys.prefix = sys.exec_prefix = prefix
            prefixes = [prefix, sys.base_prefix] if system else [prefix]
            break
    for directory in site.getsitepackages(prefixes):
        if not os.path.isdir(directory) or directory in sys.path:
            continue
        sys.path.append(directory)
        for name in sorted(n for n in os.listdir(directory) if n.endswith(".pth")):
            try:
                with open(os.path.join(directory, name), encoding="utf-8") as fh:
                    lines = fh.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                path = os.path.join(directory, line.strip())
                if line.strip() and not line.startswith(("#", "import ", "import\t")) and os.path.isdir(path):
                    sys.path.append(path)
    site.setquit()
    site.sethelper()


def _prctl(option: int, value: int) -> None:
    try:
        sandbox_root._libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _on_cpu_limit(signum: int, frame: object) -> None:
    emit({"event": "cpu_limit"})
    _exit(CPU_LIMIT_EXIT)


def _filesystem(cfg: dict) -> str:
    """A private root where possible, else tmpfs masks; the note says which."""
    hide = [h for h in cfg.get("hide", []) if h and h != "/"]
    size = max(16, 2 * int(cfg.get("max_file_mb", 64)))
    failed = "filesystem: private root not asked for"
    if cfg.get("root"):
        try:
            shown = sandbox_root.private_root(cfg["root"], cfg["workdir"], hide, size,
                                              [tuple(b) for b in cfg.get("binds", ())])
            return ("filesystem: private root; visible read-only: " + ", ".join(shown) + "; private and empty: "
                    + ", ".join(sandbox_root.SCRATCH) + " (gone after the run); the home, other folders "
                    "and the host's socket files are not there")
        except OSError as exc:
            failed = f"filesystem: private root NOT built ({exc})"
    binds = cfg.get("binds", ())  # cargo mode: shown where they are (no new root to place them elsewhere)
    try:
        masked = sandbox_root.mask(cfg["workdir"], hide, size, [b[0] for b in binds if not b[2]],
                                   [b[0] for b in binds if b[2] and b[0] != cfg["workdir"]])
        return (f"{failed}; tmpfs over " + ", ".join(masked)
                + " instead (writes there vanish; the Python installation is bound back read-only)")
    except OSError as exc:
        return f"{failed}; private mounts FAILED too ({exc})"


def setup(cfg: dict, cgroups: Callable[[], list[str]]) -> list[str]:
    """Everything that needs the parent's privileges, then drop them. Returns notes.

    ``cgroups`` waits for _sandbox_init's thread that joins the run's cgroups.
    """
    notes = list(cgroups())
    if cfg.get("private_mounts"):
        notes.append(_filesystem(cfg))
    for name, value in cfg["rlimits"].items():
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
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return notes


# --------------------------------------------------------------------------- running

def _is_pytest_outcome(exc: BaseException, kind: str) -> bool:
    """pytest.fail / pytest.raises / pytest.skip raise these (their __module__ says builtins)."""
    mro = type(exc).__mro__
    return any(c.__name__ == kind for c in mro) and any(
        c.__name__ == "OutcomeException" and c.__module__.startswith("_pytest") for c in mro)


class Collector(unittest.TestResult):
    """Reports each test as one JSON event as soon as it finishes (so crashes keep progress).

    It also checks each test before reporting it: a test counts as passed only if its method
    ran to its end and the guard saw nothing; otherwise ``problem`` says why and the run stops.
    ``quiet`` collectors (the guard's canaries) keep outcomes in ``outcomes`` instead.
    """

    def __init__(self, prefix: str, guard: sandbox_guard.Guard, quiet: bool = False) -> None:
        super().__init__()
        self.prefix = prefix
        self.guard = guard
        self.quiet = quiet
        self.current: dict | None = None
        self.count = 0
        self.outcomes: dict[str, tuple[str, str]] = {}
        self.started: set[int] = set()
        self.holders: list[str] = []
        self.problem: str | None = None
        self.finished: bool | None = None
        self.wrapped: str | None = None
        self.expected_failure = False

    def name_of(self, test: unittest.TestCase) -> str:
        if isinstance(test, sandbox_collect.NamedFunctionCase):
            return test.case_name
        doctest = sys.modules.get("doctest")
        if doctest is not None and isinstance(test, doctest.DocTestCase):
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
        self.started.add(id(test))
        name = self.name_of(test)
        self.current = {"name": name, "outcome": "passed", "messages": []}
        self.expected_failure = False
        self.finished = False
        self.wrapped = self._wrap(test)
        if self.wrapped is None:
            self.finished = None  # cannot tell: do not require it
        if not self.quiet:
            emit({"event": "start", "name": name})

    def _wrap(self, test: unittest.TestCase) -> str | None:
        """Put a wrapper on the instance that notes when the test method returns normally."""
        name = getattr(test, "_testMethodName", None)
        method = getattr(test, name, None) if name else None
        if method is None or not callable(method):
            return None
        code = getattr(getattr(method, "__func__", method), "__code__", None)
        collector = self

        if code is not None and code.co_flags & CO_COROUTINE:
            async def finishing(*args: object, **kwargs: object) -> object:
                result = await method(*args, **kwargs)
                collector.finished = True
                return result
        else:
            def finishing(*args: object, **kwargs: object) -> object:  # type: ignore[misc]
                result = method(*args, **kwargs)
                collector.finished = True
                return result

        for attr in ("__unittest_skip__", "__unittest_skip_why__", "__unittest_expecting_failure__"):
            if hasattr(method, attr):
                setattr(finishing, attr, getattr(method, attr))
        try:
            vars(test)[name] = finishing
        except TypeError:  # no instance dict (__slots__)
            return None
        return name

    def stopTest(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().stopTest(test)
        if self.wrapped is not None:
            vars(test).pop(self.wrapped, None)
            self.wrapped = None
        case, self.current = self.current, None
        if case is None:
            return
        problem = self._verify(test, case["outcome"])
        if problem:
            self.problem = self.problem or problem
            self.shouldStop = True
            case = {**case, "outcome": "error", "messages": [f"the testing framework was modified: {problem}"]}
        self._report(case)

    def _verify(self, test: unittest.TestCase, outcome: str) -> str | None:
        if outcome == "passed":
            if self.finished is False and not self.expected_failure:
                return (f"{self.name_of(test)} stopped before its end but was counted as passed "
                        "(an exception was swallowed)")
            marked = [entry[0] for entry in (*self.failures, *self.errors)]
            if any(t is test or getattr(t, "test_case", None) is test for t in marked):
                return f"{self.name_of(test)} failed but was counted as passed"
        return self.guard.check_case(test) or (None if self.quiet else self.guard.check(full=False))

    def _report(self, case: dict) -> None:
        self.count += 1
        message = trim("\n\n".join(case["messages"]), _budget)
        if self.quiet:
            self.outcomes[case["name"]] = (case["outcome"], message)
        else:
            emit({"event": "case", "name": case["name"], "outcome": case["outcome"], "message": message})

    def _record(self, test: unittest.TestCase, outcome: str, message: str) -> None:
        rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
        if self.current is None:  # setUpClass / setUpModule problems: no startTest for them
            name = self.name_of(test)
            self.holders.append(getattr(test, "description", name))
            self._report({"name": name, "outcome": outcome, "messages": [message]})
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
        message = f"{type(exc).__name__}: {exc}" if self.quiet else format_exception(exc, failure)
        return ("failed" if failure else "error"), message

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
        self.expected_failure = True
        self._record(test, "passed", "")

    def addUnexpectedSuccess(self, test) -> None:  # noqa: N802
        super().addUnexpectedSuccess(test)
        self._record(test, "failed", "unexpected success: the test is marked expectedFailure but passed")

    def addSubTest(self, test, subtest, err) -> None:  # noqa: N802
        if err is not None:
            outcome, message = self._classify(test, err)
            self._record(test, outcome, f"{subtest._subDescription()}:\n{message}")
        super().addSubTest(test, subtest, err)


def _all_tests(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    found: list[unittest.TestCase] = []
    for item in suite:
        found += _all_tests(item) if isinstance(item, unittest.TestSuite) else [item]
    return found


def _never_ran(tests: list[unittest.TestCase], collector: Collector) -> str | None:
    """Collected tests that did not run, unless a setUpClass/setUpModule failure explains it."""
    missing = []
    for test in tests:
        if id(test) in collector.started:
            continue
        klass = type(test)
        where = f"({klass.__module__}.{klass.__qualname__})"
        if not any(where in h or h.startswith("setUpModule") for h in collector.holders):
            missing.append(collector.name_of(test))
    if missing:
        return (f"{len(missing)} of {len(tests)} collected tests never ran ({', '.join(missing[:3])}): "
                "something cut the test run short")
    return None


def _forget_shadowed(names: list[str]) -> None:
    """A user module called e.g. ``json`` must win over the stdlib one the harness loaded."""
    for name in names:
        mod = sys.modules.get(name)
        if mod is not None and not _is_user_file(getattr(mod, "__file__", None) or "/"):
            del sys.modules[name]


def _import_target(cfg: dict, code: types.CodeType | SyntaxError, guard: sandbox_guard.Guard,
                   trust: Callable[[types.CodeType, dict], None] | None) -> types.ModuleType | None:
    """Import the test file (or the module for doctests, whose code ``trust`` must not see); report import problems."""
    if cfg["mode"] == "doctest":
        name, names, trust = cfg["module_name"], {}, None
    else:
        name = os.path.splitext(cfg["test_filename"])[0]
        prober = guard.prober
        names = {"__sandbox_eq__": prober.eq, "__sandbox_ne__": prober.ne, "__sandbox_assert__": prober.assertion}
    real_main = unittest.main
    unittest.main = lambda *a, **k: None  # an unguarded unittest.main() must not run the tests
    try:
        if isinstance(code, SyntaxError):
            raise code
        return sandbox_collect.load_source_module(name, cfg["target"], code, names, trust)
    except SystemExit as exc:
        emit({"event": "import_exit", "code": repr(exc.code),
              "message": format_exception(exc, failure=False)})
    except BaseException as exc:  # noqa: BLE001 - everything the import does is the user's
        emit({"event": "import_error", "message": format_exception(exc, failure=False, budget=3 * _budget)})
    finally:
        unittest.main = real_main
    return None


def _changed_on_disk(cfg: dict) -> str | None:
    """The file the tests came from, rewritten while they ran (to be read again by a reload)."""
    try:
        with open(cfg["target"], "rb") as fh:
            same = blake2b(fh.read()).hexdigest() == cfg["target_hash"]
    except OSError:
        same = False
    return None if same else f"{os.path.basename(cfg['target'])} was changed or removed while the tests ran"


def _tampered(reason: str) -> None:
    emit({"event": "tampered", "reason": trim(reason, 500)})
    _finish(TAMPERED_EXIT)


def _canaries(prefix: str, guard: sandbox_guard.Guard, nonces: list[str]) -> tuple[str | None, str]:
    """Run the guard's canaries through the same machinery as the tests; a problem, and the proof."""
    cases, expected = guard.canaries(nonces)
    quiet = Collector(prefix, guard, quiet=True)
    unittest.suite.TestSuite(cases).run(quiet)
    if quiet.problem:
        return quiet.problem, ""
    return guard.judge_canaries(quiet.outcomes, expected)


def _prepare(cfg: dict, secret: dict) -> tuple[types.CodeType | SyntaxError, sandbox_guard.Guard]:
    """Before any untrusted code: the target file checked against its hash and compiled (the harness
    compiles nothing once the audit hook is in), the guard, the site paths."""
    global _workdir, _budget
    _workdir = os.path.realpath(cfg["workdir"])
    cfg["workdir"] = _workdir
    _budget = int(cfg.get("message_budget", 2000))
    cfg["target"] = os.path.join(_workdir, cfg["test_filename"] or cfg["module_name"] + ".py")
    with open(cfg["target"], "rb") as fh:
        source = fh.read()
    if blake2b(source).hexdigest() != cfg["target_hash"]:
        _tampered(f"{os.path.basename(cfg['target'])} was changed on disk before it was read")
    if cfg["mode"] == "doctest":
        import doctest  # noqa: F401 - before the set-up: its files may be unreadable afterwards
    if not cfg.get("private_mounts") or re.search(rb"(?m)^(async\s+)?def\s+test", source):
        import inspect  # noqa: F401 - pytest-style functions need it (see _sandbox_collect)
    add_site_packages()
    guard = sandbox_guard.Guard(_workdir, cfg["module_name"], int(secret["seed"]))
    guard.install()
    rewriters = [] if cfg["mode"] == "doctest" else [
        sandbox_collect.AssertRewriter(), sandbox_guard.EqualityRewriter(), sandbox_guard.AssertionCallRewriter()]
    return sandbox_collect.compile_source(cfg["target"], source, rewriters), guard


def main(cfg: dict, secret: dict, cgroups: Callable[[], list[str]]) -> None:
    code, guard = _prepare(cfg, secret)
    try:
        notes = setup(cfg, cgroups)
    except Exception as exc:  # noqa: BLE001
        emit({"event": "harness_error", "message": f"sandbox set-up failed: {exc!r}"})
        _exit(HARNESS_ERROR_EXIT)
    os.chdir(_workdir)
    sys.path.insert(0, _workdir)
    sys.dont_write_bytecode = True
    emit({"event": "setup", "notes": notes, "uid": os.getuid()})
    _forget_shadowed([os.path.splitext(os.path.basename(cfg["target"]))[0], cfg["module_name"],
                      *cfg.get("extra_modules", [])])
    guard.baseline()
    tracing = cfg["mode"] == "trace"  # read before the untrusted module runs: it cannot change the mode
    # From here on the secrets live only in this frame and its callers', which the hook keeps from the tests.
    tests = None if cfg["mode"] == "doctest" else cfg["target"]
    trust = sandbox_audit.install(_channel.send if _channel else emit, _workdir, tests)
    module = _import_target(cfg, code, guard, trust)
    del trust
    if tracing:  # feedback only: no verdict, so nothing to check for tampering
        if module is not None:
            _trace(cfg, module, guard)
        _finish(int(secret["exit_ok"]))
    problem = guard.check(full=True)
    if problem:
        _tampered(problem)
    if module is None:
        _finish(0)
    _run(cfg, module, guard, int(secret["exit_ok"]), list(secret["nonces"]))


def _run(cfg: dict, module: types.ModuleType, guard: sandbox_guard.Guard, exit_ok: int, nonces: list[str]) -> None:
    """Collect, run, check, and report "done" with the canaries' proof; exits."""
    prefix = module.__name__
    if cfg["mode"] == "doctest":
        doctest = sys.modules["doctest"]
        try:
            suite = doctest.DocTestSuite(module)
        except ValueError:
            suite = unittest.TestSuite()
    else:
        suite = sandbox_collect.collect(module, _workdir)
    tests = _all_tests(suite)
    guard.watch_tests(tests, module)
    problem = guard.check(full=True)
    if problem:
        _tampered(problem)
    emit({"event": "collected", "count": len(tests)})
    collector = Collector(prefix, guard)
    try:
        suite.run(collector)
    except Exception:  # unittest itself broke: tampering if tests went missing, else our bug (reported)
        if not (collector.problem or guard.check(full=True) or _never_ran(tests, collector)):
            raise
    problem = (collector.problem or guard.check(full=True) or _never_ran(tests, collector)
               or _changed_on_disk(cfg))
    proof = ""
    if not problem:
        problem, proof = _canaries(prefix, guard, nonces)
    problem = problem or guard.check(full=True)
    if problem:
        _tampered(problem)
    emit({"event": "done", "count": collector.count, "collected": len(tests), "proof": proof})
    _finish(exit_ok)


def _trace(cfg: dict, module: types.ModuleType, guard: sandbox_guard.Guard) -> None:
    """Run the one test named in the config with the line tracer on the module; report what it saw."""
    tests = _all_tests(sandbox_collect.collect(module, _workdir))
    namer = Collector(module.__name__, guard, quiet=True)
    chosen = [t for t in tests if namer.name_of(t) == cfg.get("trace_test")]
    if not chosen:
        emit({"event": "trace", "found": False})
        return
    filename = os.path.join(_workdir, cfg["module_name"] + ".py")
    emit({"event": "trace", "found": True, **sandbox_trace.trace_case(chosen[0], filename)})


def _finish(code: int) -> None:
    """Flush and leave without atexit hooks or thread joins the untrusted code may have added."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    _exit(code)


def entry(cfg: dict, secret: dict, channel: sandbox_init.Channel, cgroups: Callable[[], list[str]]) -> None:
    """Called by _sandbox_init.start() in the harness's own process, with the run's channel."""
    global _channel
    _channel = channel
    try:
        main(cfg, secret, cgroups)
    except BaseException as exc:  # noqa: BLE001 - report harness bugs instead of dying silently
        emit({"event": "harness_error", "message": "".join(traceback.format_exception(exc))[-4000:]})
        _finish(HARNESS_ERROR_EXIT)
