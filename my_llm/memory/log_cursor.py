"""Follow a namespace's JSONL log from a position kept on disk (for the outbox and the index).

A consumer of the log (the Pub/Sub outbox, the Chroma index) keeps a cursor file:
the log file it reads (by inode), the byte offset just after the last line it has
dealt with, that line's message id and a digest of the line (a log deleted and written
anew can get the old inode back: the digest tells, and the new file is read from its
top). A cursor that is unreadable, or points past the end or mid-line, is read from
the top of the log too. Saving is atomic (temporary file, fsync,
rename, fsync of the folder: ``my_llm.files.write_atomically``), so after any
crash the cursor is the old one or the new one, and work done after it is
redone, never skipped: at least once.

Reading is safe while other processes append: only complete lines (ending in a
newline) are consumed, so a line still being written, or a torn last line left by
a crash, waits; once a later writer fences it off it is skipped with a warning.
``clear()`` archives the log by renaming it, which keeps the inode: with
``follow_archives`` the rest of the archive is read first, then any later archive
(``clear()`` twice between two reads), then the new log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from my_llm.files import locked_append_fd, write_atomically
from my_llm.memory.message_log import LOG_NAME, Record, parse_record, utc_now

log = logging.getLogger("my_llm.memory")

CURSOR_DIRNAME = ".cursors"


def cursor_dir(root: Path, namespace: str) -> Path:
    """Where a namespace's cursors and their lock files live."""
    return Path(root) / namespace / CURSOR_DIRNAME


@dataclass(frozen=True)
class Position:
    """A place in a log file: its inode, the offset just after a complete line, the id of the
    record on that line (None when unknown, or when the line is no record) and a digest of the line
    (checked before reading on: the file may have been written anew under the same inode)."""

    ino: int
    offset: int
    last_id: str | None = None
    line: str | None = None


@dataclass
class Chunk:
    """Complete records read after a position, and the position after them."""

    records: list[Record] = field(default_factory=list)
    end: Position | None = None


class LogCursor:
    """A saved position in one namespace's log, and reading onwards from it."""

    def __init__(self, log_path: Path, cursor_path: Path, *, follow_archives: bool) -> None:
        self.log_path = Path(log_path)
        self.path = Path(cursor_path)
        self.follow_archives = follow_archives

    # -- the cursor file ------------------------------------------------------------------------
    def load(self) -> Position | None:
        """The saved position; None when there is none (or it is unreadable, with a warning: the
        reader then starts from the top of the log, at least once, never past a line unread)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, RecursionError) as exc:
            log.warning("%s is unreadable (%s); starting from the top of the log", self.path, exc)
            return None
        pos = _position(data)
        if pos is None:
            log.warning("%s does not hold a position; starting from the top of the log", self.path)
        return pos

    def exists(self) -> bool:
        """Whether a cursor file is there (readable or not: an unreadable one still says work began)."""
        return os.path.lexists(self.path)

    def save(self, pos: Position, **extra: str) -> None:
        """Write the position atomically: readers see the old or the new one, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"log": LOG_NAME, "ino": pos.ino, "offset": pos.offset, "last_id": pos.last_id, "line": pos.line}
        data.update(extra, saved=utc_now())
        write_atomically(self.path, json.dumps(data))

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)

    def end_position(self) -> Position:
        """The current end of the log, read under the append lock (the log is created if absent)."""
        with locked_append_fd(self.log_path) as fd:
            stat = os.fstat(fd)
            return _after_line(self.log_path, stat.st_ino, stat.st_size)

    def start_position(self) -> Position | None:
        """The top of the current log, or None when there is no log."""
        try:
            return Position(os.stat(self.log_path).st_ino, 0)
        except FileNotFoundError:
            return None

    # -- reading --------------------------------------------------------------------------------
    def read(self, pos: Position, max_records: int = 500, max_bytes: int = 4_000_000) -> Chunk:
        """Complete records after ``pos`` from one file; ``end`` moves on to the next archive, or
        the new log, when an archive is finished. An empty chunk with ``end == pos`` means caught up."""
        path, pos = self._resolve(pos)
        if path is None:
            return Chunk(end=pos)
        chunk = _read_lines(path, pos, max_records, max_bytes)
        if chunk.records or path == self.log_path:
            return chunk
        if chunk.end is None or chunk.end.offset != pos.offset:
            return chunk  # corrupt lines were skipped: save that progress first
        # The archive is finished: go on with the next one (clear() may have run twice since the
        # last read), else with the current log.
        following = self._next_archive(path)
        start = _top(following) if following is not None else self.start_position()
        return chunk if start is None else Chunk(end=start)

    def pending(self, pos: Position | None) -> bool:
        """Whether anything after ``pos`` is waiting (cheap: a stat, and the line before ``pos`` read)."""
        if pos is None:
            return False
        try:
            stat = os.stat(self.log_path)
        except FileNotFoundError:
            return self.follow_archives and self._find_archive(pos.ino) is not None
        if stat.st_ino == pos.ino:  # other than its size: rewritten in place (read from the top)
            return stat.st_size != pos.offset or (pos.offset > 0 and not _follows(self.log_path, pos))
        return True

    def _resolve(self, pos: Position) -> tuple[Path | None, Position]:
        """The file ``pos`` points into, or the current log from its top if that file is gone."""
        try:
            current: os.stat_result | None = os.stat(self.log_path)
        except FileNotFoundError:
            current = None
        if current is not None and current.st_ino == pos.ino:
            path = self.log_path
        elif self.follow_archives and (archived := self._find_archive(pos.ino)) is not None:
            path = archived
        elif current is None:
            return None, pos
        else:
            if self.follow_archives:
                log.warning(
                    "%s: the log it points into is gone; reading the log from the top", self.path
                )
            return self.log_path, Position(current.st_ino, 0)
        if pos.offset and not _follows(path, pos):
            log.warning(
                "%s does not point just after the line it read in %s (the file was rewritten, or the "
                "cursor damaged); reading from the top", self.path, path
            )
            return path, Position(pos.ino, 0)
        return path, pos

    def _next_archive(self, archived: Path) -> Path | None:
        """The oldest archive made after ``archived``, by the time in its name; None if none is."""
        key = _archive_key(archived.name)
        if key is None:
            return None
        later = [(k, p) for p in self.log_path.parent.glob("memory-*.jsonl")
                 if (k := _archive_key(p.name)) is not None and k > key]
        return min(later)[1] if later else None

    def _find_archive(self, ino: int) -> Path | None:
        for candidate in self.log_path.parent.glob("memory-*.jsonl"):
            try:
                if candidate.stat().st_ino == ino:
                    return candidate
            except FileNotFoundError:
                continue
        return None


