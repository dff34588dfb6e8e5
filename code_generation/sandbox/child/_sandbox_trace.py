"""A line tracer for one test, inside the sandbox, for feedback only (see runner.run_trace).

The judging run never traces: its guard counts a trace function as tampering, since one can
skip lines of the tests. This is a separate run of one failing test, and what it reports only
becomes text for the model, so nothing in it can change a verdict. For each call the test
makes into the module under test it records the arguments, the first and the last few lines
that ran (with the local values each line changed) and what the call returned or raised.

Everything is bounded inside the sandbox as well as outside: values are reprs cut to a few
dozen characters, only the last few calls are kept, and after MAX_LINES traced lines no more
lines are recorded (tracing slows the code down many times; the wall-clock limit still holds).

Standard library only (see _sandbox_harness.py).
"""

from __future__ import annotations

import reprlib
import sys
import types
import unittest
from collections import deque

FIRST_STEPS = 4  # lines kept from the start of a call
LAST_STEPS = 8  # lines kept from its end
KEPT_CALLS = 4  # calls into the module reported (the failing one and those before it)
MAX_LINES = 20_000  # lines traced before line events are turned off
MAX_NAMES = 12  # local variables looked at per frame
NAME_CHARS = 40
MAX_VALUES = 6  # changed values reported per line


def _short_repr() -> reprlib.Repr:
    """Reprs of at most a few dozen characters, whatever the value holds."""
    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother, short.maxlong = 2, 48, 48, 40
    short.maxlist = short.maxtuple = short.maxset = short.maxfrozenset = short.maxdeque = short.maxarray = 6
    short.maxdict = 4
    return short


class _Call:
    """One call the test made into the module, with the frames it ran below it."""

    __slots__ = ("index", "function", "args", "first", "last", "steps", "result", "raised")

    def __init__(self, index: int, function: str, args: list[list[str]]) -> None:
        self.index = index
        self.function = function
        self.args = args
        self.first: list[list] = []
        self.last: deque[list] = deque(maxlen=LAST_STEPS)
        self.steps = 0
        self.result: str | None = None
        self.raised = False

    def report(self) -> dict:
        return {"function": self.function, "args": self.args, "first": self.first, "last": list(self.last),
                "skipped": self.steps - len(self.first) - len(self.last), "result": self.result,
                "raised": self.raised}


class Recorder:
    """sys.settrace hooks that follow only frames of one file (the module under test).

    Per traced frame: the call it belongs to, the reprs of its locals after the last line, the
    line about to run, and the exception it is propagating (cleared by the next line).
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.calls: deque[_Call] = deque(maxlen=KEPT_CALLS + 1)
        self.started = 0  # calls into the module so far
        self.frames: dict[types.FrameType, list] = {}
        self.lines = 0
        self.cut = False
        self.repr = _short_repr()

    def show(self, value: object) -> str:
        try:
            return self.repr.repr(value)
        except Exception as exc:  # noqa: BLE001 - a broken __repr__ is the code's, not ours
            return f"<repr failed: {type(exc).__name__}>"

    def values(self, frame: types.FrameType) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name, value in list(frame.f_locals.items())[:MAX_NAMES]:
            if not name.startswith((".", "__")):
                shown[name[:NAME_CHARS]] = self.show(value)
        return shown

    def _owner(self, frame: types.FrameType) -> list | None:
        back = frame.f_back
        while back is not None:
            if back in self.frames:
                return self.frames[back]
            back = back.f_back
        return None

    def on_call(self, frame: types.FrameType, event: str, arg: object) -> object:
        """The global hook: a new frame of the module is followed; any other is not."""
        code = frame.f_code
        if event != "call" or code.co_filename != self.filename or code.co_name.startswith("<"):
            return None  # comprehensions and lambdas: their lines are noise, their values short-lived
        owner = self._owner(frame)
        before = self.values(frame)
        if owner is None:  # the test called into the module
            count = code.co_argcount + code.co_kwonlyargcount
            names = code.co_varnames[:count]
            call = _Call(self.started, code.co_name[:NAME_CHARS], [[n, before[n]] for n in names if n in before])
            self.started += 1
            self.calls.append(call)
        else:
            call = owner[0]
        self.frames[frame] = [call, before, None, None, owner is None]
        if self.cut:
            frame.f_trace_lines = False
        return self.on_event

    def on_event(self, frame: types.FrameType, event: str, arg: object) -> object:
        """The local hook: a line ran, an exception passes, or the frame returns."""
        state = self.frames.get(frame)
        if state is None:
            return None
        if event == "line":
            self._step(frame, state)
            state[2], state[3] = frame.f_lineno, None
            self.lines += 1
            if self.lines >= MAX_LINES:
                self._stop()
        elif event == "exception" and isinstance(arg, tuple) and arg:
            state[3] = f"{getattr(arg[0], '__name__', 'exception')[:NAME_CHARS]}: {self.show(arg[1])}"
        elif event == "return":
            self._step(frame, state)
            del self.frames[frame]
            if state[4]:
                call = state[0]
                call.raised = state[3] is not None
                call.result = state[3] if call.raised else self.show(arg)
        return self.on_event

    def _step(self, frame: types.FrameType, state: list) -> None:
        """The line that just ran, with the values it changed."""
        if state[2] is None or self.cut:
            return
        now = self.values(frame)
        changed = [[k, v] for k, v in now.items() if state[1].get(k) != v][:MAX_VALUES]
        state[1] = now
        call = state[0]
        call.steps += 1
        step = [frame.f_code.co_name[:NAME_CHARS], state[2], changed]
        if len(call.first) < FIRST_STEPS:
            call.first.append(step)
        else:
            call.last.append(step)

    def _stop(self) -> None:
        """Too many lines: stop recording them (calls and returns are still followed)."""
        self.cut = True
        for frame in self.frames:
            frame.f_trace_lines = False


class _Result(unittest.TestResult):
    """Notes how many calls into the module were made when the test first failed."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.outcome = "passed"
        self.failed_at: int | None = None

    def _note(self, outcome: str) -> None:
        if self.failed_at is None:
            self.failed_at, self.outcome = self.recorder.started, outcome

    def addFailure(self, test, err) -> None:  # noqa: N802 - unittest's name
        self._note("failed")
        super().addFailure(test, err)

    def addError(self, test, err) -> None:  # noqa: N802
        self._note("error")
        super().addError(test, err)

    def addSubTest(self, test, subtest, err) -> None:  # noqa: N802
        if err is not None:
            failure = issubclass(err[0], getattr(test, "failureException", AssertionError))
            self._note("failed" if failure else "error")
        super().addSubTest(test, subtest, err)


def trace_case(test: unittest.TestCase, filename: str) -> dict:
    """Run one test with the tracer on `filename`; the calls up to its first failure, as plain data."""
    recorder = Recorder(filename)
    result = _Result(recorder)
    sys.settrace(recorder.on_call)  # type: ignore[arg-type]  # (typing is not imported in the sandbox)
    try:
        unittest.TestSuite([test]).run(result)  # a suite runs setUpClass and setUpModule too
    finally:
        sys.settrace(None)
    last = recorder.started if result.failed_at is None else result.failed_at
    calls = [c for c in recorder.calls if c.index < last][-KEPT_CALLS:]
    return {"outcome": result.outcome, "calls_before": calls[0].index if calls else 0, "cut": recorder.cut,
            "calls": [c.report() for c in calls]}
