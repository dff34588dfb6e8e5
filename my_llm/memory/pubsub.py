"""Google Cloud Pub/Sub for the message memory: configuration, one bounded publish, `my-llm flush`.

Messages reach Pub/Sub through the outbox (``my_llm.memory.outbox``): the JSONL log is
the system of record and a cursor on disk says what Pub/Sub has acknowledged, so
nothing waits in memory and a crash loses nothing. A background thread
(``my_llm.memory.pubsub_worker``) publishes after each append; ``my-llm flush`` sends
whatever is left. Each message is the log record as JSON with the string
attributes namespace, role, task and message_id: delivery is at least once and
consumers drop duplicates by id.

Every network call here has a short timeout and no hidden retries: the retrying
is ours (back-off in the background, a few attempts in ``flush_all``), so an
unreachable Pub/Sub never holds up an append, an exit or a flush for long.

Publishing is on when ``GOOGLE_CLOUD_PROJECT`` (or ``GCLOUD_PROJECT``) is set,
or when ``PUBSUB_EMULATOR_HOST`` points at the emulator (project
``my-llm-local`` unless one is set).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from my_llm.memory.message_log import MemoryStoreError, Record, encode
from my_llm.memory.outbox import DrainResult, Outbox, find_outboxes, rpc_timeout

if TYPE_CHECKING:
    from my_llm.memory.pubsub_worker import BackgroundPublisher

log = logging.getLogger("my_llm.memory")

TOPIC_PREFIX = "chat-messages-"
EMULATOR_PROJECT = "my-llm-local"
ATTRIBUTE_BYTES = 1024  # Pub/Sub's limit for an attribute value
FLUSH_TIMEOUT_S = 25.0
FLUSH_ATTEMPTS = 3
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
    """Say once per process, at debug level (it is the normal case), that publishing is off."""
    global _off_announced
    if not _off_announced:
        log.debug("Pub/Sub publishing is off: set GOOGLE_CLOUD_PROJECT or PUBSUB_EMULATOR_HOST")
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


def _attribute(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.encode("utf-8", "replace")[:ATTRIBUTE_BYTES].decode("utf-8", "ignore")  # a lone surrogate: ?


def attributes_for(record: Record) -> dict[str, str]:
    """The string attributes a subscriber can filter on; message_id is for de-duplication."""
    metadata = record.get("metadata") or {}
    return {
        "namespace": _attribute(record.get("namespace", "")),
        "role": _attribute(record.get("role", "")),
        "task": _attribute(metadata.get("task")),
        "message_id": _attribute(record["id"]),
    }


def decode_payload(data: bytes) -> Record:
    """The record inside a Pub/Sub message body."""
    return json.loads(data.decode("utf-8"))


class SubscriptionsLost(RuntimeError):
    """A topic that had subscriptions has none now: what is published would reach nobody."""


class Sender:
    """Publishes one batch per call with one bounded RPC; creates the topic when it is missing.

    Uses the GAPIC client directly: the batching client's threads and unbounded
    retries are what used to stall exits when Pub/Sub was down.

    Pub/Sub acknowledges messages to a topic without subscriptions and drops them. A
    topic can lose its subscriptions under a running process: an emulator restarted
    (it keeps no state), a topic deleted and re-created. So the topic is looked at
    again on first use and after every failure; one seen with a subscription that now
    has none is not published to (``SubscriptionsLost``): the messages wait after the
    outbox cursor until a subscription is back. A topic never seen with one (first use)
    is published to as before, and so is one whose subscriptions we may not list.
    """

    def __init__(self, project: str, emulator_host: str | None = None) -> None:
        self.project = project
        self.emulator_host = emulator_host
        self._api: Any = None
        self._ensured: set[str] = set()  # checked since the last failure
        self._subscribed: set[str] = set()  # seen with a subscription by this process

    def _client(self) -> Any:
        if self._api is None:
            from google.pubsub_v1 import PublisherClient

            if self.emulator_host:
                import grpc
                from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

                channel = grpc.insecure_channel(self.emulator_host)
                self._api = PublisherClient(transport=PublisherGrpcTransport(channel=channel))
            else:
                self._api = PublisherClient()
        return self._api

    def reset(self) -> None:
        """Drop the connection after a failure, so the next try reconnects at once.

        Topics are checked again too: Pub/Sub may have come back without them.
        """
        self._ensured.clear()
        api, self._api = self._api, None
        if api is not None:
            try:
                api.transport.close()
            except Exception as exc:  # closing a broken channel may fail too; nothing to do
                log.debug("closing the Pub/Sub channel: %s", exc)

    def _ensure(self, path: str, left: Callable[[], float]) -> None:
        """Create the topic if missing; refuse it if it lost the subscriptions it had."""
        from google.api_core import exceptions

        try:
            self._client().create_topic(name=path, timeout=left(), retry=None)
        except (exceptions.AlreadyExists, exceptions.PermissionDenied):
            pass  # PermissionDenied: allowed to publish but not to create, so an admin made it
        try:
            pager = self._client().list_topic_subscriptions(
                request={"topic": path, "page_size": 1}, timeout=left(), retry=None
            )
            subscribed = next(iter(pager), None) is not None
        except exceptions.PermissionDenied:
            subscribed = True  # we may not look: publish, as before this check
        if subscribed:
            self._subscribed.add(path)
        elif path in self._subscribed:
            raise SubscriptionsLost(
                f"{path.rsplit('/', 1)[-1]} has lost its subscriptions (Pub/Sub restarted, or "
                "they were deleted); the messages wait in the log until one exists"
            )
        self._ensured.add(path)

    def send(self, topic: str, records: list[Record], timeout: float) -> None:
        """Publish ``records`` to ``topic`` or raise, within ``timeout`` (and the RPC limit)."""
        from google.api_core import exceptions
        from google.pubsub_v1.types import PubsubMessage

        end = time.monotonic() + max(0.1, min(timeout, rpc_timeout()))

        def left() -> float:
            return max(0.05, end - time.monotonic())

        messages = [
            PubsubMessage(data=encode(r).encode("utf-8"), attributes=attributes_for(r))
            for r in records
        ]
        try:
            path = self._client().topic_path(self.project, topic)
            if path not in self._ensured:
                self._ensure(path, left)
            try:
                self._client().publish(topic=path, messages=messages, timeout=left(), retry=None)
            except exceptions.NotFound:  # deleted meanwhile (or the emulator restarted)
                self._ensure(path, left)
                self._client().publish(topic=path, messages=messages, timeout=left(), retry=None)
        except Exception:
            self.reset()
            raise


@dataclass
class FlushReport:
    """What `my-llm flush` did; ``error`` is set when something is still not delivered."""

    sent: int = 0
    namespaces: list[str] = field(default_factory=list)
    pending: int = 0
    pending_namespaces: list[str] = field(default_factory=list)
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            where = ", ".join(self.pending_namespaces) or "the old spool"
            return (
                f"Pub/Sub: {self.error}; {self.pending} messages not sent ({where}), "
                f"sent {self.sent}; they stay in the log: run my-llm flush again"
            )
        if not self.sent:
            return "nothing to send: Pub/Sub has every logged message"
        return f"sent {self.sent} messages to Pub/Sub ({', '.join(self.namespaces)})"


def emulator_host() -> str | None:
    return os.environ.get("PUBSUB_EMULATOR_HOST") or None


def _drain_with_retries(
    outbox: Outbox, sender: Sender, deadline: float, attempts: int
) -> DrainResult:
    """A few tries with a short back-off: one refused connection is not an outage."""
    result = DrainResult()
    for attempt in range(attempts):
        result = outbox.drain(sender.send, deadline, wait_for_lock=True)
        if result.done or result.busy or time.monotonic() >= deadline:
            break
        if attempt + 1 < attempts:
            time.sleep(min(0.5 * 2**attempt, max(0.0, deadline - time.monotonic())))
    return result


def flush_all(
    root: Path, project: str | None = None, timeout: float = FLUSH_TIMEOUT_S
) -> FlushReport:
    """Send everything not yet acknowledged under ``root`` (what `my-llm flush` runs).

    Gives up after ``timeout`` seconds, or after a few failed attempts when Pub/Sub
    refuses: what is not sent stays after the cursors, for the next flush.
    """
    from my_llm.memory.legacy_spool import drain_legacy_spool, spool_files

    project = project or pubsub_project()
    if not project:
        raise MemoryStoreError(
            "Pub/Sub is not configured: set GOOGLE_CLOUD_PROJECT (or PUBSUB_EMULATOR_HOST) to flush"
        )
    sender = Sender(project, emulator_host())
    deadline = time.monotonic() + timeout
    report = FlushReport()
    attempts = FLUSH_ATTEMPTS
    if spool_files(root):
        spooled = drain_legacy_spool(root, sender.send, rpc_timeout())
        report.sent += spooled.sent
        report.error = spooled.error
        attempts = 1 if spooled.error else attempts
    for outbox in find_outboxes(root):
        result = _drain_with_retries(outbox, sender, deadline, attempts)
        if result.sent:
            report.sent += result.sent
            report.namespaces.append(outbox.namespace)
        if not result.done:
            attempts = 1  # Pub/Sub is failing: one quick try for each of the others
            report.error = report.error or (
                "another process is still publishing" if result.busy else result.error
            )
            report.pending += outbox.backlog_count()
            report.pending_namespaces.append(outbox.namespace)
    sender.reset()
    return report


_publishers: dict[tuple[str, str], BackgroundPublisher] = {}
_publishers_lock = threading.Lock()


def get_publisher(project: str | None = None) -> BackgroundPublisher | None:
    """The process-wide background publisher for the configured project, or None when off."""
    project = project or pubsub_project()
    if not project:
        announce_off()
        return None
    host = emulator_host()
    key = (project, host or "")
    with _publishers_lock:
        publisher = _publishers.get(key)
        if publisher is None:
            from my_llm.memory.pubsub_worker import BackgroundPublisher

            publisher = _publishers[key] = BackgroundPublisher(Sender(project, host))
        return publisher


def exit_wait() -> float:
    """Seconds a process may spend at exit on a last publish (``MY_LLM_PUBSUB_EXIT_WAIT``)."""
    try:
        return max(0.0, float(os.environ.get("MY_LLM_PUBSUB_EXIT_WAIT", "1")))
    except ValueError:
        return 1.0


@atexit.register
def _close_all() -> None:
    """One bounded last attempt per publisher; the rest stays in the log for later."""
    deadline = time.monotonic() + exit_wait()
    for publisher in list(_publishers.values()):
        try:
            publisher.close(max(0.0, deadline - time.monotonic()))
        except Exception as exc:  # never turn exit into a crash
            log.debug("Pub/Sub shutdown: %s", exc)
