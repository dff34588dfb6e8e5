"""The sandbox: runs a user's tests against generated (untrusted) code, returns a structured result.

This is the only module of the project that starts processes (with cargo_runner.py, which asks the
Rust toolchain where it lives and hands cargo runs to this sandbox). Generated code never runs in
our interpreter: a fresh Python runs ``_sandbox_harness.py`` in a private temporary directory
holding copies of the module and the test file. Around it, as far as the platform allows:

* a new session (the wall-clock timeout kills the whole process group), stdin from /dev/null,
  output read incrementally and capped, a scrubbed environment;
* ``unshare``: a new network namespace (no network), a PID namespace (killing its first
  process kills everything in it) and a mount namespace, in which the harness moves into a
  private root: the system and Python directories read-only, an empty private /tmp, and
  nothing of the user's files (_sandbox_root.py);
* cgroups (v1 here): ``pids.max`` against fork bombs, a memory ceiling for all processes;
* rlimits (AS, CPU, FSIZE, NPROC, CORE=0) and, when we are root, a drop to ``nobody``;
  both are applied by the harness itself before any untrusted code is imported, so that no
  ``preexec_fn`` runs in our (possibly multi-threaded) process.

What applied and what could not is listed in ``SandboxResult.isolation``. The harness's report
is signed and checked (verdict.py); code that tampers with the testing framework gets the
status ``tampered``, never a pass.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import py_compile
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from code_generation.sandbox.isolation import (
    Cgroups,
    Plan,
    drop_target,
    plan_for,
    rlimits_for,
    scratch_base,
    scrubbed_env,
)
from code_generation.sandbox.limits import SandboxLimits
from code_generation.sandbox.trace_report import Trace, parse_trace
from code_generation.sandbox.verdict import (
    CaseResult,
    RunFacts,
    SandboxResult,
    Secret,
    content_hash,
    defined_tests,
    interpret,
    read_events,
)

__all__ = ["CaseResult", "SandboxLimits", "SandboxResult", "Trace", "run_doctests", "run_tests",
           "run_trace"]

CHILD = Path(__file__).with_name("child")  # what runs inside the sandbox, copied in by file name
HARNESS = CHILD / "_sandbox_harness.py"
HARNESS_MODULES = [CHILD / f"_sandbox_{n}.py"
                   for n in ("audit", "cargo", "collect", "guard", "init", "root", "trace")]
MESSAGE_BUDGET = 2000  # characters per test case message
RESULTS_CAP = 8_000_000  # bytes of JSON events we are prepared to read
EXIT_GRACE = 1.0  # seconds to wait for pipes after the child exited or reported "done"
# With a mount namespace the harness pivots into a private root; False makes it fall back to
# tmpfs masks over the known writable and private folders (what it does when the root fails).
PRIVATE_ROOT = True


# --------------------------------------------------------------------------- public API

def run_tests(module_source: str, module_name: str, test_source: str, test_filename: str,
              limits: SandboxLimits | None = None,
              extra_files: dict[str, str] | None = None) -> SandboxResult:
    """Run a unittest (or plain pytest-style) test file against a module, in the sandbox.

    ``module_name`` is the import name (written as ``<module_name>.py``); ``test_filename``
    e.g. ``test_prime_numbers.py``; ``extra_files`` maps relative paths to contents (data
    files, helper modules) written beside them.
    """
    files = _test_files(module_source, module_name, test_source, test_filename, extra_files)
    return _run_sandbox("unittest", files, module_name, test_filename, limits or SandboxLimits())


def run_trace(module_source: str, module_name: str, test_source: str, test_filename: str, test_name: str,
              limits: SandboxLimits | None = None, extra_files: dict[str, str] | None = None) -> Trace:
    """Run one test again with a line tracer on the module, for feedback only (_sandbox_trace.py).

    A run of its own with the same sandbox and limits as `run_tests`, which judges nothing: the
    guard's tampering checks are skipped (they forbid tracers), so its report is read as the
    untrusted data it is (`trace_report.parse_trace`), and a timeout or a crash gives no trace.
    """
    files = _test_files(module_source, module_name, test_source, test_filename, extra_files)
    events: list[dict] = []
    result = _run_sandbox("trace", files, module_name, test_filename, limits or SandboxLimits(),
                          {"trace_test": test_name}, events)
    return parse_trace(events, test_name, result.status, result.message)


def _test_files(module_source: str, module_name: str, test_source: str, test_filename: str,
                extra_files: dict[str, str] | None) -> dict[str, str]:
    """The files of a test run by relative path, their names checked."""
    _check_identifier(module_name, "module_name")
    if not test_filename.endswith(".py") or os.path.basename(test_filename) != test_filename:
        raise ValueError(f"test_filename must be a plain file name ending in .py, not {test_filename!r}")
    _check_identifier(test_filename[:-3], "test_filename")
    if test_filename == module_name + ".py":
        raise ValueError("the test file and the module must have different names")
    files = {f"{module_name}.py": module_source, test_filename: test_source}
    for rel, content in (extra_files or {}).items():
        if rel in files:
            raise ValueError(f"extra file {rel!r} would replace the module or the test file")
        files[_check_relative(rel)] = content
    return files


def run_doctests(module_source: str, module_name: str,
                 limits: SandboxLimits | None = None) -> SandboxResult:
    """Run the module's doctests (stdlib doctest); each docstring is reported as one case."""
    _check_identifier(module_name, "module_name")
    files = {f"{module_name}.py": module_source}
    return _run_sandbox("doctest", files, module_name, None, limits or SandboxLimits())


