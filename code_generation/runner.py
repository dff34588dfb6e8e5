"""The sandbox: runs a user's tests against generated (untrusted) code, returns a structured result.

This is the only module of the project that starts processes. Generated code never runs in
our interpreter: a fresh Python runs ``_sandbox_harness.py`` in a private temporary directory
holding copies of the module and the test file. Around it, as far as the platform allows:

* a new session (the wall-clock timeout kills the whole process group), stdin from /dev/null,
  output read incrementally and capped, a scrubbed environment;
* ``unshare``: a new network namespace (no network), a PID namespace (killing its first
  process kills everything in it) and a mount namespace (private /tmp, the parent's home
  hidden);
* cgroups (v1 here): ``pids.max`` against fork bombs, a memory ceiling for all processes;
* rlimits (AS, CPU, FSIZE, NPROC, CORE=0) and, when we are root, a drop to ``nobody``;
  both are applied by the harness itself before any untrusted code is imported, so that no
  ``preexec_fn`` runs in our (possibly multi-threaded) process.

What applied and what could not is listed in ``SandboxResult.isolation``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import pwd
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
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CaseResult", "SandboxLimits", "SandboxResult", "run_doctests", "run_mypy", "run_tests"]

HARNESS = Path(__file__).with_name("_sandbox_harness.py")
MESSAGE_BUDGET = 2000  # characters per test case message
RESULTS_CAP = 8_000_000  # bytes of JSON events we are prepared to read
EXIT_GRACE = 1.0  # seconds to wait for pipes after the child exited or reported "done"
CPU_LIMIT_EXIT = 152  # keep in sync with _sandbox_harness.CPU_LIMIT_EXIT
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


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

    @property
    def effective_cpu_seconds(self) -> int:
        """CPU limit a little above the wall clock one, so the wall clock normally wins."""
        if self.cpu_seconds is not None:
            return max(1, int(self.cpu_seconds))
        return max(1, math.ceil(self.timeout)) + 2


@dataclass
class CaseResult:
    """One test: ``name`` is "TestClass.test_method" or "test_function"."""

    name: str
    outcome: str  # "passed" | "failed" | "error" | "skipped"
    message: str  # assertion message or trimmed traceback; "" when passed


@dataclass
class SandboxResult:
    """What happened in the sandbox; ``status`` says whether the run itself completed."""

    status: str  # "ok" | "timeout" | "crashed" | "import_error" | "no_tests"
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


# --------------------------------------------------------------------------- public API

def run_tests(module_source: str, module_name: str, test_source: str, test_filename: str,
              limits: SandboxLimits | None = None,
              extra_files: dict[str, str] | None = None) -> SandboxResult:
    """Run a unittest (or plain pytest-style) test file against a module, in the sandbox.

    ``module_name`` is the import name (written as ``<module_name>.py``); ``test_filename``
    e.g. ``test_prime_numbers.py``; ``extra_files`` maps relative paths to contents (data
    files, helper modules) written beside them.
    """
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
    return _run_sandbox("unittest", files, module_name, test_filename, limits or SandboxLimits())


def run_doctests(module_source: str, module_name: str,
                 limits: SandboxLimits | None = None) -> SandboxResult:
    """Run the module's doctests (stdlib doctest); each docstring is reported as one case."""
    _check_identifier(module_name, "module_name")
    files = {f"{module_name}.py": module_source}
    return _run_sandbox("doctest", files, module_name, None, limits or SandboxLimits())


def _check_identifier(name: str, what: str) -> None:
    if not name.isidentifier() or name == "_sandbox_harness":
        raise ValueError(f"{what} must be a Python identifier, not {name!r}")


def _check_relative(rel: str) -> str:
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts:
        raise ValueError(f"extra file paths must be relative and stay inside the sandbox: {rel!r}")
    return rel


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
            plan.notes.append("filesystem: no mount namespace (/tmp and the home are shared)")
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


def _prepare_dir(files: dict[str, str], owner: tuple[int, int] | None) -> tuple[str, str]:
    """Top dir (ours: harness, config) and the work dir inside it (theirs: code, tests)."""
    top = tempfile.mkdtemp(prefix="sandbox-")
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
    shutil.copyfile(HARNESS, os.path.join(top, "harness.py"))
    return top, workdir


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
    """Read all pipes until they close, the child is gone, or the deadline; True on timeout."""
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
                else:
                    sel.unregister(key.fd)
        # All pipes closed: the child is exiting; wait for it within the deadline.
        while proc.poll() is None:
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.01)
        return False
    finally:
        sel.close()


