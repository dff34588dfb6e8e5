"""The sandbox's first process: reads its secrets, opens the signed results channel, and (as PID 1
of a new PID namespace) forks the harness and waits for it. See runner.py and _sandbox_harness.py.

It imports only light modules and forks before the harness imports unittest: a child forked
from a process with everything imported pays for copying the pages it touches, which cost
more than the imports themselves. Untrusted code never runs in this process, and it signs
with a key of its own, so its report of how the harness ended can be believed.

Standard library only (see _sandbox_harness.py).
"""

from __future__ import annotations

import _thread
import marshal
import os
import select
import sys

TYPE_CHECKING = False  # typing itself takes 12 ms to import: this process must start fast
if TYPE_CHECKING:
    from collections.abc import Callable

try:
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b
try:
    from _json import encode_basestring_ascii as _escape
except ImportError:
    from json.encoder import encode_basestring_ascii as _escape  # type: ignore[assignment]

CHANNEL_EXIT = 154  # the results pipe was closed or replaced under the harness
HARNESS_ERROR_EXIT = 70

# Captured before any untrusted code runs; the guard checks that these names keep them.
_write, _fstat, _getpid, _exit = os.write, os.fstat, os.getpid, os._exit


def encode(value: object) -> str:
    """JSON without the json module's Python parts, which the code under test could patch."""
    kind = type(value)
    if kind is str:
        return _escape(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    if kind is dict:
        return "{" + ", ".join(_escape(str(k)) + ": " + encode(v) for k, v in value.items()) + "}"  # type: ignore[attr-defined]
    if kind is list or kind is tuple:
        return "[" + ", ".join(encode(v) for v in value) + "]"  # type: ignore[attr-defined]
    return _escape(str(value))


class Channel:
    """The results pipe: one JSON line per event, signed with a per-run key (blake2b).

    Only the process that holds the channel reports: a test that forks must not make its
    children report a second, fake set of results. If the pipe was closed or replaced (the
    code under test did it), the harness cannot report and exits with CHANNEL_EXIT.
    """

    def __init__(self, fd: int, key: bytes) -> None:
        self.fd = fd
        self.key = key
        self.seq = 0
        self.pid = _getpid()
        status = _fstat(fd)
        self.ident = (status.st_dev, status.st_ino)

    def send(self, event: dict) -> None:
        if self.fd < 0 or _getpid() != self.pid:
            return
        try:
            status = _fstat(self.fd)
        except OSError:
            _exit(CHANNEL_EXIT)
        if (status.st_dev, status.st_ino) != self.ident:
            _exit(CHANNEL_EXIT)
        event["seq"] = self.seq
        self.seq += 1
        body = encode(event)
        mac = blake2b(body.encode(), key=self.key, digest_size=16).hexdigest()
        data = (mac + " " + body + "\n").encode()
        try:
            while data:
                data = data[_write(self.fd, data):]
        except OSError:
            _exit(CHANNEL_EXIT)


def read_secret(fd: int) -> dict:
    """The run's keys, random values and exit code, from a pipe the tool wrote and closed.

    Read into a buffer that is wiped afterwards: freed memory keeps its bytes, and the blob would
    lie there for anyone scanning memory (through ctypes) to find by its keys' names.
    """
    buffer = bytearray(65536)
    size = 0
    while count := os.readv(fd, [memoryview(buffer)[size:]]):
        size += count
    os.close(fd)
    try:
        return marshal.loads(memoryview(buffer)[:size])
    finally:
        buffer[:] = bytes(len(buffer))


def join_cgroups(paths: list[str]) -> Callable[[], list[str]]:
    """Start joining the run's cgroups in a thread; the returned function waits, then gives notes.

    Moving a process between cgroups waits for an RCU grace period (10 ms and more on a busy
    machine); done while the harness imports unittest, it costs nothing. The harness waits
    for it before any untrusted code runs.
    """
    notes: list[str] = []
    done = _thread.allocate_lock()
    done.acquire()

    def join() -> None:
        try:
            for procs in paths:
                try:
                    with open(procs, "w") as fh:
                        fh.write("0")  # "0": the writing process, all its threads
                    notes.append(f"cgroup: joined {os.path.dirname(procs)}")
                except OSError as exc:
                    notes.append(f"cgroup: could NOT join {os.path.dirname(procs)} ({exc.strerror})")
        finally:
            done.release()

    _thread.start_new_thread(join, ())

    def wait() -> list[str]:
        with done:
            return notes

    return wait


def _reap(child: int) -> int | None:
    """Reap every finished process (orphans are re-parented to us); the child's status if it ended."""
    found = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found if found is not None else HARNESS_ERROR_EXIT << 8
        if pid == 0:
            return found
        if pid == child:
            found = status


def _wait(child: int, lifeline: int | None, channel: Channel, drop: list | None) -> None:
    """As PID 1: wait for the harness, reap orphans, report how the harness ended, and exit so.

    The kernel shields PID 1 from its own signals, so tests that kill their own process
    would otherwise survive; and this way a death by signal is reported by name. If the
    parent (the tool) dies, the lifeline pipe reaches EOF and we exit, which makes the
    kernel kill everything in the namespace. We become the same unprivileged user as the
    harness: changing credentials also makes us undumpable, so the tests cannot trace us.
    """
    if drop:
        os.setgroups([])
        os.setgid(drop[1])
        os.setuid(drop[0])
    try:
        pidfd: int | None = os.pidfd_open(child)
    except (AttributeError, OSError):
        pidfd = None  # older kernels: notice the child's end within 50 ms instead
    watched = [fd for fd in (lifeline, pidfd) if fd is not None]
    while True:
        ready, _, _ = select.select(watched, [], [], 0.05)
        if lifeline is not None and lifeline in ready and not os.read(lifeline, 1):
            _exit(137)
        status = _reap(child)
        if status is not None:
            break
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        channel.send({"event": "child_exit", "signal": sig})
        _exit(128 + sig)
    code = os.waitstatus_to_exitcode(status)
    channel.send({"event": "child_exit", "code": code})
    _exit(code)


def start() -> None:
    """Entry point of harness.py: set up the channel, fork as PID 1, hand over to the harness."""
    with open(sys.argv[1], "rb") as fh:
        cfg = marshal.loads(fh.read())
    secret = read_secret(cfg["secret_fd"])
    os.set_inheritable(cfg["results_fd"], False)  # subprocesses of the tests do not get it
    lifeline = cfg.get("lifeline_fd")
    if lifeline is not None:
        os.set_inheritable(lifeline, False)
    if _getpid() == 1:
        init_key = bytes.fromhex(secret.pop("init_key"))
        child = os.fork()
        if child:
            _wait(child, lifeline, Channel(cfg["results_fd"], init_key), cfg.get("drop_to"))
        del init_key
    secret.pop("init_key", None)
    channel = Channel(cfg["results_fd"], bytes.fromhex(secret["key"]))
    cgroups = join_cgroups(cfg.get("cgroups", []))
    if cfg.get("mode") == "cargo":  # cargo builds and runs the tests in processes of their own
        import _sandbox_cargo as harness
    else:
        import _sandbox_harness as harness  # the heavy imports happen here, in the harness's own process

    harness.entry(cfg, secret, channel, cgroups)