def _check_identifier(name: str, what: str) -> None:
    if not name.isidentifier() or name.startswith("_sandbox_"):  # the harness's own modules
        raise ValueError(f"{what} must be a Python identifier, not {name!r}")


def _check_relative(rel: str) -> str:
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts:
        raise ValueError(f"extra file paths must be relative and stay inside the sandbox: {rel!r}")
    return rel


MODE_NOTES = {
    "unittest": ["environment: scrubbed (only PATH, LANG, HOME/TMPDIR=sandbox, PYTHON* settings)",
                 "verdict: signed report, framework snapshot, canaries, per-test checks (see docs/sandbox.md)"],
    "cargo": ["environment: scrubbed (only PATH, LANG, HOME/TMPDIR=sandbox, cargo's own settings)",
              "verdict: signed report; each test in its own process, passed only with its wrapper's proof "
              "(see docs/rust.md)"],
}


# --------------------------------------------------------------------------- the run

def _prepare_dir(files: dict[str, str], owner: tuple[int, int] | None, base: str | None = None) -> tuple[str, str]:
    """Top dir (ours: harness, config) and the work dir inside it (theirs: code, tests)."""
    top = tempfile.mkdtemp(prefix="sandbox-", dir=base)
    os.chmod(top, 0o755)  # traversable by the dropped user, writable only by us
    workdir = os.path.join(top, "work")
    os.mkdir(workdir, 0o700)
    for rel, content in files.items():
        path = os.path.join(workdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(content)
    if owner:
        for root, dirs, names in os.walk(workdir):
            for n in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in names)]:
                os.chown(n, *owner)
    # Ours, not theirs: the harness reads them before it drops privileges; the dropped user may not.
    os.mkdir(os.path.join(top, "__pycache__"), 0o700)
    for rel, content in _harness_files().items():
        fd = os.open(os.path.join(top, rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
    os.mkdir(os.path.join(top, "root"), 0o755)  # where the harness builds its private root
    return top, workdir


_STUB = (  # the harness takes its folder off sys.path once its modules are imported
    "import os, sys\n"
    "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
    "import _sandbox_init\n"
    "_sandbox_init.start()\n"
)
_harness_lock = threading.Lock()
_harness_cache: dict[str, bytes] = {}


def _harness_files() -> dict[str, bytes]:
    """The harness as the sandbox gets it: a stub script, its modules and their compiled forms.

    Compiled once per process, as unchecked-hash .pyc files: compiling the harness's 1,500
    lines again in every run took longer than the rest of its start-up. An interpreter of
    another version ignores them (another cache tag) and compiles the sources.
    """
    with _harness_lock:
        if not _harness_cache:
            files = {"harness.py": _STUB.encode()}
            tag = sys.implementation.cache_tag
            with tempfile.TemporaryDirectory(prefix="sandbox-pyc-") as folder:
                for source in (HARNESS, *HARNESS_MODULES):
                    files[source.name] = source.read_bytes()
                    if tag:
                        compiled = os.path.join(folder, source.stem + ".pyc")
                        py_compile.compile(str(source), cfile=compiled, doraise=True,
                                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                        files[f"__pycache__/{source.stem}.{tag}.pyc"] = Path(compiled).read_bytes()
            _harness_cache.update(files)
        return dict(_harness_cache)


def _remove_tree(path: str) -> None:
    """Remove the sandbox directory even if the code made parts of it unreadable."""
    def fix(func, p, _exc) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), stat.S_IRWXU)
            os.chmod(p, stat.S_IRWXU)
        with contextlib.suppress(OSError):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)

    shutil.rmtree(path, onerror=fix)


