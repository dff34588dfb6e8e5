"""Crash-safe file writes shared by the whole project: atomic replacement and locked appends.

Imports nothing else from the project, so any module, at any layer, can use it.

* ``write_atomically`` replaces a file so that after a crash it holds the old bytes or the new
  ones, never a mix: a temporary file in the same folder, fsync, ``os.replace``, fsync of the
  folder (the rename itself must reach the disk too). The file keeps its mode.
* ``append_lines`` appends whole lines to a log (JSONL) that several processes write at once:
  ``O_APPEND``, one ``write()`` per batch under an exclusive ``flock``, then fsync. A torn last
  line left by a crash is fenced off with a newline by the next writer, so it spoils only
  itself; readers skip it as unparsable.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["DEFAULT_MODE", "append_lines", "fsync_folder", "locked_append_fd", "write_atomically"]

DEFAULT_MODE = 0o644  # what open() gives under the usual umask: readable, not world-writable


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``folder`` durable (the folder's entry lives in it).

    Filesystems that cannot sync a folder (some network and FUSE mounts say EINVAL) are
    skipped: there the rename is as durable as that filesystem makes it.
    """
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def write_atomically(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    new_mode: int = DEFAULT_MODE,
    encoding: str = "utf-8",
) -> None:
    """Replace ``path`` with ``data`` so readers and crashes see the old file or the new one.

    A file being replaced keeps its permission bits (a script stays executable, a private file
    stays private); a new file gets ``new_mode`` (not mkstemp's 0600). Text is written as
    ``encoding`` bytes with no newline translation. The folder must exist.
    """
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = new_mode
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)


@contextlib.contextmanager
def locked_append_fd(path: str | os.PathLike[str], mode: int = DEFAULT_MODE) -> Iterator[int]:
    """An ``O_APPEND`` descriptor on ``path`` held under an exclusive ``flock``.

    The folder is created if needed. If the file is renamed away (a log being archived)
    between open and lock, the new file is opened instead, so no line lands in an archive.
    flock locks belong to the open file, so threads of one process exclude each other too.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.fstat(fd).st_ino == os.stat(target).st_ino
            except FileNotFoundError:
                same = False
            if same:
                yield fd
                return
        finally:
            os.close(fd)  # closing also releases the flock


def _ends_torn(path: Path, size: int) -> bool:
    """Whether the file's last byte is not a newline: a writer crashed mid-line."""
    if not size:
        return False
    with open(path, "rb") as reader:
        reader.seek(size - 1)
        return reader.read(1) != b"\n"


def append_lines(
    path: str | os.PathLike[str],
    lines: Sequence[str],
    *,
    durable: bool = True,
    mode: int = DEFAULT_MODE,
) -> None:
    """Append whole lines in one ``write()`` under the lock, then fsync (unless not ``durable``).

    Each item is one line (trailing newlines are dropped); an item holding a newline inside
    would become two lines, so it is refused with ValueError before anything is written.
    """
    if not lines:
        return
    body = [line.rstrip("\n") for line in lines]
    for line in body:
        if "\n" in line:
            raise ValueError(f"a line to append holds a newline: {line[:80]!r}")
    payload = "".join(line + "\n" for line in body).encode("utf-8")
    target = Path(path)
    with locked_append_fd(target, mode) as fd:
        if _ends_torn(target, os.fstat(fd).st_size):
            payload = b"\n" + payload  # fence the torn line off: it stays unparsable, alone
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
