"""What this machine offers the sandbox, and how a run is confined: namespaces, cgroups, the
user it drops to, its environment and rlimits. Probed once per process; used by runner.py."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from code_generation.sandbox.tools import SAFE_PATH, run_tool

if TYPE_CHECKING:
    from code_generation.sandbox.limits import SandboxLimits


@dataclass
class Plan:
    """Which mechanisms this machine offers; probed once per process."""

    unshare_args: list[str]
    notes: list[str]
    net_isolated: bool
    pid_ns: bool
    mount_ns: bool
    in_user_ns: bool


plan_cache: dict[bool, Plan] = {}
_plan_lock = threading.Lock()


def _probe_unshare(args: list[str]) -> str | None:
    """None when ``unshare args true`` works, else why not."""
    true = shutil.which("true") or "/bin/true"
    try:
        proc = run_tool([*args, true], timeout=10, env={"PATH": SAFE_PATH}, text=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {proc.returncode}"
    return None


def plan_for(network: bool) -> Plan:
    """Find the strongest ``unshare`` combination that works here (cached)."""
    with _plan_lock:
        if network in plan_cache:
            return plan_cache[network]
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
        plan = Plan(unshare_args=chosen, notes=notes, net_isolated="--net" in flags,
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
        plan_cache[network] = plan
        return plan


def count_user_processes(uid: int) -> int:
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


def drop_target() -> tuple[int, int, str] | None:
    """Root drops to ``nobody`` inside the harness; everyone else stays who they are."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid, "nobody"


class Cgroups:
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



def scrubbed_env(workdir: str) -> dict[str, str]:
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


def scratch_base(plan: Plan, cgroups: Cgroups) -> str | None:
    """Where the run's folder goes: /dev/shm when the memory cgroup bounds what the tests write there.

    On tmpfs, creating and removing the folder costs a fraction of a millisecond; on this
    machine's /tmp (ext4, mounted with discard) removing it took 2 to 9 ms per run.
    """
    shm = "/dev/shm"
    if plan.mount_ns and cgroups.memory_dir is not None and os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return None



def rlimits_for(limits: SandboxLimits, drop: tuple[int, int, str] | None, isolation: list[str]) -> dict:
    """The rlimits the harness sets on itself; RLIMIT_NPROC relative to the user's processes now."""
    nproc: int | None = None
    if drop:
        nproc = count_user_processes(drop[0]) + limits.max_processes
    elif os.geteuid() != 0:
        nproc = count_user_processes(os.geteuid()) + limits.max_processes
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