def _kill_by_marker(marker: str, own_pid: int) -> None:
    """Last resort without a PID namespace or cgroup: processes still running our harness."""
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == own_pid:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if needle in fh.read():
                    os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass


class _Capped:
    """Bytes read from a pipe, keeping at most ``cap`` and counting the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self, workdir: str) -> str:
        text = self.data.decode("utf-8", errors="replace").replace(workdir + os.sep, "")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output cut ...]"
        return text


def _pump(proc: subprocess.Popen, results_fd: int, limits: SandboxLimits,
          out: _Capped, err: _Capped, res: _Capped) -> bool:
    """Read all pipes until they close, the child is gone, or the deadline; True on timeout.

    After the child exited or reported "done", descendants may still hold the pipes: we wait
    EXIT_GRACE for them, then stop reading (the caller checks whether the child really exited).
    Once the PID-namespace init reports how the harness ended, everything the harness wrote is
    in the pipes: we read it and stop, and the clean-up kills the init and ``unshare`` rather
    than waiting for them to exit in turn (on a busy machine each hand-over costs milliseconds).
    """
    deadline = time.monotonic() + limits.timeout
    sel = selectors.DefaultSelector()
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err, results_fd: res}  # type: ignore[union-attr]
    for fd in streams:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    grace_until: float | None = None
    done = False
    try:
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                return True
            if grace_until is None and (done or proc.poll() is not None):
                grace_until = now + EXIT_GRACE  # descendants may hold the pipes open
            if grace_until is not None and now >= grace_until:
                return False
            wait = min(deadline, grace_until or deadline) - now
            for key, _ in sel.select(timeout=min(wait, 0.25)):
                try:
                    chunk = os.read(key.fd, 1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    streams[key.fd].add(chunk)
                    done = done or (key.fd == results_fd and b'"event": "done"' in res.data[-4096:])
                    if key.fd == results_fd and b'"event": "child_exit"' in res.data[-512:]:
                        _drain(streams)
                        return False
                else:
                    sel.unregister(key.fd)
        # All pipes closed: the child is exiting; wait for it within the deadline (Popen.wait
        # polls from half a millisecond up, where a fixed 10 ms sleep cost most of that per run).
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return True
        return False
    finally:
        sel.close()


def _drain(streams: dict[int, _Capped]) -> None:
    """Read what is already in the pipes, without waiting for more."""
    for fd, capped in streams.items():
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 1 << 20):
                capped.add(chunk)


def _secret_pipe(secret: Secret) -> int:
    """A pipe holding the run's secret, written and closed on our side; its read end."""
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, secret.for_harness())  # far below a pipe's capacity
    finally:
        os.close(write_fd)
    return read_fd


def run_harness(mode: str, files: dict[str, str], module_name: str, target: str, limits: SandboxLimits,
                extra: dict, events: list[dict], expected: list[str] | None) -> SandboxResult:
    """A sandboxed run in another mode of the harness (cargo_runner.py's "cargo"): `files` go into the
    work folder, `target` is the file whose hash the run is checked against, `expected` the tests
    that must each report a result."""
    return _run_sandbox(mode, files, module_name, target, limits, extra, events, expected)


def _run_sandbox(mode: str, files: dict[str, str], module_name: str, test_filename: str | None,
                 limits: SandboxLimits, extra: dict | None = None, events: list[dict] | None = None,
                 expected: list[str] | None = None) -> SandboxResult:
    """Prepare, run and clean up one sandboxed run; `extra` goes into the harness's config, and the
    signed events of its report are added to `events` when given."""
    start = time.monotonic()
    plan = plan_for(limits.network)
    drop = drop_target()
    isolation = list(plan.notes)
    cgroups = Cgroups(limits)
    isolation += cgroups.notes
    try:
        top, workdir = _prepare_dir(files, (drop[0], drop[1]) if drop else None, scratch_base(plan, cgroups))
    except BaseException:
        cgroups.kill_and_remove()
        raise
    try:
        return _launch(mode, files, module_name, test_filename, limits, (plan, drop, cgroups, top, workdir),
                       isolation, start, extra or {}, events, expected)
    except BaseException:
        _clean_up(None, cgroups, plan, top)  # nothing of a run that never started is left behind
        raise


