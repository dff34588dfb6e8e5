"""The sandbox's file system, set up inside the child before any untrusted code runs.

In its own mount namespace the harness builds a new root on a throw-away tmpfs holding only
what the tests need: the system directories (/usr, /etc, /lib*, /bin) and the Python
installation read-only, a few device nodes, /proc, empty /tmp, /var/tmp, /run/lock and
/dev/shm, and the work directory. It then pivots into it. So nothing written outside the
work directory outlives the run, the user's files (home, projects, the folder of the tests)
are not there to be read, and no socket file of the host can be reached. Where that fails,
``mask`` puts tmpfs mounts over the known writable and private directories instead.

Standard library only (see _sandbox_harness.py).
"""

from __future__ import annotations

import ctypes
import os
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
ST_RELATIME = 4096  # statvfs's bit for relatime differs from the mount flag

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
SCRATCH = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    rc = _libc.mount(src.encode() if src else None, target.encode(), fstype.encode() if fstype else None,
                     flags, data.encode() if data else None)
    _check(rc, f"mount {target}")


def _pivot_root(new_root: str, put_old: str) -> None:
    if hasattr(_libc, "pivot_root"):
        rc = _libc.pivot_root(new_root.encode(), put_old.encode())
    else:  # a C library without the wrapper: the raw system call (x86-64 and arm64 numbers)
        number = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
        if number is None:
            raise OSError(38, "pivot_root is not available on this architecture")
        rc = _libc.syscall(number, new_root.encode(), put_old.encode())
    _check(rc, "pivot_root")


def inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _outermost(paths: list[str]) -> list[str]:
    """The paths that lie inside no other path of the list, in order, without duplicates."""
    unique = list(dict.fromkeys(paths))
    return [p for p in unique if not any(p != o and inside(p, o) for o in unique)]


def python_dirs(hide: list[str]) -> list[str]:
    """Directories the interpreter needs: its installation, the virtual environment, sys.path.

    A sys.path entry outside the installation that lies in a hidden folder (a project added
    by an editable install) is left out: the tests must not see the user's files through it.
    """
    prefixes = [os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)]
    wanted = [*prefixes, os.path.dirname(os.path.realpath(sys.executable))]
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if not real or not os.path.isdir(real):
            continue
        in_prefix = any(inside(real, p) for p in prefixes)
        if in_prefix or not any(inside(real, h) or inside(h, real) for h in hide):
            wanted.append(real)
    return _outermost([w for w in wanted if os.path.isdir(w) and w != "/"])


def _mount_points() -> list[str]:
    """Every mount point of this namespace (octal escapes of /proc/self/mountinfo decoded)."""
    points = []
    with open("/proc/self/mountinfo", "rb") as fh:
        for line in fh:
            field = line.split(b" ")[4]
            points.append(field.decode("unicode_escape" if b"\\" in field else "utf-8", "replace"))
    return points


def _locked_flags(path: str) -> int:
    """The flags a read-only remount must keep (a user namespace may not drop them)."""
    flag = os.statvfs(path).f_flag
    kept = flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    return kept | (MS_RELATIME if flag & ST_RELATIME else 0)


def read_only(trees: list[str]) -> None:
    """Make folders of the current root read-only from now on (every mount at or below them)."""
    _read_only(trees)


def _read_only(trees: list[str]) -> None:
    """Remount every mount at or below the given bind targets read-only."""
    for point in _mount_points():
        if any(inside(point, t) for t in trees):
            mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(point))


