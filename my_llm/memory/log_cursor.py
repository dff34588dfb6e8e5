"""Follow a namespace's JSONL log from a position kept on disk (for the outbox and the index).

A consumer of the log (the Pub/Sub outbox, the Chroma index) keeps a cursor file:
the log file it reads (by inode), the byte offset just after the last line it has
dealt with, and that line's message id. Saving is atomic (temporary file, fsync,
rename, fsync of the folder: ``my_llm.files.write_atomically``), so after any
crash the cursor is the old one or the new one, and work done after it is
redone, never skipped: at least once.

Reading is safe while other processes append: only complete lines (ending in a
newline) are consumed, so a line still being written, or a torn last line left by
a crash, waits; once a later writer fences it off it is skipped with a warning.
``clear()`` archives the log by renaming it, which keeps the inode: with
``follow_archives`` the rest of the archive is read first, then the new log.
"""

from __future__ import annotations

import json
import logging
import os
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
    """A place in a log file: its inode and the offset just after a complete line."""

    ino: int
    offset: int
    last_id: str | None = None


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
        """The saved position; None when there is none (or it is unreadable, with a warning)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Position(int(data["ino"]), int(data["offset"]), data.get("last_id"))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s is unreadable (%s); starting from the top of the log", self.path, exc)
            return None

    def save(self, pos: Position, **extra: str) -> None:
        """Write the position atomically: readers see the old or the new one, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"log": LOG_NAME, "ino": pos.ino, "offset": pos.offset, "last_id": pos.last_id}
        data.update(extra, saved=utc_now())
        write_atomically(self.path, json.dumps(data))

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)

    def end_position(self) -> Position:
        """The current end of the log, read under the append lock (the log is created if absent)."""
        with locked_append_fd(self.log_path) as fd:
            stat = os.fstat(fd)
            return Position(stat.st_ino, stat.st_size)

    def start_position(self) -> Position | None:
        """The top of the current log, or None when there is no log."""
        try:
            return Position(os.stat(self.log_path).st_ino, 0)
        except FileNotFoundError:
            return None

    # -- reading --------------------------------------------------------------------------------
    def read(self, pos: Position, max_records: int = 500, max_bytes: int = 4_000_000) -> Chunk:
        """Complete records after ``pos`` from one file; ``end`` moves on to the new log
        when an archive is finished. An empty chunk with ``end == pos`` means caught up."""
        path, pos = self._resolve(pos)
        if path is None:
            return Chunk(end=pos)
        chunk = _read_lines(path, pos, max_records, max_bytes)
        if chunk.records or path == self.log_path:
            return chunk
        start = self.start_position()  # the archive is finished: go on with the current log
        if start is None or chunk.end is None or chunk.end.offset != pos.offset:
            return chunk  # corrupt lines were skipped: save that progress first
        return Chunk(end=start)

    def pending(self, pos: Position | None) -> bool:
        """Whether anything after ``pos`` is waiting (cheap: one stat in the usual case)."""
        if pos is None:
            return False
        try:
            stat = os.stat(self.log_path)
        except FileNotFoundError:
            return self.follow_archives and self._find_archive(pos.ino) is not None
        if stat.st_ino == pos.ino:
            return stat.st_size > pos.offset
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
        if pos.offset and not _at_line_start(path, pos.offset):
            log.warning(
                "%s does not point at a line start of %s; reading from the top", self.path, path
            )
            return path, Position(pos.ino, 0)
        return path, pos

    def _find_archive(self, ino: int) -> Path | None:
        for candidate in self.log_path.parent.glob("memory-*.jsonl"):
            try:
                if candidate.stat().st_ino == ino:
                    return candidate
            except FileNotFoundError:
                continue
        return None


def _at_line_start(path: Path, offset: int) -> bool:
    """An offset is a valid position when the byte before it ends a line."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset - 1)
            return handle.read(1) == b"\n"
    except OSError:
        return False


def _read_lines(path: Path, pos: Position, max_records: int, max_bytes: int) -> Chunk:
    """Parse complete lines from ``pos``; corrupt ones are skipped (with a warning)."""
    chunk = Chunk(end=pos)
    offset, last_id, size = pos.offset, pos.last_id, 0
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
            if not line.strip():
                continue
            record = parse_record(line)
            if record is None:
                log.warning(
                    "%s: incomplete or corrupt line at byte %d skipped", path, offset - len(line)
                )
                continue
            chunk.records.append(record)
            last_id = str(record["id"])
            size += len(line)
    chunk.end = Position(pos.ino, offset, last_id)
    return chunk
