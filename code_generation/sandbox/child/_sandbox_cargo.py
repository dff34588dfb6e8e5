"""The sandbox's cargo mode: builds a throw-away cargo package and runs its tests, one process each.

runner.py starts it exactly as it starts the Python harness (same namespaces, cgroups, rlimits,
private root, signed report; see cargo_runner.py for what goes in). The difference: the code
under test never runs in this process. Here, inside the sandbox and before anything untrusted
runs, the harness finishes the set-up (cgroups, private root with the toolchain and the crate
source read-only, rlimits) but keeps its own privileges; every process it starts (cargo, rustc,
build scripts, procedural macros, the test binary) runs as ``nobody``. Having changed
credentials on the way in, this process is not dumpable: they cannot read its memory (the
report's key) or trace it, and its results pipe is not inherited.

The completion proof. libtest's output and exit code are written by the process that runs the
untrusted code, so neither says a test passed. Each ``#[test]`` function of the test file is
wrapped (rust/package.py): the wrapper first reads a nonce from a pipe and so empties it, then
calls the test, then writes ``<nonce> returned`` (or ``panicked``) to a second pipe. Each test
runs alone in a process of its own (``--exact``), with a fresh nonce handed over after the build
(build scripts and procedural macros never see one). A test passes only when its process exits 0
and the proof pipe holds exactly the line its wrapper writes for a test of its kind. So a fake
``test result: ok``, ``std::process::exit(0)`` inside the test, ``abort`` and signals, and a
child process all fail it: the code under test runs only after the nonce was taken, and the
module is compiled with ``unsafe_code`` forbidden (no code before ``main``, no raw file
descriptors). Anything else on the proof pipe is tampering. Between tests, and after the build,
every process left in the PID namespace is killed, and after the build the shared build folder
is made read-only, so one test (or attempt) cannot prepare the next. What is not defended is
described in docs/rust.md (the sandbox for cargo).

Standard library only (see _sandbox_harness.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)
import _sandbox_harness as harness  # noqa: E402
import _sandbox_init as sandbox_init  # noqa: E402
import _sandbox_root as sandbox_root  # noqa: E402

PROOF_ENV = "CREATE_SCRIPT_PROOF_FDS"
PRIVATE = "/.harness"  # root's own folder in the private root: the processes' output goes there
OUTPUT_CAP = 64 * 1024  # bytes of a test's output kept for its message
MAX_DIAGNOSTICS = 12
MAX_NOTES = 6  # of one diagnostic
MAX_FIX_PARTS = 16  # of one note: a multi-part fix (a lifetime on every reference) is kept whole or marked cut
LIST_SECONDS = 30.0
PANIC_LINE = re.compile(r"thread '([^']*)' \(\d+\) panicked")

_channel: sandbox_init.Channel | None = None
_budget = 2000


def emit(event: dict) -> None:
    if _channel is not None:
        _channel.send(event)


class Runner:
    """Starts the untrusted processes as the sandbox's user, with outputs to root-only files."""

    def __init__(self, cfg: dict) -> None:
        cargo = cfg["cargo"]
        self.cfg = cargo
        self.private = PRIVATE
        if not os.path.isfile(os.path.join(cargo["package_at"], "Cargo.toml")):  # no private root here
            cargo.update(package_at=cfg["workdir"], cache_at=cargo["cache_host"],
                         cargo_home=os.path.join(cargo["cache_host"], "home"),
                         target_dir=os.path.join(cargo["cache_host"], "target"))
            self.private = os.path.join(os.path.dirname(cfg["workdir"]), "harness-output")
        self.package = cargo["package_at"]
        self.drop = cfg.get("drop_to")
        self.pid_ns = bool(cfg.get("pid_ns"))
        self.env = {
            "PATH": f"{cargo['toolchain']}/bin:/usr/local/bin:/usr/bin:/bin",
            "HOME": self.package, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "CARGO_HOME": cargo["cargo_home"], "CARGO_TARGET_DIR": cargo["target_dir"],
            "RUSTC": cargo["rustc"], "CARGO_NET_OFFLINE": "true", "CARGO_TERM_COLOR": "never",
            "CARGO_BUILD_JOBS": str(cargo.get("jobs") or 2), "RUST_BACKTRACE": "0",
        }
        os.makedirs(self.private, 0o700, exist_ok=True)

    def start(self, argv: list[str], output: str, env: dict | None = None, pass_fds: tuple = (),
              stderr: str | None = None) -> subprocess.Popen:
        user = {"user": self.drop[0], "group": self.drop[1], "extra_groups": []} if self.drop else {}
        with open(os.path.join(self.private, output), "wb") as out:
            err = open(os.path.join(self.private, stderr), "wb") if stderr else subprocess.STDOUT
            try:
                return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=self.package,
                                        env={**self.env, **(env or {})}, pass_fds=pass_fds,
                                        start_new_session=True, **user)
            finally:
                if stderr:
                    err.close()  # type: ignore[union-attr]

    def wait(self, proc: subprocess.Popen, seconds: float) -> bool:
        """Wait for the process; False (and everything killed) when time ran out."""
        try:
            proc.wait(timeout=max(0.0, seconds))
            return True
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False
        finally:
            self.kill_strays()

    def kill_strays(self) -> None:
        """Kill every process of the namespace but the init and this one (what a test left running)."""
        if not self.pid_ns:
            return
        me = os.getpid()
        for _ in range(400):
            alive = []
            for entry in os.listdir("/proc"):
                if entry.isdigit() and int(entry) not in (1, me) and not _zombie(entry):
                    alive.append(int(entry))
            if not alive:
                return
            for pid in alive:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def read(self, name: str, cap: int = OUTPUT_CAP) -> str:
        """The end of a process's output (the start when it is short)."""
        path = os.path.join(self.private, name)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > cap:
                    fh.seek(size - cap)
                data = fh.read(cap)
        except OSError:
            return ""
        return data.decode("utf-8", errors="replace")


