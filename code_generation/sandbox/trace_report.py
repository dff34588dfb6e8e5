"""A runtime trace of one failing test: read from the sandbox's report, written as feedback.

The trace run (`runner.run_trace`, `_sandbox_trace.py`) executes the code under test with a
line tracer, and everything it reports came out of that code: reprs of its values, names it
chose. So it is untrusted text: each piece is checked for its type, cut short and stripped of
control characters here, before any of it can reach a prompt, and the whole is trimmed to a
budget. Showing the values a wrong program computed, line by line, lets a model see where its
logic departs from the expected result, which a test's message alone (expected X, got Y) does
not show (LDB, Zhong et al. 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CALLS = 4  # calls read from a report
MAX_STEPS = 16  # steps read per part of a call
MAX_VALUES = 6  # values read per step
VALUE_CHARS = 60
NAME_CHARS = 40
SOURCE_CHARS = 72  # characters of a source line shown
MAX_INDENT = 16
# (first steps, last steps, earlier calls) shown, most first: the first shape that fits the budget.
SHAPES = ((4, 8, 3), (3, 6, 2), (2, 4, 1), (1, 3, 0), (0, 2, 0), (0, 1, 0))


@dataclass(frozen=True)
class Step:
    """A line that ran, in `function`, and the local values it changed (name, repr)."""

    function: str
    line: int
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TracedCall:
    """One call the test made into the module: its arguments, first and last lines, and result."""

    function: str
    args: tuple[tuple[str, str], ...]
    first: tuple[Step, ...]
    last: tuple[Step, ...]
    skipped: int  # lines that ran between `first` and `last`
    result: str  # the repr of the value returned, or "Type: message" of the exception raised
    raised: bool


@dataclass(frozen=True)
class Trace:
    """What the trace run of one test saw; `status` "ok" when it reported, else why not."""

    test: str
    status: str  # "ok" | "timeout" | "not_found" | "no_trace"
    message: str = ""
    outcome: str = ""  # the test's outcome in the traced run: "failed", "error" or "passed"
    calls: tuple[TracedCall, ...] = ()
    calls_before: int = 0  # calls into the module before the first one in `calls`
    cut: bool = False  # too many lines ran: the later ones were not recorded


def clean(value: object, limit: int) -> str:
    """A string from the sandbox, cut to `limit` characters, non-printable ones escaped."""
    text = value if isinstance(value, str) else ""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[: 2 * limit])
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def _count(value: object, high: int = 10**9) -> int:
    return min(max(value, 0), high) if type(value) is int else 0


def _items(value: object, limit: int) -> list:
    return list(value[:limit]) if isinstance(value, list) else []


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    pairs = [p for p in _items(value, MAX_VALUES) if isinstance(p, list) and len(p) == 2]
    return tuple((clean(name, NAME_CHARS), clean(shown, VALUE_CHARS)) for name, shown in pairs)


def _steps(value: object) -> tuple[Step, ...]:
    steps = [s for s in _items(value, MAX_STEPS) if isinstance(s, list) and len(s) == 3]
    return tuple(Step(clean(s[0], NAME_CHARS), _count(s[1]), _pairs(s[2])) for s in steps)


def _call(data: dict) -> TracedCall:
    return TracedCall(clean(data.get("function"), NAME_CHARS), _pairs(data.get("args")), _steps(data.get("first")),
                      _steps(data.get("last")), _count(data.get("skipped")), clean(data.get("result"), VALUE_CHARS * 2),
                      data.get("raised") is True)


def parse_trace(events: list[dict], test: str, status: str, message: str = "") -> Trace:
    """The trace run's report (its signed events, and the run's status), as checked data."""
    test = clean(test, 200)
    found = [e for e in events if e.get("event") == "trace" and not e.get("_from_init")]
    if not found:
        return Trace(test, "timeout" if status == "timeout" else "no_trace", clean(message, 300))
    event = found[-1]
    if event.get("found") is not True:
        return Trace(test, "not_found", "the test was not found in the trace run")
    calls = tuple(_call(c) for c in _items(event.get("calls"), MAX_CALLS) if isinstance(c, dict))
    return Trace(test, "ok", outcome=clean(event.get("outcome"), 10), calls=calls,
                 calls_before=_count(event.get("calls_before")), cut=event.get("cut") is True)


def _signature(call: TracedCall) -> str:
    return f"{call.function}({', '.join(f'{name}={shown}' for name, shown in call.args)})"


def _outcome(call: TracedCall) -> str:
    return f"`{_signature(call)}` {'raised' if call.raised else 'returned'} {call.result or '?'}"


def _step_line(step: Step, function: str, source: list[str]) -> str:
    """The line's source, indented as in the code so the loops show, and the values it changed."""
    code = source[step.line - 1].expandtabs(4).rstrip() if 0 < step.line <= len(source) else f"(line {step.line})"
    indent = " " * min(len(code) - len(code.lstrip()), MAX_INDENT)
    where = "" if step.function == function else f"[in {step.function}] "
    values = ", ".join(f"{name}={shown}" for name, shown in step.values)
    return f"  {indent}{where}{clean(code.lstrip(), SOURCE_CHARS)}" + (f"    # {values}" if values else "")


def _compose(trace: Trace, source: list[str], first: int, last: int, earlier: int) -> str:
    focus = trace.calls[-1]
    shown_first, shown_last = focus.first[:first], focus.last[-last:] if last else ()
    hidden = focus.skipped + len(focus.first) - len(shown_first) + len(focus.last) - len(shown_last)
    lines = [f"Runtime trace of the failing test {trace.test}, run again on this code: the lines of its "
             f"last call{' before the failure' if trace.outcome == 'failed' else ''}, each with the values "
             f"it changed (# name=value).", f"{_outcome(focus)}:"]
    lines += [_step_line(s, focus.function, source) for s in shown_first]
    if hidden:
        lines.append(f"  [... {hidden} more lines ran ...]")
    lines += [_step_line(s, focus.function, source) for s in shown_last]
    if trace.cut:
        lines.append("  [tracing stopped after too many lines: the last lines shown ran before that]")
    before = trace.calls[:-1][-earlier:] if earlier else ()
    if before:
        lines.append("Earlier calls in the test: " + "; ".join(_outcome(c) for c in before) + ".")
    return "\n".join(lines)


def render(trace: Trace, source: str, budget: int) -> str:
    """The trace as a paragraph of feedback of at most `budget` characters; "" when there is nothing to show."""
    if trace.status != "ok" or not trace.calls or trace.outcome == "passed" or budget <= 0:
        return ""
    lines = source.splitlines()
    text = ""
    for first, last, earlier in SHAPES:
        text = _compose(trace, lines, first, last, earlier)
        if len(text) <= budget:
            return text
    return text[: max(0, budget - 4)] + " ..."
