"""The Pub/Sub outbox: a namespace's JSONL log is published from a cursor, at least once.

Delivery is driven from the log, never from memory. A cursor per namespace and
topic (``<namespace>/.cursors/pubsub.<topic>.json``) records how far Pub/Sub has
acknowledged; everything after it is sent in order, in batches, and the cursor
moves only after the acknowledgement. So a crash (even kill -9) at any moment
loses nothing: the background publisher, the next start or ``my-llm flush``
resends from the cursor, and a message may arrive twice (each carries its id, so
consumers drop duplicates).

One process publishes a namespace and topic at a time, under an flock on
``pubsub.<topic>.lock``; the others leave it the work, since it reads the shared
log to its end, their lines included. That keeps duplicates to the rare resend
after a crash or a lost acknowledgement.

The outbox starts when a history is first opened with Pub/Sub configured, at the
end of the log as it is then (messages logged while Pub/Sub was off are not sent).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from my_llm.memory.log_cursor import CURSOR_DIRNAME, LogCursor, cursor_dir
from my_llm.memory.message_log import LOG_NAME, Record, encode

log = logging.getLogger("my_llm.memory")

PREFIX = "pubsub."
BATCH_RECORDS = 500
BATCH_BYTES = 4_000_000
MAX_MESSAGE_BYTES = 9_000_000  # Pub/Sub refuses messages over 10 MB; such a line is skipped
LOCK_POLL_S = 0.05
# A publish given less time than this (the end of an exit budget, say) would often reach
# Pub/Sub without our hearing the acknowledgement, to be resent later: the batch waits instead.
MIN_SEND_S = 0.5

# send(topic, records, timeout_s) publishes the batch or raises.
Send = Callable[[str, list[Record], float], None]


@dataclass
class DrainResult:
    """What one drain did: ``done`` when the outbox was emptied."""

    sent: int = 0
    skipped: int = 0
    busy: bool = False
    done: bool = False
    error: str | None = None


class Outbox:
    """The Pub/Sub cursor of one namespace and topic under one history root."""

    def __init__(self, root: Path, namespace: str, topic: str) -> None:
        self.root = Path(root)
        self.namespace = namespace
        self.topic = topic
        folder = cursor_dir(self.root, namespace)
        self.cursor = LogCursor(
            self.root / namespace / LOG_NAME, folder / f"{PREFIX}{topic}.json", follow_archives=True
        )
        self.lock_path = folder / f"{PREFIX}{topic}.lock"

    @property
    def key(self) -> tuple[str, str, str]:
        return (str(self.root), self.namespace, self.topic)

    def ensure_started(self) -> None:
        """Create the cursor at the current end of the log if there is none yet.

        Only when there is no cursor file at all: an unreadable one means publishing began and its
        place is lost, so the next drain starts from the top of the log (at least once), rather
        than from its end, which would skip what was waiting.
        """
        if not self.cursor.exists():
            with self._locked(time.monotonic() + 10.0) as held:
                if held and not self.cursor.exists():
                    self.cursor.save(self.cursor.end_position(), topic=self.topic)

    def has_backlog(self) -> bool:
        """Whether lines after the cursor wait (a stat and a small read); an unreadable cursor: yes."""
        pos = self.cursor.load()
        return self.cursor.pending(pos) if pos is not None else self.cursor.exists()

    def backlog_count(self) -> int:
        """How many records wait after the cursor (reads them: for reports, not hot paths)."""
        pos = self.cursor.load() or (self.cursor.start_position() if self.cursor.exists() else None)
        count = 0
        while pos is not None:
            chunk = self.cursor.read(pos, max_records=10_000, max_bytes=1 << 30)
            count += len(chunk.records)
            if chunk.end is None or chunk.end == pos:
                break
            pos = chunk.end
        return count

    def drain(self, send: Send, deadline: float, *, wait_for_lock: bool = False) -> DrainResult:
        """Send everything after the cursor before ``deadline`` (time.monotonic())."""
        result = DrainResult()
        with self._locked(deadline if wait_for_lock else None) as held:
            if not held:
                result.busy = True
                return result
            pos = self.cursor.load() or self.cursor.start_position()
            while pos is not None:
                chunk = self.cursor.read(pos, BATCH_RECORDS, BATCH_BYTES)
                if chunk.end is None or (not chunk.records and chunk.end == pos):
                    break
                remaining = deadline - time.monotonic()
                if chunk.records and remaining < MIN_SEND_S:
                    result.error = "out of time"
                    return result
                batch = [r for r in chunk.records if self._fits(r)]
                result.skipped += len(chunk.records) - len(batch)
                if batch:
                    try:
                        send(self.topic, batch, remaining)
                    except Exception as exc:  # any failure: the cursor stays, a later drain resends
                        result.error = short_error(exc)
                        return result
                self.cursor.save(chunk.end, topic=self.topic)
                result.sent += len(batch)
                pos = chunk.end
            result.done = True
        return result

    def _fits(self, record: Record) -> bool:
        size = len(encode(record).encode("utf-8"))
        if size <= MAX_MESSAGE_BYTES:
            return True
        log.warning(
            "message %s in %r is %d bytes, over Pub/Sub's limit: kept in the log only",
            record.get("id"),
            self.namespace,
            size,
        )
        return False

    @contextlib.contextmanager
    def _locked(self, deadline: float | None) -> Iterator[bool]:
        """Hold the publishing lock; without a deadline, give up at once if it is taken."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is None or time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(LOCK_POLL_S)
            yield True
        finally:
            os.close(fd)  # closing releases the lock


def find_outboxes(root: Path) -> list[Outbox]:
    """Every outbox under a history root (one per namespace and topic that was published)."""
    found = []
    base = Path(root)
    if not base.is_dir():
        return found
    for cursor in sorted(base.glob(f"*/{CURSOR_DIRNAME}/{PREFIX}*.json")):
        namespace = cursor.parent.parent.name
        topic = cursor.name[len(PREFIX) : -len(".json")]
        found.append(Outbox(base, namespace, topic))
    return found


def short_error(exc: BaseException | None) -> str:
    """One line, at most 200 characters, from an exception."""
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def rpc_timeout() -> float:
    """Seconds one Pub/Sub call may take (``MY_LLM_PUBSUB_TIMEOUT``, default 5)."""
    try:
        return max(0.2, float(os.environ.get("MY_LLM_PUBSUB_TIMEOUT", "5")))
    except ValueError:
        return 5.0
