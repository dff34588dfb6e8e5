"""The background publisher: drains outboxes off the caller's thread and never holds up exit.

One daemon thread per process and project. An append only sets a flag, so the
append path never touches the network. The thread drains the outboxes of the
histories opened in this process (and, once per history root, every other
outbox and the old spool: leftovers of crashed or offline runs), backs off
while Pub/Sub fails (0.5 s doubling to 30 s), and looks for appends by other
processes every few seconds. At exit it gets one bounded last attempt; being a
daemon thread, an unfinished call is simply abandoned: the lines stay after the
cursor and go out with the next run or `my-llm flush`.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Protocol

from my_llm.memory.message_log import Record
from my_llm.memory.outbox import Outbox, find_outboxes, rpc_timeout

log = logging.getLogger("my_llm.memory")


class Sender(Protocol):
    """What the publisher needs of `my_llm.memory.pubsub.Sender` (named here: pubsub imports this module)."""

    def send(self, topic: str, records: list[Record], timeout: float) -> None: ...


IDLE_POLL_S = 2.0
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
PASS_BUDGET_S = 60.0

Key = tuple[str, str, str]


class BackgroundPublisher:
    """Publishes registered outboxes in a daemon thread (see the module docstring)."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self._own: dict[Key, Outbox] = {}  # histories opened in this process
        self._others: dict[Key, Outbox] = {}  # found under their roots
        self._touched: set[Key] = set()  # appended to by this process
        self._new_roots: list[Path] = []
        self._spool_roots: set[Path] = set()
        self._seen_roots: set[Path] = set()
        self._cond = threading.Condition()
        self._wake = False
        self._urgent = False
        self._requested = 0
        self._completed = 0
        self._failures = 0
        self._retry_at = 0.0
        self._next_poll = 0.0
        self._exit_deadline: float | None = None
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="my-llm-pubsub", daemon=True)
        self._thread.start()

    # -- caller side ---------------------------------------------------------------------------
    def register(self, outbox: Outbox) -> None:
        """Publish this outbox from now on (and look around its root once)."""
        with self._cond:
            self._own.setdefault(outbox.key, outbox)
            if outbox.root not in self._seen_roots:
                self._seen_roots.add(outbox.root)
                self._new_roots.append(outbox.root)
            self._wake = True
            self._cond.notify_all()

    def notify(self, outbox: Outbox) -> None:
        """Lines were appended: publish soon. Returns at once."""
        with self._cond:
            self._touched.add(outbox.key)
            self._wake = True
            self._cond.notify_all()

    def flush(self, outbox: Outbox, timeout: float | None = 30.0) -> bool:
        """Try now (even while backing off); True when everything of ``outbox`` is acknowledged."""
        self._request(timeout)
        return not outbox.has_backlog()

    def close(self, budget: float) -> None:
        """At exit: one last attempt of at most ``budget`` seconds, then one warning if needed."""
        with self._cond:
            mine = [self._own[k] for k in self._touched if k in self._own]
        if not any(o.has_backlog() for o in mine):
            return
        with self._cond:
            self._exit_deadline = time.monotonic() + budget
        self._request(budget)
        left = [o for o in mine if o.has_backlog()]
        if left:
            count = sum(o.backlog_count() for o in left)
            log.warning(
                "%d messages not yet on Pub/Sub (%s); they stay in the log and go out with "
                "the next run or `my-llm flush`",
                count,
                self.last_error or "no answer in time",
            )

    def _request(self, timeout: float | None) -> bool:
        """Ask for an immediate pass and wait for it, at most ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._requested += 1
            wanted = self._requested
            self._urgent = self._wake = True
            self._cond.notify_all()
            while self._completed < wanted:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    # -- the thread ----------------------------------------------------------------------------
    def _due(self, now: float) -> bool:
        if self._urgent:
            return True
        if now < self._retry_at:
            return False
        return self._wake or bool(self._new_roots) or self._failures > 0 or now >= self._next_poll

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due(now := time.monotonic()):
                    until = self._retry_at if now < self._retry_at else self._next_poll
                    self._cond.wait(max(0.01, until - now))
                wanted, urgent = self._requested, self._urgent
                self._urgent = self._wake = False
                roots, self._new_roots = self._new_roots, []
                outboxes = list(self._own.values())
            try:
                if self._pass(outboxes, roots, urgent):
                    self._recovered()
            except Exception as exc:  # the thread must survive anything; the log keeps all
                self._failed(f"{type(exc).__name__}: {exc}")
            with self._cond:
                self._next_poll = time.monotonic() + IDLE_POLL_S
                self._completed = max(self._completed, wanted)
                self._cond.notify_all()

    def _pass(self, outboxes: list[Outbox], roots: list[Path], urgent: bool) -> bool:
        """Drain what waits; False (and back off) at the first failure."""
        for root in roots:
            for found in find_outboxes(root):
                if found.key not in self._own:
                    self._others.setdefault(found.key, found)
            self._spool_roots.add(root)
        deadline = self._exit_deadline or time.monotonic() + PASS_BUDGET_S
        if not self._drain_spools():
            return False
        for outbox in outboxes + list(self._others.values()):
            if not outbox.has_backlog():
                continue
            result = outbox.drain(self.sender.send, deadline, wait_for_lock=urgent)
            if result.error:
                self._failed(result.error)
                return False  # Pub/Sub is failing: back off instead of trying every outbox
            log.debug("Pub/Sub: %d messages of %r sent", result.sent, outbox.namespace)
        return True

    def _drain_spools(self) -> bool:
        from my_llm.memory.legacy_spool import drain_legacy_spool, spool_files

        for root in list(self._spool_roots):
            if spool_files(root):
                result = drain_legacy_spool(root, self.sender.send, rpc_timeout())
                if result.error:
                    self._failed(result.error)
                    return False
            self._spool_roots.discard(root)
        return True

    def _failed(self, error: str) -> None:
        self._failures += 1
        self.last_error = error
        self._retry_at = time.monotonic() + min(
            BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** (self._failures - 1)
        )
        log.debug("Pub/Sub publish failed (%s); retrying in the background", error)

    def _recovered(self) -> None:
        if self._failures:
            log.debug("Pub/Sub reachable again")
        self._failures = 0
        self._retry_at = 0.0
        self.last_error = None
