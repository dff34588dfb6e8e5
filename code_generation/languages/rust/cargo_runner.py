"""The sandbox for Rust: runs a test file against a generated ``src/lib.rs`` with cargo.

Besides runner.py, this is the only module that starts processes, and only these: it asks the
Rust toolchain where it lives (``rustc --print sysroot``, trusted, outside the sandbox), and it
hands each attempt to runner.py's sandbox in the harness's "cargo" mode (_sandbox_cargo.py),
which builds a throw-away package and runs each test in its own process. Every limit and
isolation of the Python tests applies (time, memory, processes, no network, no secrets, a
private root, a signed report); the build gets its own time budget (a first build of a
dependency takes a while) and larger files (an executable with its dependencies), the tests the
Python tests' limits.

Compiled dependencies are kept for the attempts of one run in a shared build folder
(`CargoSandbox`), so an attempt costs about one incremental build; the folder is writable only
while cargo builds and read-only while tests run.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from code_generation.languages.base import TestFileError
from code_generation.languages.rust import crates, package, testfile
from code_generation.languages.rust.diagnostics import CargoResult, Paths, cargo_result
from code_generation.languages.rust.safety import tampering
from code_generation.sandbox.runner import SandboxLimits, run_harness
from code_generation.sandbox.tools import run_tool
from my_llm.errors import MyLLMError

BUILD_TIMEOUT = 300.0  # seconds for one build: the first one compiles the dependencies
BUILD_FILE_MB = 512  # RLIMIT_FSIZE while building: executables and rlibs are bigger than test output
SYSTEM_PREFIXES = ("/usr/", "/bin/", "/lib/", "/lib64/", "/etc/")
INSTALL_HINT = ("install Rust with rustup (https://rustup.rs: `curl --proto '=https' -sSf https://sh.rustup.rs | sh`) "
                "or your package manager (`apt-get install cargo`), then rerun")


class ToolchainError(MyLLMError):
    """cargo or rustc cannot be found or run."""


@dataclass(frozen=True)
class Toolchain:
    """The Rust toolchain the sandbox shows (read-only) and runs."""

    sysroot: Path
    cargo: Path
    rustc: Path
    version: str


def _homes() -> list[Path]:
    """$HOME, and the account's own home when $HOME points elsewhere (rustup keeps its toolchains there)."""
    homes = [Path.home()]
    with contextlib.suppress(KeyError):
        homes.append(Path(pwd.getpwuid(os.getuid()).pw_dir))
    return list(dict.fromkeys(homes))


def _candidates(name: str) -> list[str]:
    found = [shutil.which(name)]
    cargo_home = os.environ.get("CARGO_HOME") or str(Path.home() / ".cargo")  # where rustup's installer puts it
    found.append(str(Path(cargo_home) / "bin" / name))
    return [f for f in found if f and os.access(f, os.X_OK)]


def _rustup_env() -> dict[str, str]:
    """The environment to ask rustup's proxies in: its home where it really is."""
    env = dict(os.environ)
    if "RUSTUP_HOME" not in env:
        env["RUSTUP_HOME"] = str(next((h / ".rustup" for h in _homes() if (h / ".rustup").is_dir()),
                                      Path.home() / ".rustup"))
    return env


@lru_cache(maxsize=1)
def find_toolchain() -> Toolchain:
    """cargo and rustc, resolved past rustup's proxies to the toolchain's own folder; one line if missing."""
    rustcs = _candidates("rustc")
    if not _candidates("cargo") or not rustcs:
        raise ToolchainError(f"cargo was not found (Rust output needs the Rust toolchain): {INSTALL_HINT}")
    try:
        proc = run_tool([rustcs[0], "--print", "sysroot"], timeout=60, env=_rustup_env())
        version = run_tool([rustcs[0], "--version"], timeout=60, env=_rustup_env()).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainError(f"rustc could not be run ({exc}): {INSTALL_HINT}") from exc
    sysroot = Path(proc.stdout.strip())
    if proc.returncode != 0 or not sysroot.is_dir():
        said = next((line for line in proc.stderr.splitlines() if line.strip()), "no answer")
        raise ToolchainError(f"rustc could not say where its toolchain is ({said.strip()[:200]}): {INSTALL_HINT}")
    cargo = sysroot / "bin" / "cargo"
    if not cargo.is_file():
        cargo = Path(os.path.realpath(_candidates("cargo")[0]))
    rustc = sysroot / "bin" / "rustc"
    return Toolchain(sysroot, cargo, rustc if rustc.is_file() else Path(os.path.realpath(rustcs[0])), version)


