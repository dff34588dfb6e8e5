"""Deliver what the old spool holds, once, then remove it.

Before the outbox, messages that could not be published went to
``$MESSAGE_HISTORY/.pubsub_spool/<topic>.jsonl`` (or ``<topic>.jsonl.<hex>.sending``
while a flush was sending them). Those messages are in the log too, but before
any outbox cursor (which starts at the end of the log), so the outbox will never
send them: they are sent from the spool file, which is deleted once Pub/Sub has
acknowledged all of it. A failure keeps the file for the next flush.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from my_llm.memory.message_log import iter_records
from my_llm.memory.outbox import BATCH_RECORDS, Send, short_error

log = logging.getLogger("my_llm.memory")

SPOOL_DIRNAME = ".pubsub_spool"


@dataclass
class SpoolResult:
    sent: int = 0
    files: int = 0
    error: str | None = None


def spool_files(root: Path) -> list[Path]:
    directory = Path(root) / SPOOL_DIRNAME
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith((".jsonl", ".sending")))


def drain_legacy_spool(root: Path, send: Send, timeout_s: float) -> SpoolResult:
    """Send every old spool file under ``root`` and delete each one that went out in full."""
    result = SpoolResult()
    for path in spool_files(root):
        topic = path.name.split(".jsonl", 1)[0]
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # someone else is sending it
            if not path.exists():
                continue
            records = list(iter_records(path))
            for start in range(0, len(records), BATCH_RECORDS):
                send(topic, records[start : start + BATCH_RECORDS], timeout_s)
            path.unlink()
            result.sent += len(records)
            result.files += 1
        except Exception as exc:  # keep the file: the next flush sends it again
            result.error = short_error(exc)
            return result
        finally:
            os.close(fd)
    directory = Path(root) / SPOOL_DIRNAME
    if result.files and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        log.info("the old Pub/Sub spool was delivered and removed")
    return result
