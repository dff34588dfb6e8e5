"""What a sandboxed test run reported, believed only when the report checks out.

runner.py starts the harness and hands it a :class:`Secret` through a pipe: a key to sign
every line of its report, a second key for the PID-namespace init (which never runs untrusted
code), two random values for the guard's canaries and the exit code of a finished run. Here
the report is read back: a line that is not signed, a sequence that skips, a "done" without
the canaries' proof, an exit that is not the harness's own, a process still running after it
said it was done, or a test of the test file that never reported, each make the run
``tampered``, never passed. Test files are read statically (never imported) for the last check.
The harness's cargo mode (_sandbox_cargo.py) also reports ``build_failed`` (the status
``compile_error``) and ``timeout`` (a build or the tests stopped at its own limits). A ``refused``
event (the audit hook of _sandbox_audit.py refused the code under test an operation) makes the
run ``tampered`` too, with the hook's reason, which tells the model what not to do.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import hmac
import json
import marshal
import secrets
import signal
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["CaseResult", "SandboxResult", "Secret", "defined_tests", "interpret"]

# Keep in sync with _sandbox_harness.py.
CPU_LIMIT_EXIT = 152
TAMPERED_EXIT = 153
CHANNEL_EXIT = 154


@dataclass
class CaseResult:
    """One test: ``name`` is "TestClass.test_method" or "test_function"."""

    name: str
    outcome: str  # "passed" | "failed" | "error" | "skipped"
    message: str  # assertion message or trimmed traceback; "" when passed


@dataclass
class SandboxResult:
    """What happened in the sandbox; ``status`` says whether the run itself completed.

    ``tampered``: the code under test modified the testing framework or forged the report;
    ``message`` says how in one line, and no test counts (``cases`` is empty).
    """

    status: str  # "ok" | "timeout" | "crashed" | "import_error" | "no_tests" | "tampered" | "compile_error"
    tests_run: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    cases: list[CaseResult] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    duration: float = 0.0
    isolation: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def success(self) -> bool:
        """All tests ran and passed; skipped tests do not count as passed."""
        return self.status == "ok" and self.tests_run > 0 and self.passed == self.tests_run

    def to_dict(self) -> dict:
        """JSON-serialisable form (for run folders and reports)."""
        data = dataclasses.asdict(self)
        data["success"] = self.success
        return data


@dataclass(frozen=True)
class Secret:
    """One run's secrets; the harness reads them from a pipe before any untrusted code runs."""

    key: bytes
    init_key: bytes
    nonces: tuple[str, str]
    seed: int
    exit_ok: int

    @classmethod
    def new(cls) -> Secret:
        exit_ok = 3 + secrets.randbelow(60)  # below 70 (harness error) and 128 (signals)
        return cls(secrets.token_bytes(32), secrets.token_bytes(32), (secrets.token_hex(16), secrets.token_hex(16)),
                   secrets.randbits(40), exit_ok)

    def for_harness(self) -> bytes:
        """marshal, not JSON: the sandbox's first process reads it without importing json."""
        return marshal.dumps({"key": self.key.hex(), "init_key": self.init_key.hex(), "nonces": list(self.nonces),
                              "seed": self.seed, "exit_ok": self.exit_ok})


