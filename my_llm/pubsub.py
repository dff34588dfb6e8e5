"""Publishing message records to Google Cloud Pub/Sub, with a disk spool for outages.

The caller never waits on the network: records go on an in-process queue and a
single background thread publishes them with the client's batching. Whatever
cannot be published (Pub/Sub down, topic refused, timeout, process exiting) is
appended to ``$MESSAGE_HISTORY/.pubsub_spool/<topic>.jsonl`` and sent later,
when a history is next constructed or by ``my-llm flush``. The JSONL log was
written before any of this, so a crash can at worst delay a publish, never lose
the message itself.

Publishing is on when ``GOOGLE_CLOUD_PROJECT`` (or ``GCLOUD_PROJECT``) is set,
or when ``PUBSUB_EMULATOR_HOST`` points at the emulator (project
``my-llm-local`` unless one is set). Delivery is at least once: consumers
de-duplicate on the ``message_id`` attribute.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from my_llm.message_log import MemoryStoreError, Record, append_lines, encode, locked_append_fd

log = logging.getLogger("my_llm.memory")

TOPIC_PREFIX = "chat-messages-"
EMULATOR_PROJECT = "my-llm-local"
SPOOL_DIRNAME = ".pubsub_spool"
_off_announced = False


def pubsub_project() -> str | None:
    """The project to publish to, or None when Pub/Sub is not configured."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCLOUD_PROJECT")
    if project:
        return project
    if os.environ.get("PUBSUB_EMULATOR_HOST"):
        return EMULATOR_PROJECT
    return None


def announce_off() -> None:
    """One info line per process when publishing is off."""
    global _off_announced
    if not _off_announced:
        log.info("Pub/Sub publishing is off: set GOOGLE_CLOUD_PROJECT or PUBSUB_EMULATOR_HOST")
        _off_announced = True


def topic_for(namespace: str, pubsub_topic: str | None = None) -> str:
    """``chat-messages-<namespace>`` unless a topic is given; checked against Pub/Sub's rules."""
    topic = pubsub_topic or f"{TOPIC_PREFIX}{namespace}"
    if "/" in topic:  # accept a full projects/<p>/topics/<t> path
        topic = topic.rsplit("/", 1)[-1]
    ok = 3 <= len(topic) <= 255 and topic[0].isalpha() and not topic.lower().startswith("goog")
    ok = ok and all(c.isalnum() or c in "-_.~+%" for c in topic)
    if not ok:
        raise MemoryStoreError(
            f"bad Pub/Sub topic {topic!r}: 3-255 letters, digits or -_.~+%, starting with a letter"
        )
    return topic


def spool_dir(root: Path) -> Path:
    return Path(root) / SPOOL_DIRNAME


def publish_timeout() -> float:
    """Seconds one publish may take before its batch goes to the spool."""
    try:
        return max(0.5, float(os.environ.get("MY_LLM_PUBSUB_TIMEOUT", "10")))
    except ValueError:
        return 10.0


def attributes_for(record: Record) -> dict[str, str]:
    metadata = record.get("metadata") or {}
    task = metadata.get("task")
    return {
        "namespace": str(record.get("namespace", "")),
        "role": str(record.get("role", "")),
        "task": "" if task is None else str(task),
        "message_id": str(record["id"]),
    }


def spool(root: Path, topic: str, records: Sequence[Record]) -> None:
    """Keep records for a later publish (locked append, fsync'd)."""
    if records:
        append_lines(spool_dir(root) / f"{topic}.jsonl", [encode(r) for r in records])


