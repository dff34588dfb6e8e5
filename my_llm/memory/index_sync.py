"""Keep a namespace's Chroma index in step with its log through a cursor, like the outbox.

The index is derived data: the cursor (``<namespace>/.cursors/chroma.<target
hash>.json``, one per Chroma target) says how far the log has been indexed, and
moves only after Chroma accepted a batch. Chroma down or broken never touches
the log: indexing fails with one clear line, and the next ``index()`` or
``my-llm reindex`` picks up from the cursor. Upserts are keyed by message id, so
indexing a line twice (after a crash between upsert and cursor save) is harmless.

A cleared log starts a fresh index (``clear()`` drops the collection), so this
cursor does not follow archives. An flock lets one process index a namespace at
a time; another waits, then finds nothing left to do.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from my_llm.memory.log_cursor import LogCursor, Position, cursor_dir
from my_llm.memory.message_log import LOG_NAME, Record


class MemoryIndex(Protocol):
    """What syncing needs of an index (`my_llm.memory.vectorstore.MemoryIndex`), named here so this
    module need not import the vector store, which imports it."""

    root: Path
    namespace: str

    @property
    def target(self) -> str: ...

    def count(self) -> int: ...

    def add_records(self, records: list[Record]) -> int: ...

BATCH_RECORDS = 256


def index_cursor(root: Path, namespace: str, target: str) -> LogCursor:
    """The cursor of one namespace's index at one Chroma target (folder or URL)."""
    key = hashlib.sha256(target.encode("utf-8")).hexdigest()[:12]
    return LogCursor(
        Path(root) / namespace / LOG_NAME,
        cursor_dir(root, namespace) / f"chroma.{key}.json",
        follow_archives=False,
    )


@contextlib.contextmanager
def _locked(cursor: LogCursor) -> Iterator[None]:
    cursor.path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(cursor.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _start(index: MemoryIndex, cursor: LogCursor) -> Position | None:
    """Where indexing resumes: the cursor, unless the collection was emptied behind its back."""
    pos = cursor.load()
    if pos is not None and pos.offset > 0 and cursor.pending(pos) and index.count() == 0:
        pos = None  # dropped by someone else: rebuild from the top
    return pos or cursor.start_position()


def pending_count(index: MemoryIndex) -> int:
    """Log records after the index cursor (indexable or not)."""
    cursor = index_cursor(index.root, index.namespace, index.target)
    pos = cursor.load() or cursor.start_position()
    count = 0
    while pos is not None:
        chunk = cursor.read(pos, max_records=10_000, max_bytes=1 << 30)
        count += len(chunk.records)
        if chunk.end is None or chunk.end == pos:
            break
        pos = chunk.end
    return count


def index_pending(index: MemoryIndex, progress: Callable[[int], None] | None = None) -> int:
    """Index every log record after the cursor; returns how many messages were indexed."""
    cursor = index_cursor(index.root, index.namespace, index.target)
    saved = cursor.load()
    if saved is not None and not cursor.pending(saved):
        return 0  # up to date: no need to even start Chroma
    indexed = 0
    with _locked(cursor):
        pos = _start(index, cursor)
        while pos is not None:
            chunk = cursor.read(pos, BATCH_RECORDS)
            if chunk.end is None or (not chunk.records and chunk.end == pos):
                break
            indexed += index.add_records(chunk.records)
            cursor.save(chunk.end, target=index.target)
            if progress:
                progress(len(chunk.records))
            pos = chunk.end
    return indexed


def forget(root: Path, namespace: str, target: str) -> None:
    """The collection was dropped: the next indexing starts from the top of the log."""
    index_cursor(root, namespace, target).delete()
