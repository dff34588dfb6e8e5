"""Helpers shared by test modules."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def fails_if_blocked(seconds: int = 20) -> Iterator[None]:
    """A read that blocks on a FIFO fails the test after ``seconds`` instead of hanging CI."""

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for {seconds} s: a FIFO was opened")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