_ARCHIVE_NAME = re.compile(r"memory-(\d{8}T\d{12}Z)(?:-(\d+))?\.jsonl")  # MessageLog.archive's names


def _archive_key(name: str) -> tuple[str, int] | None:
    """When an archive was made, as a sortable key (``memory-<UTC stamp>[-<n>].jsonl``)."""
    match = _ARCHIVE_NAME.fullmatch(name)
    return (match[1], int(match[2] or 0)) if match else None


def _top(path: Path) -> Position | None:
    try:
        return Position(os.stat(path).st_ino, 0)
    except FileNotFoundError:
        return None


def _position(data: object) -> Position | None:
    """A cursor file's position, when it holds one (whole numbers a file offset can be)."""
    if not isinstance(data, dict):
        return None
    ino, offset, last_id, line = (data.get(k) for k in ("ino", "offset", "last_id", "line"))
    if not all(type(v) is int and 0 <= v < 2**62 for v in (ino, offset)):
        return None
    return Position(ino, offset, last_id if isinstance(last_id, str) else None,  # type: ignore[arg-type]
                    line if isinstance(line, str) else None)


def _line_before(path: Path, offset: int) -> bytes | None:
    """The complete line that ends just before ``offset`` (newline included), or None when the byte
    before ``offset`` is no newline (or the file is shorter)."""
    try:
        with open(path, "rb") as handle:
            if offset <= 0 or offset > handle.seek(0, os.SEEK_END):
                return None
            handle.seek(offset - 1)
            if handle.read(1) != b"\n":
                return None
            start = offset - 1
            while start > 0:  # back to the newline before it, a block at a time
                step = min(1 << 16, start)
                handle.seek(start - step)
                cut = handle.read(step).rfind(b"\n")
                if cut >= 0:
                    start = start - step + cut + 1
                    break
                start -= step
            handle.seek(start)
            return handle.read(offset - start)
    except OSError:
        return None


def _digest(line: bytes) -> str:
    return hashlib.blake2b(line, digest_size=8).hexdigest()


def _after_line(path: Path, ino: int, offset: int, line: bytes | None = None) -> Position:
    """The position at ``offset``, with the id and digest of the line before it (read if not given)."""
    line = _line_before(path, offset) if line is None and offset else line
    record = parse_record(line) if line else None
    return Position(ino, offset, record["id"] if record is not None else None, _digest(line) if line else None)


def _follows(path: Path, pos: Position) -> bool:
    """Whether ``pos`` is just after a line of ``path``, and after the same line it was saved after:
    a log deleted and written anew can get the old inode back (ext4 reuses it at once), and an
    offset that happens to fall on a line start there would skip what comes before it."""
    line = _line_before(path, pos.offset)
    if line is None:
        return False
    if pos.line is not None:
        return _digest(line) == pos.line
    if pos.last_id is not None:  # a cursor saved before lines had digests
        record = parse_record(line)
        return record is not None and record["id"] == pos.last_id
    # Nothing to check it by: every position saved after a line has its digest, so this one was
    # damaged (an offset moved past the end that the log has grown to since). Reading again from
    # the top sends some messages twice; trusting it could skip some for ever.
    return False


def _read_lines(path: Path, pos: Position, max_records: int, max_bytes: int) -> Chunk:
    """Parse complete lines from ``pos``; corrupt ones are skipped (with a warning)."""
    chunk = Chunk(end=pos)
    offset, size, last = pos.offset, 0, b""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return chunk
    with handle:
        handle.seek(offset)
        while len(chunk.records) < max_records and size < max_bytes:
            line = handle.readline()
            if not line.endswith(b"\n"):
                break  # end of file, or a line still being written
            offset += len(line)
            last = line
            if not line.strip():
                continue
            record = parse_record(line)
            if record is None:
                log.warning(
                    "%s: incomplete or corrupt line at byte %d skipped", path, offset - len(line)
                )
                continue
            chunk.records.append(record)
            size += len(line)
    chunk.end = _after_line(path, pos.ino, offset, last) if last else pos
    return chunk