def _zombie(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True  # gone


# --------------------------------------------------------------------------- the build

def _span(span: dict) -> dict:
    text = span.get("text") or [{}]
    return {"file": span.get("file_name", ""), "line": span.get("line_start", 0),
            "column": span.get("column_start", 0), "label": span.get("label") or "",
            "source": str(text[0].get("text", ""))[:300], "replacement": span.get("suggested_replacement"),
            "line_end": span.get("line_end", 0), "column_end": span.get("column_end", 0),
            "applicability": span.get("suggestion_applicability") or ""}


def note(child: dict) -> dict:
    """One note of a compiler message with its suggested fixes: every part of them, or the first
    ones marked ``cut`` when there are too many (a fix made in part is a wrong fix: rust/fixes.py
    skips a cut note; the feedback still shows what it has)."""
    fixes = [_span(s) for s in child.get("spans") or [] if s.get("suggested_replacement") is not None]
    return {"level": child.get("level", ""), "message": harness.trim(str(child.get("message", "")), 400),
            "fixes": fixes[:MAX_FIX_PARTS], "cut": len(fixes) > MAX_FIX_PARTS}


def diagnostic(message: dict) -> dict:
    """A compiler message as the tool wants it: code, message, primary span, notes and suggested fixes."""
    spans = message.get("spans") or []
    primary = next((s for s in spans if s.get("is_primary")), spans[0] if spans else None)
    children = [note(child) for child in (message.get("children") or [])[:MAX_NOTES]]
    code = message.get("code") or {}
    return {"event": "diagnostic", "level": message.get("level", ""), "code": code.get("code") or "",
            "message": harness.trim(str(message.get("message", "")), 500),
            "span": _span(primary) if primary else None, "children": children,
            "rendered": harness.trim(str(message.get("rendered") or ""), _budget)}


def read_build(stdout: str, target: str) -> tuple[str | None, list[dict]]:
    """The test executable cargo built for `target`, and the error diagnostics, from its JSON lines."""
    executable, found, seen = None, [], set()
    for line in stdout.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        if data.get("reason") == "compiler-artifact" and (data.get("profile") or {}).get("test"):
            if (data.get("target") or {}).get("name") == target and data.get("executable"):
                executable = str(data["executable"])
        elif data.get("reason") == "compiler-message":
            message = data.get("message") or {}
            rendered = message.get("rendered")
            if message.get("level") in {"error", "error: internal compiler error"} and rendered not in seen:
                seen.add(rendered)
                found.append(diagnostic(message))
    return executable, found


def cargo_errors(stderr: str) -> str:
    """cargo's own errors (a crate it cannot resolve, a bad manifest): its ``error:`` paragraphs."""
    keep, taking = [], False
    for line in stderr.splitlines():
        if line.startswith("error"):
            taking = True
        elif line.startswith(("warning", "   Compiling", "    Finished", "    Blocking", "    Locking")):
            taking = False
        if taking and not line.startswith("error: could not compile"):
            keep.append(line)
    return "\n".join(keep).strip()


def build(runner: Runner, deadline: float) -> str | None:
    """``cargo test --no-run``; the test executable, or None after reporting why there is none."""
    cfg = runner.cfg
    argv = [cfg["cargo"], *cfg["config_args"], "test", "--no-run", "--offline", "--message-format=json",
            *cfg["target_args"], "--manifest-path", os.path.join(runner.package, "Cargo.toml")]
    proc = runner.start(argv, "build.json", stderr="build.err")
    if not runner.wait(proc, deadline - time.monotonic()):
        emit({"event": "timeout", "message": f"the build did not finish in {cfg['build_timeout']:g} s"})
        harness._finish(0)
    executable, diagnostics = read_build(runner.read("build.json", 8_000_000), cfg["test_target"])
    for found in diagnostics[:MAX_DIAGNOSTICS]:
        emit(found)
    if proc.returncode == 0 and executable:
        return executable
    errors = cargo_errors(runner.read("build.err"))
    first = diagnostics[0]["rendered"] if diagnostics else ""
    message = first or errors or f"cargo ended with exit code {proc.returncode} and no test executable"
    emit({"event": "build_failed", "message": harness.trim(message, _budget), "cargo": harness.trim(errors, _budget),
          "errors": len(diagnostics)})
    harness._finish(0)
    return None


# --------------------------------------------------------------------------- the tests

def listed_tests(runner: Runner, executable: str, ignored: bool = False) -> set[str] | None:
    """The names the test binary says it holds (``--list`` runs no test); with `ignored`, those
    libtest ignores (``#[ignore]``, or a ``cfg_attr`` that compiled to it)."""
    proc = runner.start([executable, "--list", "--format", "terse", *(["--ignored"] if ignored else [])], "list.out")
    if not runner.wait(proc, LIST_SECONDS) or proc.returncode != 0:
        return None
    return {line[: -len(": test")] for line in runner.read("list.out").splitlines() if line.endswith(": test")}


def failure_text(output: str, name: str) -> str:
    """What libtest printed for the failing test: its captured output and the panic message."""
    marker = f"---- {name} stdout ----\n"
    at = output.find(marker)
    text = output[at + len(marker):] if at >= 0 else output
    end = text.find("\n\nfailures:")
    text = text[:end] if end >= 0 else text
    text = PANIC_LINE.sub(r"thread '\1' panicked", text)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("note: run with `RUST_BACKTRACE"))
    return harness.trim(text.strip(), _budget)