def _devices(root: str) -> None:
    """A minimal /dev: the harmless character devices, the fd links and a private shm."""
    dev = root + "/dev"
    os.makedirs(dev, 0o755, exist_ok=True)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            with open(f"{dev}/{name}", "w"):
                pass
            mount("/dev/" + name, f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")


def private_root(root: str, workdir: str, hide: list[str], size_mb: int,
                 binds: list[tuple[str, str, bool]] | tuple = ()) -> list[str]:
    """Build the new root in the empty directory ``root`` and pivot into it; returns what is visible.

    ``binds`` adds (source, where it appears, writable) folders: the cargo mode's toolchain and
    crate source (read-only) and its build folder shared by the attempts of one run (writable).
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=755,size={size_mb}m")
    for scratch in SCRATCH:
        os.makedirs(root + scratch, 0o755, exist_ok=True)
        os.chmod(root + scratch, 0o1777)
    read_only: list[str] = []
    system = [d for d in SYSTEM_DIRS if os.path.isdir(d)]
    for d in system:
        if os.path.islink(d):
            os.symlink(os.readlink(d), root + d)
            continue
        os.makedirs(root + d, 0o755)
        mount(d, root + d, None, MS_BIND | MS_REC)
        read_only.append(root + d)
    shown = [d for d in system if not os.path.islink(d)]
    for d in python_dirs(hide):
        if any(inside(d, s) for s in shown):
            continue
        os.makedirs(root + d, 0o755, exist_ok=True)
        mount(d, root + d, None, MS_BIND | MS_REC)
        read_only.append(root + d)
        shown.append(d)
    for source, target, writable in binds:
        os.makedirs(root + target, 0o755, exist_ok=True)
        mount(source, root + target, None, MS_BIND | MS_REC)
        if not writable:
            read_only.append(root + target)
            shown.append(target)
    _devices(root)
    os.makedirs(root + "/proc", 0o555)
    mount("/proc", root + "/proc", None, MS_BIND | MS_REC)
    os.makedirs(root + "/sys", 0o555)
    try:
        mount("/sys", root + "/sys", None, MS_BIND | MS_REC)
        read_only.append(root + "/sys")
    except OSError:
        pass  # not needed to run Python; some libraries only read CPU counts there
    os.makedirs(root + workdir, 0o755, exist_ok=True)
    mount(workdir, root + workdir, None, MS_BIND)
    _read_only(read_only)
    for h in hide:  # a private folder inside a visible tree (the tool run from /usr/local/src)
        if any(inside(h, s) for s in shown) and not any(inside(d, h) for d in [*shown, workdir]):
            mount("tmpfs", root + h, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    os.chdir(root)
    _pivot_root(".", ".")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")
    return shown


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


def mask(workdir: str, hide: list[str], size_mb: int, keep_ro: list[str] | tuple = (),
         keep_rw: list[str] | tuple = ()) -> list[str]:
    """Fallback without a new root: tmpfs over the writable and the private directories.

    Writes to /tmp-like directories land in throw-away tmpfs instances, /run (sockets, locks)
    and the hidden folders are covered, and the Python installation and the work directory
    are bound back (the installation read-only) where a mask covers them, as are `keep_ro`
    (read-only) and `keep_rw` (the cargo mode's toolchain and crate source, and its build folder).
    """
    keep_ro = [*python_dirs(hide), *keep_ro]
    writable = [workdir, *keep_rw]
    masks = [d for d in (*SCRATCH, "/run", "/home") if os.path.isdir(d) and not os.path.islink(d)]
    masks += [os.path.realpath(h) for h in hide if h and h != "/" and os.path.isdir(h)]
    masks += [c for k in [*keep_ro, *writable] if (c := _closed_ancestor(k))]
    done: list[str] = []
    for target in _outermost(sorted(masks)):
        keeps = [k for k in [*writable, *keep_ro] if inside(k, target)]
        if target in keeps:
            continue  # the whole directory is needed: leave it as it is
        fds = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keeps}
        try:
            mode = "1777" if target in SCRATCH else "755"
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size_mb}m")
            if target == "/run":
                os.makedirs("/run/lock", 0o755)
                os.chmod("/run/lock", 0o1777)
            for k, fd in fds.items():
                os.makedirs(k, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
                if k not in writable:
                    mount(None, k, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(k))
        finally:
            for fd in fds.values():
                os.close(fd)
        done.append(target)
    return done
