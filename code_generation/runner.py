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
import math
import os
import pwd
import py_compile
import re
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from code_generation.trace_report import Trace, parse_trace
from code_generation.verdict import (
    CaseResult,
    RunFacts,
    SandboxResult,
    Secret,
    content_hash,
    defined_tests,
    interpret,
    read_events,
)

__all__ = ["CaseResult", "SandboxLimits", "SandboxResult", "Trace", "run_doctests", "run_mypy", "run_tests",
           "run_trace"]

HARNESS = Path(__file__).with_name("_sandbox_harness.py")
HARNESS_MODULES = [Path(__file__).with_name(f"_sandbox_{n}.py")
                   for n in ("cargo", "collect", "guard", "init", "root", "trace")]
MESSAGE_BUDGET = 2000  # characters per test case message
RESULTS_CAP = 8_000_000  # bytes of JSON events we are prepared to read
EXIT_GRACE = 1.0  # seconds to wait for pipes after the child exited or reported "done"
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# With a mount namespace the harness pivots into a private root; False makes it fall back to
# tmpfs masks over the known writable and private folders (what it does when the root fails).
PRIVATE_ROOT = True


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one sandboxed test run. The defaults suit small generated modules."""

    timeout: float = 30.0  # wall clock seconds for the whole test run
    memory_mb: int = 1024  # RLIMIT_AS
    cpu_seconds: int | None = None  # RLIMIT_CPU; default derived from timeout
    max_processes: int = 64
    max_file_mb: int = 64  # RLIMIT_FSIZE
    max_output_bytes: int = 200_000  # stdout/stderr captured beyond this are cut
    network: bool = False  # False = new network namespace where possible
    python: str | None = None  # the interpreter to run the tests with (a per-run venv's); default ours

    def __post_init__(self) -> None:
        # Checked here, before any folder or cgroup exists: inf or nan would fail halfway through.
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"the sandbox's timeout must be a finite number of seconds above 0, got {self.timeout}")

    @property
    def effective_cpu_seconds(self) -> int:
        """CPU limit a little above the wall clock one, so the wall clock normally wins."""
        if self.cpu_seconds is not None:
            return max(1, int(self.cpu_seconds))
        return max(1, math.ceil(self.timeout)) + 2


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
                 "verdict: signed report, framework snapshot, canaries, per-test checks (see README, The sandbox)"],
    "cargo": ["environment: scrubbed (only PATH, LANG, HOME/TMPDIR=sandbox, cargo's own settings)",
              "verdict: signed report; each test in its own process, passed only with its wrapper's proof "
              "(see README, Rust)"],
}


# --------------------------------------------------------------------------- isolation plan

@dataclass
class _Plan:
    """Which mechanisms this machine offers; probed once per process."""

    unshare_args: list[str]
    notes: list[str]
    net_isolated: bool
    pid_ns: bool
    mount_ns: bool
    in_user_ns: bool


_plan_cache: dict[bool, _Plan] = {}
_plan_lock = threading.Lock()


def _probe_unshare(args: list[str]) -> str | None:
    """None when ``unshare args true`` works, else why not."""
    true = shutil.which("true") or "/bin/true"
    try:
        proc = subprocess.run([*args, true], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=10, env={"PATH": SAFE_PATH})
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {proc.returncode}"
    return None


def _plan(network: bool) -> _Plan:
    """Find the strongest ``unshare`` combination that works here (cached)."""
    with _plan_lock:
        if network in _plan_cache:
            return _plan_cache[network]
        unshare = shutil.which("unshare", path=SAFE_PATH)
        notes: list[str] = []
        chosen: list[str] = []
        flags: set[str] = set()
        if not sys.platform.startswith("linux") or not unshare:
            notes.append("namespaces: NOT available (no unshare on this platform)")
        else:
            user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
            net = [] if network else ["--net"]
            pid = ["--pid", "--fork", "--kill-child"]
            candidates = [
                user + net + pid + ["--mount-proc"],
                user + net + pid,
                user + net,
                user + pid,
            ]
            errors = []
            for cand in candidates:
                if not cand or cand == user:
                    continue
                error = _probe_unshare([unshare, *cand])
                if error is None:
                    chosen = [unshare, *cand]
                    flags = set(cand)
                    break
                errors.append(f"{' '.join(cand)}: {error}")
            if not chosen:
                notes.append("namespaces: NOT available (unshare failed: " + "; ".join(errors)[:300] + ")")
        plan = _Plan(unshare_args=chosen, notes=notes, net_isolated="--net" in flags,
                     pid_ns="--pid" in flags, mount_ns="--mount-proc" in flags,
                     in_user_ns="--user" in flags)
        if network:
            plan.notes.append("network: allowed (limits.network=True)")
        elif plan.net_isolated:
            plan.notes.append("network: new namespace (only a down loopback; no network)")
        else:
            plan.notes.append("network: NOT isolated (unshare --net is not available here)")
        plan.notes.append("processes: new PID namespace, killed as a whole" if plan.pid_ns else
                          "processes: no PID namespace (only the process group is killed)")
        if not plan.mount_ns:
            plan.notes.append("filesystem: NO mount namespace: /tmp, /run/lock, /dev/shm, the home and the user's "
                              "folders are shared with the host (only the privilege drop, if any, protects them)")
        _plan_cache[network] = plan
        return plan


def _count_user_processes(uid: int) -> int:
    """How many processes the uid has now (RLIMIT_NPROC counts all of them)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def _drop_target() -> tuple[int, int, str] | None:
    """Root drops to ``nobody`` inside the harness; everyone else stays who they are."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid, "nobody"


class _Cgroups:
    """Per-run cgroup v1/v2 directories (pids, memory) below our own; removed afterwards."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.dirs: list[Path] = []
        self.notes: list[str] = []
        self.memory_dir: Path | None = None
        name = "sandbox-" + secrets.token_hex(6)
        own = self._own_paths()
        wanted = {
            "pids": {"pids.max": str(limits.max_processes)},
            "memory": {"memory.limit_in_bytes": str(2 * limits.memory_mb * 1024 * 1024)},
        }
        for controller, settings in wanted.items():
            base = Path("/sys/fs/cgroup") / controller
            rel = own.get(controller)
            if rel is None or not base.is_dir():
                self.notes.append(f"{controller} cgroup: not available")
                continue
            path = base / rel.lstrip("/") / name
            try:
                path.mkdir()
            except OSError as exc:
                self.notes.append(f"{controller} cgroup: NOT created ({exc.strerror})")
                continue
            self.dirs.append(path)
            try:
                for key, value in settings.items():
                    (path / key).write_text(value)
                if controller == "pids":
                    self.notes.append(f"processes: pids cgroup, at most {limits.max_processes}")
                else:
                    self.memory_dir = path
                    self.notes.append(f"memory: cgroup ceiling {2 * limits.memory_mb} MiB for all processes")
            except OSError as exc:
                self.notes.append(f"{controller} cgroup: limit NOT set ({exc.strerror})")

    @staticmethod
    def _own_paths() -> dict[str, str]:
        paths: dict[str, str] = {}
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _, controllers, rel = line.split(":", 2)
                for c in controllers.split(","):
                    if c:
                        paths[c] = rel
        except (OSError, ValueError):
            pass
        return paths

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
        return found

    def memory_exceeded(self) -> bool:
        if self.memory_dir is None:
            return False
        try:
            return int((self.memory_dir / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def kill_and_remove(self) -> None:
        """SIGKILL every member until the cgroups are empty, then remove them."""
        for _ in range(200):
            members = self.pids()
            if not members:
                break
            for pid in members:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


# --------------------------------------------------------------------------- the run

def _scrubbed_env(workdir: str) -> dict[str, str]:
    """A fresh environment: nothing from ours (API keys, cloud credentials, tokens)."""
    bindir = os.path.dirname(sys.executable)
    return {
        "PATH": f"{bindir}:{SAFE_PATH}",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": workdir,
        "TMPDIR": workdir,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONSAFEPATH": "1",
    }


def _scratch_base(plan: _Plan, cgroups: _Cgroups) -> str | None:
    """Where the run's folder goes: /dev/shm when the memory cgroup bounds what the tests write there.

    On tmpfs, creating and removing the folder costs a fraction of a millisecond; on this
    machine's /tmp (ext4, mounted with discard) removing it took 2 to 9 ms per run.
    """
    shm = "/dev/shm"
    if plan.mount_ns and cgroups.memory_dir is not None and os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return None


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
_harness_cache: dict[str, bytes] = {}


def _harness_files() -> dict[str, bytes]:
    """The harness as the sandbox gets it: a stub script, its modules and their compiled forms.

    Compiled once per process, as unchecked-hash .pyc files: compiling the harness's 1,500
    lines again in every run took longer than the rest of its start-up. An interpreter of
    another version ignores them (another cache tag) and compiles the sources.
    """
    with _plan_lock:
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


def _rlimits(limits: SandboxLimits, drop: tuple[int, int, str] | None, isolation: list[str]) -> dict:
    """The rlimits the harness sets on itself; RLIMIT_NPROC relative to the user's processes now."""
    nproc: int | None = None
    if drop:
        nproc = _count_user_processes(drop[0]) + limits.max_processes
    elif os.geteuid() != 0:
        nproc = _count_user_processes(os.geteuid()) + limits.max_processes
    else:
        isolation.append("processes: RLIMIT_NPROC does not bind root")
    rlimits = {
        "AS": limits.memory_mb * 1024 * 1024,
        "CPU": limits.effective_cpu_seconds,
        "FSIZE": limits.max_file_mb * 1024 * 1024,
        "NPROC": nproc,
        "CORE": 0,
    }
    isolation.append(f"rlimits: AS {limits.memory_mb} MiB, CPU {rlimits['CPU']} s, "
                     f"FSIZE {limits.max_file_mb} MiB, NPROC {nproc if nproc is not None else '-'}, CORE 0")
    return rlimits


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
    plan = _plan(limits.network)
    drop = _drop_target()
    isolation = list(plan.notes)
    cgroups = _Cgroups(limits)
    isolation += cgroups.notes
    try:
        top, workdir = _prepare_dir(files, (drop[0], drop[1]) if drop else None, _scratch_base(plan, cgroups))
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
            prepared: tuple[_Plan, tuple[int, int, str] | None, _Cgroups, str, str], isolation: list[str],
            start: float, extra: dict, events: list[dict] | None,
            expected: list[str] | None = None) -> SandboxResult:
    """Start the prepared sandbox, pump its output, clean up, and read its verdict."""
    plan, drop, cgroups, top, workdir = prepared
    rlimits = _rlimits(limits, drop, isolation)
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
                                    cwd=workdir, env=_scrubbed_env(workdir), start_new_session=True)
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