def judge(test: dict, code: int | None, proof: str, nonce: str, output: str) -> tuple[str, str]:
    """(outcome, message) of one test process from its exit and its proof line."""
    wanted = "panicked" if test.get("should_panic") else "returned"
    lines = proof.splitlines()
    kinds = [line.split(" ", 1)[1] for line in lines if line in (f"{nonce} returned", f"{nonce} panicked")]
    if len(kinds) != len(lines) or len(kinds) > 1:
        raise Tampered(f"something other than the wrapper of {test['name']} wrote to its proof channel")
    name = test["name"]
    if code == 0 and kinds == [wanted]:
        return "passed", ""
    if code == 0:
        return "error", (f"the test process of {name} exited with code 0 before the test returned: the code "
                         "ended the process (std::process::exit?) instead of returning, so the test did not pass")
    if code is not None and code < 0:
        sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        how = " (std::process::abort, a failed allocation or a panic while panicking)" if sig == "SIGABRT" else ""
        return "error", f"the test process of {name} was killed by {sig}{how}\n{failure_text(output, name)}".strip()
    message = failure_text(output, name)
    if code == 101:  # libtest's "failed": an assertion (or a should_panic test that did not) is a failure
        failed = re.search(r"assertion|did not panic|panic did not contain expected string", message)
        return ("failed" if failed else "error"), message
    return "error", f"the test process of {name} ended with exit code {code}\n{message}".strip()


class Tampered(Exception):
    pass


def run_test(runner: Runner, executable: str, test: dict, deadline: float) -> tuple[str, str]:
    """One test in a process of its own, with a fresh nonce; its outcome and message."""
    nonce = secrets.token_hex(16)
    nonce_read, nonce_write = os.pipe()
    proof_read, proof_write = os.pipe()
    try:
        if runner.drop:  # the test re-opens the pipes through /proc: they must be its user's
            for fd in (nonce_read, proof_read):
                os.fchown(fd, runner.drop[0], runner.drop[1])
        os.write(nonce_write, nonce.encode())
        os.close(nonce_write)
        nonce_write = -1
        proc = runner.start([executable, "--exact", test["name"], "--test-threads=1"], "test.out",
                            env={PROOF_ENV: f"{nonce_read},{proof_write}"}, pass_fds=(nonce_read, proof_write))
        os.close(nonce_read)
        os.close(proof_write)
        nonce_read = proof_write = -1
        if not runner.wait(proc, deadline - time.monotonic()):
            emit({"event": "timeout", "message": f"timed out after {runner.cfg['test_timeout']:g} s "
                                                 f"while running {test['name']}"})
            harness._finish(0)
        os.set_blocking(proof_read, False)
        try:
            proof = os.read(proof_read, 4096).decode("utf-8", errors="replace")
        except BlockingIOError:
            proof = ""
        return judge(test, proc.returncode, proof, nonce, runner.read("test.out"))
    finally:
        for fd in (nonce_read, nonce_write, proof_read, proof_write):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