def _run_sandbox(mode: str, files: dict[str, str], module_name: str, test_filename: str | None,
                 limits: SandboxLimits) -> SandboxResult:
    start = time.monotonic()
    plan = _plan(limits.network)
    drop = _drop_target()
    isolation = list(plan.notes)
    owner = (drop[0], drop[1]) if drop else None
    top, workdir = _prepare_dir(files, owner)
    cgroups = _Cgroups(limits)
    isolation += cgroups.notes
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
    isolation.append("environment: scrubbed (only PATH, LANG, HOME/TMPDIR=sandbox, PYTHON* settings)")
    read_fd, write_fd = os.pipe()
    # The child's init watches the read end of this pipe: EOF means we died, so it exits.
    life_read, life_write = os.pipe()
    config = {
        "mode": mode,
        "workdir": workdir,
        "module_name": module_name,
        "test_filename": test_filename,
        "extra_modules": [Path(p).stem for p in files if p.endswith(".py") and "/" not in p],
        "results_fd": write_fd,
        "lifeline_fd": life_read,
        "rlimits": rlimits,
        "drop_to": list(drop) if drop else None,
        "cgroups": cgroups.procs_files,
        "private_mounts": plan.mount_ns,
        "hide": sorted({str(Path.home()), os.environ.get("HOME", "")} - {"", "/"}),
        "max_file_mb": limits.max_file_mb,
        "message_budget": MESSAGE_BUDGET,
    }
    config_path = os.path.join(top, "config.json")
    with open(config_path, "w") as fh:
        json.dump(config, fh)
    # Not -I: it implies -E, which would drop PYTHONHASHSEED=0 (set order must not change
    # between attempts). -s -P plus our own complete environment give the same isolation.
    python = limits.python or sys.executable
    argv = [*plan.unshare_args, python, "-s", "-P", os.path.join(top, "harness.py"), config_path]
    out, err, res = _Capped(limits.max_output_bytes), _Capped(limits.max_output_bytes), _Capped(RESULTS_CAP)
    proc: subprocess.Popen | None = None
    timed_out = False
    try:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, pass_fds=(write_fd, life_read), cwd=workdir,
                                    env=_scrubbed_env(workdir), start_new_session=True)
        except OSError as exc:
            return SandboxResult(status="crashed", isolation=isolation, duration=time.monotonic() - start,
                                 message=f"could not start the sandbox: {exc}")
        finally:
            os.close(write_fd)
            os.close(life_read)
        timed_out = _pump(proc, read_fd, limits, out, err, res)
    finally:
        os.close(read_fd)
        os.close(life_write)
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
    result = _interpret(res.data, proc.returncode, timed_out, limits, test_filename or f"{module_name}.py")
    result.stdout, result.stderr = out.text(workdir), err.text(workdir)
    result.duration = time.monotonic() - start
    result.isolation = isolation + result.isolation
    if memory_hit and result.status != "ok":
        result.message += " (the sandbox reached its memory limit)"
    return result


# --------------------------------------------------------------------------- results

def _signal_name(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _interpret(raw: bytes | bytearray, exit_code: int | None, timed_out: bool, limits: SandboxLimits,
               target: str) -> SandboxResult:
    """Turn the harness's JSON events into a SandboxResult."""
    events: list[dict] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    result = SandboxResult(status="crashed", exit_code=exit_code)
    running: str | None = None
    kinds: dict[str, dict] = {}
    for event in events:
        kind = event.get("event")
        kinds[str(kind)] = event
        if kind == "child_exit":  # the harness below its PID-namespace init
            sig = event.get("signal")
            exit_code = -int(sig) if sig else int(event.get("code") or 0)
            result.exit_code = exit_code
        elif kind == "setup":
            result.isolation = [str(n) for n in event.get("notes", [])]
        elif kind == "start":
            running = str(event.get("name"))
        elif kind == "case":
            outcome = str(event.get("outcome"))
            result.cases.append(CaseResult(str(event.get("name")), outcome, str(event.get("message", ""))))
            running = None
    for case in result.cases:
        if case.outcome == "passed":
            result.passed += 1
        elif case.outcome == "failed":
            result.failed += 1
        elif case.outcome == "skipped":
            result.skipped += 1
        else:
            result.errors += 1
    result.tests_run = len(result.cases)
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
    elif timed_out:
        result.status = "timeout"
        result.message = f"timed out after {limits.timeout:g} s {where}"
    elif "cpu_limit" in kinds or exit_code in (CPU_LIMIT_EXIT, -signal.SIGXCPU):
        result.status = "timeout"
        result.message = f"CPU time limit ({limits.effective_cpu_seconds} s) exceeded {where}"
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
    return result


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