def _clean_up(proc: subprocess.Popen | None, cgroups: _Cgroups, plan: _Plan, top: str) -> bool:
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


# --------------------------------------------------------------------------- dependencies

# Variables pip must not see: keys, tokens and cloud credentials (its own PIP_* settings stay).
_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|^GOOGLE_|^AWS_|^OPENAI_", re.IGNORECASE)

# Import names whose distribution is called something else (the common cases).
DISTRIBUTION_NAMES = {"yaml": "PyYAML", "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "Pillow",
                      "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "attr": "attrs"}  # fmt: skip


def make_dependency_venv(folder: Path) -> Path:
    """A new virtual environment (never the user's) for packages the generated code needs; its python."""
    proc = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise OSError(f"could not create a virtual environment in {folder}: {proc.stderr.strip()[-300:]}")
    folder.chmod(0o755)  # the sandbox may run the tests as an unprivileged user
    return folder / "bin" / "python"


def install_package(python: Path, import_name: str, timeout: float = 300.0) -> tuple[bool, str]:
    """pip-install the distribution for `import_name` into the environment of `python`.

    Wheels only (``--only-binary :all:``): installing a wheel runs none of the package's code,
    so nothing untrusted runs outside the sandbox. Our pip does the work (``--target`` the
    environment's site-packages), so the new environment needs no pip of its own.
    """
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if site.returncode != 0:
        return False, site.stderr.strip()[-300:]
    distribution = DISTRIBUTION_NAMES.get(import_name, import_name)
    env = {k: v for k, v in os.environ.items() if not _SECRET.search(k)}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
         "--only-binary", ":all:", "--target", site.stdout.strip(), distribution],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env,
    )
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()[-500:]