@dataclass
class FlushReport:
    """What one spool flush did."""

    sent: int = 0
    spooled: int = 0
    topics: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Publisher:
    """One background publisher per process and project (see module docstring)."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._queue: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self._client: Any = None
        self._ensured: set[str] = set()
        self._down_until = 0.0
        self._thread = threading.Thread(target=self._run, name="my-llm-pubsub", daemon=True)
        self._thread.start()
        self._closed = False

    # -- caller side -------------------------------------------------------------------------
    def submit(self, root: Path, topic: str, records: Sequence[Record]) -> None:
        """Queue records for publishing; returns at once."""
        if self._closed:
            spool(root, topic, records)
            return
        self._queue.put(("publish", (Path(root), topic), list(records)))

    def submit_flush(self, root: Path) -> None:
        """Send whatever is spooled under ``root``, in the background."""
        if not self._closed:
            self._queue.put(("flush", Path(root), None))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued so far is published or spooled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout: float = 15.0) -> None:
        """At exit: give the queue a little time, then spool what is left."""
        self.wait(timeout)
        self._closed = True
        while True:
            try:
                kind, target, records = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == "publish":
                root, topic = target
                spool(root, topic, records)
            self._queue.task_done()

    # -- worker side -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            kind, target, records = self._queue.get()
            try:
                if kind == "publish":
                    root, topic = target
                    batch = list(records)
                    # Merge whatever else is waiting for the same topic: fewer round trips.
                    while len(batch) < 1000:
                        try:
                            nxt = self._queue.get_nowait()
                        except queue.Empty:
                            break
                        if nxt[0] == "publish" and nxt[1] == target:
                            batch.extend(nxt[2])
                            self._queue.task_done()
                        else:
                            self._queue.put(nxt)
                            self._queue.task_done()
                            break
                    self._publish_or_spool(root, topic, batch)
                elif kind == "flush":
                    self.flush_spool(target)
            except Exception as exc:  # the worker must survive anything
                log.warning("Pub/Sub worker error: %s", exc)
                if kind == "publish":
                    spool(target[0], target[1], records)
            finally:
                self._queue.task_done()

    def client(self) -> Any:
        if self._client is None:
            from google.cloud import pubsub_v1

            settings = pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.02)
            self._client = pubsub_v1.PublisherClient(batch_settings=settings)
        return self._client

    def _ensure_topic(self, topic: str) -> str:
        from google.api_core import exceptions

        client = self.client()
        path = client.topic_path(self.project, topic)
        if path in self._ensured:
            return path
        try:
            client.create_topic(name=path, timeout=publish_timeout())
        except exceptions.AlreadyExists:
            pass
        except exceptions.PermissionDenied:
            # Allowed to publish but not to create: assume an admin made the topic.
            pass
        self._ensured.add(path)
        return path

    def publish(self, topic: str, records: Sequence[Record]) -> list[Record]:
        """Publish now and wait; returns the records that failed."""
        from google.api_core import exceptions
        from google.api_core import retry as retries

        if not records:
            return []
        timeout = publish_timeout()
        path = self._ensure_topic(topic)
        client = self.client()
        retry = retries.Retry(initial=0.1, maximum=1.0, timeout=timeout)
        futures = [
            (
                r,
                client.publish(
                    path,
                    encode(r).encode("utf-8"),
                    retry=retry,
                    timeout=timeout,
                    **attributes_for(r),
                ),
            )
            for r in records
        ]
        failed: list[Record] = []
        first_error: BaseException | None = None
        for record, future in futures:
            try:
                future.result(timeout=timeout + 5)
            except Exception as exc:
                failed.append(record)
                first_error = first_error or exc
                if isinstance(exc, exceptions.NotFound):
                    self._ensured.discard(path)
        if failed:
            log.warning(
                "Pub/Sub: %d of %d messages to %s not sent (%s); spooled",
                len(failed),
                len(records),
                topic,
                _short(first_error),
            )
        return failed

    def _publish_or_spool(self, root: Path, topic: str, records: list[Record]) -> None:
        if time.monotonic() < self._down_until:
            spool(root, topic, records)
            return
        try:
            failed = self.publish(topic, records)
        except Exception as exc:
            log.warning("Pub/Sub unavailable (%s); %d messages spooled", _short(exc), len(records))
            failed = records
        if failed:
            self._down_until = time.monotonic() + 30.0  # don't stall every batch on a dead server
            spool(root, topic, failed)

    def flush_spool(self, root: Path) -> FlushReport:
        """Publish every spooled record under ``root``; failures go back to the spool."""
        report = FlushReport()
        directory = spool_dir(root)
        if not directory.is_dir():
            return report
        self._down_until = 0.0
        for claimed, topic in _claim_spool_files(directory):
            with claimed as (path, records):
                try:
                    failed = self.publish(topic, records)
                except Exception as exc:
                    report.errors.append(f"{topic}: {_short(exc)}")
                    failed = records
                if failed:
                    spool(root, topic, failed)
                report.sent += len(records) - len(failed)
                report.spooled += len(failed)
                if topic not in report.topics:
                    report.topics.append(topic)
        return report


def _short(exc: BaseException | None) -> str:
    text = str(exc).splitlines()[0] if exc is not None and str(exc) else type(exc).__name__
    return text[:200]


class _Claim:
    """A spool file renamed aside and locked by us while it is being sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def acquire(self) -> bool:
        try:
            self.fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another flusher is sending it
            os.close(self.fd)
            return False
        if not self.path.exists():  # finished by someone between open and lock
            os.close(self.fd)
            return False
        return True

    def __enter__(self) -> tuple[Path, list[Record]]:
        from my_llm.message_log import iter_records

        return self.path, list(iter_records(self.path))

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.path.unlink(missing_ok=True)
        os.close(self.fd)