def _launch(mode: str, files: dict[str, str], module_name: str, test_filename: str | None, limits: SandboxLimits,
            prepared: tuple[Plan, tuple[int, int, str] | None, Cgroups, str, str], isolation: list[str],
            start: float, extra: dict, events: list[dict] | None,
            expected: list[str] | None = None) -> SandboxResult:
    """Start the prepared sandbox, pump its output, clean up, and read its verdict."""
    plan, drop, cgroups, top, workdir = prepared
    rlimits = rlimits_for(limits, drop, isolation)
    isolation += MODE_NOTES.get(mode, MODE_NOTES["unittest"])
    target = test_filename or f"{module_name}.py"
    secret = Secret.new()
    read_fd, write_fd = os.pipe()
    # The child's init watches the read end of this pipe: EOF means we died, so it exits.
    life_read, life_write = os.pipe()
    secret_fd = _secret_pipe(secret)
    config = {
        "mode": mode,
        "workdir": workdir,
        "root": os.path.join(top, "root") if PRIVATE_ROOT else None,
        "module_name": module_name,
        "test_filename": test_filename,
        "target_hash": content_hash(files[target]),
        "extra_modules": [Path(p).stem for p in files if p.endswith(".py") and "/" not in p],
        "results_fd": write_fd,
        "lifeline_fd": life_read,
        "secret_fd": secret_fd,
        "rlimits": rlimits,
        "drop_to": list(drop) if drop else None,
        "cgroups": cgroups.procs_files,
        "private_mounts": plan.mount_ns,
        "hide": sorted({str(Path.home()), os.environ.get("HOME", ""), os.getcwd()} - {"", "/"}),
        "max_file_mb": limits.max_file_mb,
        "message_budget": MESSAGE_BUDGET,
        "pid_ns": plan.pid_ns,
    }
    config = {**extra, **config}  # the run's own settings win over a mode's extras
    config_path = os.path.join(top, "config")
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(marshal.dumps(config))  # the sandbox reads it without importing json
    # -S: no site; the harness adds site-packages itself, without the .pth files' import lines.
    # Not -I: it implies -E, which would drop PYTHONHASHSEED=0 (set order must not change
    # between attempts). -s -P plus our own complete environment give the same isolation.
    python = limits.python or sys.executable
    argv = [*plan.unshare_args, python, "-S", "-s", "-P", os.path.join(top, "harness.py"), config_path]
    out, err, res = _Capped(limits.max_output_bytes), _Capped(limits.max_output_bytes), _Capped(RESULTS_CAP)
    proc: subprocess.Popen | None = None
    timed_out = exited = False
    try:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, pass_fds=(write_fd, life_read, secret_fd),
                                    cwd=workdir, env=scrubbed_env(workdir), start_new_session=True)
        except OSError as exc:
            return SandboxResult(status="crashed", isolation=isolation, duration=time.monotonic() - start,
                                 message=f"could not start the sandbox: {exc}")
        finally:
            for fd in (write_fd, life_read, secret_fd):
                os.close(fd)
        timed_out = _pump(proc, read_fd, limits, out, err, res)
        exited = proc.poll() is not None
    finally:
        os.close(read_fd)
        os.close(life_write)
        memory_hit = _clean_up(proc, cgroups, plan, top)
    facts = RunFacts(exit_code=proc.returncode, timed_out=timed_out, exited=exited, timeout=limits.timeout,
                     cpu_seconds=limits.effective_cpu_seconds, target=target,
                     expected=defined_tests(files[target]) if mode == "unittest" else expected)
    result = interpret(res.data, secret, facts)
    if events is not None:
        events.extend(read_events(res.data, secret)[0])
    result.stdout, result.stderr = out.text(workdir), err.text(workdir)
    result.duration = time.monotonic() - start
    result.isolation = isolation + result.isolation
    if memory_hit and result.status != "ok":
        result.message += " (the sandbox reached its memory limit)"
    return result


def _clean_up(proc: subprocess.Popen | None, cgroups: Cgroups, plan: Plan, top: str) -> bool:
    """Kill whatever is left of the run and remove its files; whether it hit the memory limit."""
    if proc is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    cgroups.kill_and_remove()
    if not plan.pid_ns:
        _kill_by_marker(top, os.getpid())
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    memory_hit = cgroups.memory_exceeded()
    _remove_tree(top)
    return memory_hit