def _owner() -> tuple[int, int] | None:
    """The sandbox's user (runner.py drops root to nobody): the shared build folder must be theirs."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _visible(path: Path) -> bool:
    """Under the system folders the private root always shows."""
    return str(path).startswith(SYSTEM_PREFIXES)


class CargoSandbox:
    """The sandbox of one run's Rust attempts, with the build folder they share.

    Call it like `runner.run_tests` (module source, crate name, test source, test file name,
    limits). `close` removes the build folder.
    """

    def __init__(self, source: crates.CrateSource | None = None, folder: Path | None = None,
                 build_timeout: float = BUILD_TIMEOUT) -> None:
        self.source = source
        self.build_timeout = build_timeout
        self.own_folder = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="create-script-cargo-")) if folder is None else folder
        self.lock = threading.Lock()  # one build at a time in the shared folder
        for sub in ("target", "home"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        owner = _owner()
        self.folder.chmod(0o755)
        for path in (self.folder / "target", self.folder / "home"):
            if owner is not None:
                os.chown(path, *owner)

    def close(self) -> None:
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> CargoSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, module_source: str, module_name: str, test_source: str, test_filename: str,
                 limits: SandboxLimits | None = None, extra_files: dict[str, str] | None = None) -> CargoResult:
        return run_cargo_tests(module_source, module_name, test_source, test_filename, limits,
                               sandbox=self, extra_files=extra_files)


def _binds(toolchain: Toolchain, source: crates.CrateSource | None, folder: Path) -> list[list[Any]]:
    """Folders the private root shows besides the system's: the toolchain and the crate source
    read-only, the shared build folder writable (the harness adds the work folder as the package)."""
    binds: list[list[Any]] = []
    if not _visible(toolchain.sysroot):
        binds.append([str(toolchain.sysroot), str(toolchain.sysroot), False])
    if source is not None and not _visible(source.path):
        binds.append([str(source.path), str(source.path), False])
    binds.append([str(folder), package.CACHE_ROOT, True])
    return binds


def _config(pkg: package.Package, toolchain: Toolchain, source: crates.CrateSource | None, sandbox: CargoSandbox,
            limits: SandboxLimits) -> dict[str, Any]:
    return {
        "toolchain": str(toolchain.sysroot), "cargo": str(toolchain.cargo), "rustc": str(toolchain.rustc),
        "version": toolchain.version,
        "package_at": package.PACKAGE_ROOT, "cache_at": package.CACHE_ROOT, "cache_host": str(sandbox.folder),
        "cargo_home": f"{package.CACHE_ROOT}/home", "target_dir": f"{package.CACHE_ROOT}/target",
        "config_args": source.config_args() if source is not None else [],
        "target_args": pkg.target_args, "test_target": pkg.test_target, "tests": pkg.tests,
        "build_timeout": sandbox.build_timeout, "test_timeout": limits.timeout,
        "test_cpu": limits.effective_cpu_seconds, "test_fsize": limits.max_file_mb * 1024 * 1024,
        "jobs": min(2, os.cpu_count() or 1),
    }


def run_cargo_tests(module_source: str, crate: str, test_source: str, test_filename: str,
                    limits: SandboxLimits | None = None, *, sandbox: CargoSandbox | None = None,
                    extra_files: dict[str, str] | None = None) -> CargoResult:
    """Build the module as `crate` with the tests and run each test in the sandbox.

    A test file that cannot be read raises TestFileError; a module that does not compile is a
    result with the status ``compile_error`` and the compiler's diagnostics, never an exception.
    """
    limits = limits or SandboxLimits()
    if sandbox is None:
        with CargoSandbox(crates.offline_source()) as own:
            return run_cargo_tests(module_source, crate, test_source, test_filename, limits, sandbox=own,
                                   extra_files=extra_files)
    toolchain = find_toolchain()
    source = sandbox.source
    tests = testfile.analyse(test_source, crate, frozenset(source.crates) if source else frozenset(), test_filename)
    if tests.crate is not None and tests.crate != crate:
        raise TestFileError(f"{test_filename} tests the crate `{tests.crate}`, not `{crate}`")
    deps = crates.dependencies(module_source, test_source, crate, source)
    pkg = package.build_package(module_source, crate, test_source, test_filename, tests, deps.packages, extra_files)
    paths = Paths(pkg.test_path, test_filename, pkg.test_offset)
    if (lie := tampering(module_source)) is not None:
        return CargoResult(status="tampered", message=f"the testing framework or its report was tampered with: {lie}",
                           crates_added=deps.added, crates_missing=deps.missing, crates_unknown=deps.unknown)
    total = limits.timeout + sandbox.build_timeout + 30.0  # the harness stops each phase at its own limit
    outer = replace(limits, timeout=total, cpu_seconds=int(max(total, limits.effective_cpu_seconds)),
                    max_file_mb=max(limits.max_file_mb, BUILD_FILE_MB))
    events: list[dict[str, Any]] = []
    extra = {"cargo": _config(pkg, toolchain, source, sandbox, limits),
             "binds": _binds(toolchain, source, sandbox.folder)}
    with sandbox.lock:
        result = run_harness("cargo", pkg.files, crate, pkg.test_path, outer, extra, events, pkg.expected)
    return cargo_result(result, events, paths, deps.added, deps.missing, deps.unknown)