def _claim_spool_files(directory: Path) -> list[tuple[_Claim, str]]:
    """Take each spool file (and orphans of crashed flushers) for sending."""
    for path in sorted(directory.glob("*.jsonl")):
        try:
            with locked_append_fd(path):  # writers wait while we move it aside
                if path.stat().st_size == 0:
                    path.unlink()
                    continue
                os.rename(path, path.with_name(f"{path.name}.{uuid.uuid4().hex}.sending"))
        except FileNotFoundError:
            continue
    claims = []
    for path in sorted(directory.glob("*.jsonl.*.sending")):
        claim = _Claim(path)
        if claim.acquire():
            claims.append((claim, path.name.split(".jsonl.", 1)[0]))
    return claims


def spooled_count(root: Path) -> int:
    """Messages waiting in the spool (for `my-llm flush` and tests)."""
    directory = spool_dir(root)
    if not directory.is_dir():
        return 0
    total = 0
    for path in list(directory.glob("*.jsonl")) + list(directory.glob("*.sending")):
        try:
            with open(path, "rb") as handle:
                total += sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            continue
    return total


_publishers: dict[tuple[str, str], Publisher] = {}
_publishers_lock = threading.Lock()


def get_publisher(project: str | None = None) -> Publisher | None:
    """The process-wide publisher for the configured project, or None when off."""
    project = project or pubsub_project()
    if not project:
        announce_off()
        return None
    key = (project, os.environ.get("PUBSUB_EMULATOR_HOST", ""))
    with _publishers_lock:
        publisher = _publishers.get(key)
        if publisher is None:
            publisher = _publishers[key] = Publisher(project)
        return publisher


@atexit.register
def _close_all() -> None:
    for publisher in list(_publishers.values()):
        try:
            publisher.close(timeout=float(os.environ.get("MY_LLM_PUBSUB_EXIT_WAIT", "15")))
        except Exception as exc:  # never turn exit into a crash
            log.warning("Pub/Sub shutdown: %s", exc)


def flush_spool(
    root: Path, project: str | None = None, timeout: float | None = None
) -> FlushReport:
    """Send everything spooled under ``root`` now (what `my-llm flush` runs)."""
    publisher = get_publisher(project)
    if publisher is None:
        raise MemoryStoreError(
            "Pub/Sub is not configured: set GOOGLE_CLOUD_PROJECT (or PUBSUB_EMULATOR_HOST) to flush"
        )
    publisher.wait(timeout)
    return publisher.flush_spool(Path(root))


def decode_payload(data: bytes) -> Record:
    """The record inside a Pub/Sub message body."""
    return json.loads(data.decode("utf-8"))