# --------------------------------------------------------------------------- measurement

def run_plain(script: Path, timeout: float = 60.0) -> tuple[int, float]:
    """``python test_x.py`` in the script's folder, with no sandbox: exit code and seconds.

    Only to measure the sandbox's overhead on trusted files (benchmarks/sandbox_overhead.py);
    generated code always goes through run_tests.
    """
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, script.name], cwd=script.parent, capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return proc.returncode, time.perf_counter() - started


# --------------------------------------------------------------------------- static analysis

def run_mypy(module_source: str, module_name: str, timeout: float = 120.0) -> tuple[int, str]:
    """mypy's exit code and report for one module, checked alone in a private temporary directory.

    mypy reads the code and never runs it, so this needs no sandbox; it still gets a scrubbed
    environment, a time limit, and no cache shared between runs (the code is someone else's).
    """
    _check_identifier(module_name, "module_name")
    with tempfile.TemporaryDirectory(prefix="create-script-mypy-") as folder:
        path = Path(folder) / f"{module_name}.py"
        path.write_text(module_source, encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--no-error-summary", "--no-color-output", "--hide-error-context",
             "--show-error-codes", "--ignore-missing-imports", "--follow-imports=silent",
             "--check-untyped-defs", "--cache-dir", str(Path(folder) / ".mypy_cache"), path.name],
            cwd=folder, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            env=_scrubbed_env(folder),
        )
    return proc.returncode, proc.stdout + proc.stderr