def to_run(tests: list[dict], listed: set[str] | None, ignored: set[str]) -> list[dict]:
    """The tests to run and report, as ``cargo test`` runs them: not an ignored one (``#[ignore]``, or
    one under a cfg that libtest lists as ignored), nor one under a cfg that the build left out."""
    def runs(test: dict) -> bool:
        conditional = bool(test.get("conditional"))
        if test.get("ignored") or (conditional and test["name"] in ignored):
            return False
        return listed is None or test["name"] in listed or not conditional

    return [t for t in tests if runs(t)]


def run_tests(runner: Runner, executable: str, secret: dict) -> None:
    """Every test of the test file, each reported as it finishes; then "done"."""
    cfg = runner.cfg
    listed = listed_tests(runner, executable)
    tests = to_run(cfg["tests"], listed, listed_tests(runner, executable, ignored=True) or set())
    emit({"event": "collected", "count": len(tests)})
    deadline = time.monotonic() + float(cfg["test_timeout"])
    count = 0
    for test in tests:
        emit({"event": "start", "name": test["name"]})
        if listed is not None and test["name"] not in listed:
            outcome, message = "error", f"{test['name']} is not among the tests the compiled test file holds"
        else:
            try:
                outcome, message = run_test(runner, executable, test, deadline)
            except Tampered as exc:
                emit({"event": "tampered", "reason": str(exc)})
                harness._finish(harness.TAMPERED_EXIT)
        count += 1
        emit({"event": "case", "name": test["name"], "outcome": outcome, "message": message})
    emit({"event": "done", "count": count, "collected": len(tests), "proof": " ".join(secret["nonces"])})


# --------------------------------------------------------------------------- set-up and entry

def _limit(name: str, value: int | None) -> None:
    if value is not None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value + 1 if name == "CPU" else value))


def main(cfg: dict, secret: dict, cgroups: Callable[[], list[str]]) -> None:
    global _budget
    _budget = int(cfg.get("message_budget", 2000))
    cargo = cfg["cargo"]
    cfg["workdir"] = os.path.realpath(cfg["workdir"])
    binds = [*cfg.get("binds", ()), [cfg["workdir"], cargo["package_at"], True]]
    notes = harness.setup({**cfg, "binds": binds, "drop_to": None}, cgroups)  # the harness keeps its privileges
    if cfg.get("drop_to"):
        notes.append(f"user: cargo, rustc, build scripts and the tests run as {cfg['drop_to'][2]} "
                     f"(uid {cfg['drop_to'][0]}); the harness that judges them does not run their code")
    else:
        notes.append("user: NO privilege drop: the tests run as the harness's own user")
    notes.append(f"cargo: {cargo.get('version') or 'the toolchain'}, offline; the package and the run's shared "
                 f"build folder are writable while cargo builds "
                 f"(at most {cargo['build_timeout']:g} s); then the build folder is read-only and each test runs "
                 f"alone within {cargo['test_timeout']:g} s in all, CPU {cargo['test_cpu']} s, "
                 f"FSIZE {cargo['test_fsize'] // (1024 * 1024)} MiB per process")
    emit({"event": "setup", "notes": notes, "uid": os.getuid()})
    runner = Runner(cfg)
    executable = build(runner, time.monotonic() + float(cargo["build_timeout"]))
    assert executable is not None
    runner.kill_strays()  # nothing of the build (a build script's child) may see a nonce
    try:
        sandbox_root.read_only([cargo["cache_at"]])
    except OSError as exc:  # no private root: say so (the last "setup" event is the one kept)
        notes.append(f"cargo: the shared build folder could NOT be made read-only for the tests ({exc})")
        emit({"event": "setup", "notes": notes, "uid": os.getuid()})
    _limit("CPU", cargo.get("test_cpu"))
    _limit("FSIZE", cargo.get("test_fsize"))
    run_tests(runner, executable, secret)
    harness._finish(int(secret["exit_ok"]))


def entry(cfg: dict, secret: dict, channel: sandbox_init.Channel, cgroups: Callable[[], list[str]]) -> None:
    """Called by _sandbox_init.start() in the harness's own process, with the run's channel."""
    global _channel
    _channel = channel
    harness._channel = channel
    try:
        main(cfg, secret, cgroups)
    except BaseException as exc:  # noqa: BLE001 - report harness bugs instead of dying silently
        emit({"event": "harness_error", "message": "".join(traceback.format_exception(exc))[-4000:]})
        harness._finish(harness.HARNESS_ERROR_EXIT)
