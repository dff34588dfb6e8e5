"""What the property tests (tests/test_fuzz_*.py) share: example budgets, a hang guard, the one-line rule.

The Hypothesis profiles themselves are registered in tests/conftest.py (``ci``, the default, and
``long``; chosen with HYPOTHESIS_PROFILE). A target whose examples cost a file system walk or an
HTTP round trip takes a fraction of the profile's budget (`budget`), so the whole fuzz stage stays
inside its time in CI and still scales with the profile in a long run.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from hypothesis import settings

from my_llm.errors import MyLLMError


def budget(fraction: float = 1.0, **overrides: object) -> settings:
    """The loaded profile's settings with ``fraction`` of its examples (at least 5)."""
    base = settings()
    return settings(base, max_examples=max(5, round(base.max_examples * fraction)), **overrides)  # type: ignore[arg-type]


class Hang(AssertionError):
    """An input made the code under test run past its time limit (an endless loop, say)."""


@contextlib.contextmanager
def time_limit(seconds: float = 10.0) -> Iterator[None]:
    """Fail with `Hang` when the block runs longer than ``seconds`` (SIGALRM: main thread only).

    Generous on purpose: the machine may be busy with a benchmark; a hang is an endless loop,
    not a slow example.
    """
    def expire(_signum: int, _frame: object) -> None:
        raise Hang(f"still running after {seconds:g} s: an endless loop?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def one_line(exc: BaseException) -> str:
    """The error's text, checked to be the one line a CLI prints."""
    text = str(exc)
    assert text.strip(), f"{type(exc).__name__} with no message"
    assert "\n" not in text and "\r" not in text, f"{type(exc).__name__} spans lines: {text!r}"
    return text


def refused_in_one_line(exc: BaseException, *kinds: type[BaseException]) -> str:
    """A refusal must be one of the documented error types (MyLLMError unless told) and one line."""
    allowed = kinds or (MyLLMError,)
    assert isinstance(exc, allowed), f"{type(exc).__name__} escaped: {exc!r}"
    return one_line(exc)