def content_hash(text: str) -> str:
    """The hash the harness checks the file it imports against (blake2b of the UTF-8 bytes)."""
    return hashlib.blake2b(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- reading the report

# The fields of the harness's events that the verdict reads, with the JSON type the harness always
# writes there: a signed event with another type in one of them was not written by the harness.
_SHAPES: dict[str, dict[str, type]] = {
    "setup": {"notes": list}, "collected": {"count": int}, "start": {"name": str},
    "case": {"name": str, "outcome": str, "message": str},
    "done": {"count": int, "collected": int, "proof": str},
    "child_exit": {"code": int, "signal": int}, "tampered": {"reason": str}, "refused": {"reason": str},
    "import_error": {"message": str}, "import_exit": {"message": str}, "build_failed": {"message": str, "cargo": str},
    "timeout": {"message": str}, "harness_error": {"message": str},
}


def _garbled(event: dict) -> str | None:
    """The first field of an event that does not have the harness's type, or None."""
    kind = event.get("event")
    if not isinstance(kind, str):
        return "event"
    for name, wanted in _SHAPES.get(kind, {}).items():
        value = event.get(name)
        if name in event and (not isinstance(value, wanted) or isinstance(value, bool)):
            return f"{kind}.{name}"
    return None


def read_events(raw: bytes | bytearray, secret: Secret) -> tuple[list[dict], str | None]:
    """The signed events, in order, and why the stream cannot be trusted (None when it can)."""
    events: list[dict] = []
    problem: str | None = None
    expected = {secret.key: 0, secret.init_key: 0}
    lines = bytes(raw).split(b"\n")[:-1]  # the last piece has no newline: cut off by a kill
    for line in lines:
        if not line:
            continue
        mac, _, body = line.partition(b" ")
        key = next((k for k in expected if hmac.compare_digest(
            hashlib.blake2b(body, key=k, digest_size=16).hexdigest().encode(), mac)), None)
        if key is None:
            problem = problem or "a line on the results channel was not written by the harness (a forged report)"
            continue
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            problem = problem or "a report on the results channel is garbled (not a JSON object)"
            continue
        seq = event.get("seq")
        if type(seq) is not int or _garbled(event):
            problem = problem or f"a report on the results channel is garbled ({_garbled(event) or 'seq'})"
            continue
        if seq != expected[key]:
            problem = problem or "reports of the harness were lost, repeated or reordered on the results channel"
        expected[key] = seq + 1
        event["_from_init"] = key is secret.init_key
        events.append(event)
    return events, problem


def _signal_name(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# --------------------------------------------------------------------------- what the test file defines

def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _only_marks(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Undecorated, or only pytest marks (which the harness understands); not an empty parametrize."""
    for deco in node.decorator_list:
        name = _dotted(deco)
        if not (name.startswith("pytest.mark.") or name.startswith("mark.")):
            return False
        if name.endswith("parametrize") and isinstance(deco, ast.Call) and len(deco.args) > 1 \
                and isinstance(deco.args[1], ast.List | ast.Tuple) and not deco.args[1].elts:
            return False
    return True


def _bound_once(tree: ast.Module) -> set[str]:
    """Top-level names defined exactly once and never deleted or reassigned."""
    counts: Counter[str] = Counter()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            counts[node.name] += 1
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Delete | ast.Import | ast.ImportFrom):
            for target in ast.walk(node):
                if isinstance(target, ast.Name):
                    counts[target.id] += 2
                elif isinstance(target, ast.alias):
                    counts[(target.asname or target.name).split(".")[0]] += 2
    return {name for name, n in counts.items() if n == 1}


def defined_tests(source: str) -> list[str] | None:
    """Tests the file surely defines, named as the harness reports them; None when it cannot tell.

    Conservative on purpose (a test this misses only weakens a check; one it invents would
    call an honest run tampered): top-level ``unittest.TestCase`` subclasses (their bases
    named ``...TestCase``, or such classes of the file) with their ``test*`` methods,
    pytest-style ``Test*`` classes without ``__init__``, and top-level ``test*`` functions.
    A file with ``load_tests`` chooses its own tests: None.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # MemoryError: nesting Python's parser refuses
        return None
    once = _bound_once(tree)
    if "load_tests" in {getattr(n, "name", "") for n in tree.body}:
        return None
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in once]
    unit: set[str] = set()
    changed = True
    while changed:
        before = len(unit)
        unit |= {c.name for c in classes if any(_dotted(b).endswith("TestCase") or _dotted(b) in unit for b in c.bases)}
        changed = len(unit) != before
    found: list[str] = []
    for cls in classes:
        methods = [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        if cls.name in unit:
            found += [f"{cls.name}.{m.name}" for m in methods if m.name.startswith("test")
                      and not any(_dotted(d).endswith("property") for d in m.decorator_list)]
        elif cls.name.startswith("Test") and all(m.name != "__init__" for m in methods):
            found += [f"{cls.name}.{m.name}" for m in methods if m.name.startswith("test") and _only_marks(m)]
    found += [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
              and n.name.startswith("test") and n.name in once and _only_marks(n)]
    return list(dict.fromkeys(found))


def unreported(expected: list[str], reported: list[str]) -> list[str]:
    """Expected tests with no result, unless a setUpClass/setUpModule failure explains it."""
    names = set(reported)
    if any(n.startswith("setUpModule") for n in names):
        return []
    missing = []
    for test in expected:
        cls = test.split(".")[0]
        if test in names or f"setUpClass ({cls})" in names or any(n.startswith(test + "[") for n in names):
            continue
        missing.append(test)
    return missing


# --------------------------------------------------------------------------- the verdict

@dataclass
class RunFacts:
    """What the runner saw of the process, besides its report."""

    exit_code: int | None
    timed_out: bool
    exited: bool
    timeout: float
    cpu_seconds: int
    target: str  # the test file (or the module, for doctests)
    expected: list[str] | None = None  # defined_tests() of the test file


def _check_done(done: dict, events: list[dict], result: SandboxResult, secret: Secret, facts: RunFacts) -> str | None:
    """Why a report of completion cannot be believed, or None."""
    if sum(1 for e in events if e.get("event") == "done") > 1:
        return "the harness reported completion twice (a forged report)"
    proof = str(done.get("proof", ""))
    if not all(n in proof for n in secret.nonces):
        return "the report of completion lacks the harness's own checks (a forged report)"
    collected = [e.get("count") for e in events if e.get("event") == "collected"]
    if done.get("count") != result.tests_run or collected != [done.get("collected")]:
        return (f"the report says {done.get('count')} tests ran but {result.tests_run} results arrived "
                f"(collected: {collected})")
    if not facts.exited:
        return "the tests reported they were done but the process kept running (a report sent early)"
    if facts.exit_code != secret.exit_ok:
        return (f"the test process ended with {_signal_name(facts.exit_code)} right after its report, "
                "not through the harness (os._exit after a forged report?)")
    missing = unreported(facts.expected or [], [c.name for c in result.cases])
    if missing:
        return (f"{len(missing)} of the tests the test file defines never reported a result "
                f"({', '.join(missing[:3])}): something hid them")
    return None


def _reason(event: dict) -> str:
    """Why a ``tampered`` or ``refused`` event says the run cannot count; never empty (an empty
    reason would read as no reason to refuse the run)."""
    return str(event.get("reason") or "") or "the harness gave no reason"


def _whole(value: object) -> int | None:
    """A whole number the harness reported, or None for anything else (a garbled report)."""
    return value if type(value) is int else None


def _collect(events: list[dict], result: SandboxResult) -> tuple[str | None, dict[str, dict]]:
    """Cases, counts and isolation notes into ``result``; the test running when it stopped, and the last event of each kind."""
    running: str | None = None
    kinds: dict[str, dict] = {}
    for event in events:
        kind = str(event.get("event"))
        kinds[kind] = event
        if kind == "child_exit" and event.get("_from_init"):  # the harness below its PID-namespace init
            sig, code = _whole(event.get("signal")), _whole(event.get("code"))
            result.exit_code = -sig if sig else code
        elif kind == "setup":
            notes = event.get("notes")
            result.isolation = [str(n) for n in notes] if isinstance(notes, list) else []
        elif kind == "start":
            running = str(event.get("name"))
        elif kind == "case":
            outcome = str(event.get("outcome"))
            result.cases.append(CaseResult(str(event.get("name")), outcome, str(event.get("message", ""))))
            running = None
    counts = Counter(case.outcome for case in result.cases)
    result.passed, result.failed, result.skipped = counts["passed"], counts["failed"], counts["skipped"]
    result.errors = len(result.cases) - result.passed - result.failed - result.skipped
    result.tests_run = len(result.cases)
    return running, kinds


def interpret(raw: bytes | bytearray, secret: Secret, facts: RunFacts) -> SandboxResult:
    """Turn the harness's signed JSON events into a SandboxResult."""
    events, forged = read_events(raw, secret)
    result = SandboxResult(status="crashed", exit_code=facts.exit_code)
    running, kinds = _collect(events, result)
    ended = any(e.get("event") == "child_exit" and e.get("_from_init") for e in events)  # the init saw it end
    facts = dataclasses.replace(facts, exit_code=result.exit_code, exited=facts.exited or ended)
    refused = next((_reason(e) for e in events if e.get("event") == "refused"), None)
    tamper = forged or (f"the sandbox refused the module: {refused}" if refused else None) \
        or (_reason(kinds["tampered"]) if "tampered" in kinds else None)
    if not tamper and result.exit_code == TAMPERED_EXIT:
        tamper = "the harness found the testing framework modified but could not say how"
    if not tamper and result.exit_code == CHANNEL_EXIT:
        tamper = "the code under test closed or replaced the harness's results channel"
    if not tamper and "done" in kinds and not facts.timed_out:
        tamper = _check_done(kinds["done"], events, result, secret, facts)
    if tamper:
        if not tamper.startswith("the sandbox refused"):
            tamper = f"the testing framework or its report was tampered with: {tamper}"
        return SandboxResult(status="tampered", exit_code=result.exit_code, isolation=result.isolation,
                             message=tamper)
    _set_status(result, kinds, running, facts)
    return result


def _set_status(result: SandboxResult, kinds: dict[str, dict], running: str | None, facts: RunFacts) -> None:
    target, exit_code = facts.target, result.exit_code
    where = (f"while running {running}" if running else
             "while importing " + target if "collected" not in kinds and "import_error" not in kinds
             else "between tests")
    if "import_error" in kinds:
        result.status = "import_error"
        result.message = str(kinds["import_error"].get("message", ""))
    elif "import_exit" in kinds:
        exit_event = kinds["import_exit"]
        result.message = (f"the code called sys.exit({exit_event.get('code')}) while {target} was being "
                          f"imported, so no test ran:\n{exit_event.get('message', '')}")
    elif "build_failed" in kinds:  # cargo mode: the code did not compile, so no test ran
        result.status = "compile_error"
        result.message = str(kinds["build_failed"].get("message", ""))
    elif "timeout" in kinds:  # cargo mode: the harness stopped a build or a test at its own limit
        result.status = "timeout"
        result.message = str(kinds["timeout"].get("message", ""))
    elif facts.timed_out:
        result.status = "timeout"
        result.message = f"timed out after {facts.timeout:g} s {where}"
    elif "cpu_limit" in kinds or exit_code in (CPU_LIMIT_EXIT, -signal.SIGXCPU):
        result.status = "timeout"
        result.message = f"CPU time limit ({facts.cpu_seconds} s) exceeded {where}"
    elif "harness_error" in kinds:
        result.message = "sandbox harness failed: " + str(kinds["harness_error"].get("message", ""))
    elif "done" in kinds:
        if result.tests_run == 0:
            result.status = "no_tests"
            result.message = f"no tests found in {target}"
        else:
            result.status = "ok"
            if not result.success:
                bad = [c.name for c in result.cases if c.outcome != "passed"]
                result.message = (f"{result.passed} of {result.tests_run} tests passed "
                                  f"({result.failed} failed, {result.errors} errors, {result.skipped} skipped): "
                                  + ", ".join(bad[:10]) + (" ..." if len(bad) > 10 else ""))
    else:
        result.message = (f"the test process ended ({_signal_name(exit_code)}) {where} without reporting "
                          "results: the code may call os._exit(), kill its own process, or run out of memory")

