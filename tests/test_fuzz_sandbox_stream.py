"""Property tests: the sandbox's results stream and cargo's diagnostics, as the runner reads them.

The stream comes out of a process that runs untrusted code. Any bytes (cut anywhere, as a kill or
the 8 MB cap cuts them) are read without a traceback and never as a pass; an honest report (built
here as the harness builds it) passes exactly when every test did; and an honest report with one
event garbled (a field of another type, a line lost, repeated, reordered, altered or added) is
refused. cargo's diagnostics (JSON events) of any shape become diagnostics, feedback and compiler
fixes without a traceback.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from code_generation.languages.rust import feedback
from code_generation.languages.rust.diagnostics import Paths, cargo_result
from code_generation.languages.rust.fixes import fixed_module
from code_generation.sandbox.verdict import RunFacts, SandboxResult, Secret, interpret, read_events
from tests.fuzzing import budget, time_limit

SECRET = Secret(b"k" * 32, b"i" * 32, ("n" * 32, "m" * 32), 7, 42)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10,
)
KINDS = ["setup", "collected", "start", "case", "done", "child_exit", "tampered", "refused", "import_error",
         "import_exit", "build_failed", "timeout", "harness_error", "cpu_limit", "diagnostic", "trace", "other"]


def _line(event: dict[str, Any], key: bytes) -> bytes:
    body = json.dumps(event).encode()
    return hashlib.blake2b(body, key=key, digest_size=16).hexdigest().encode() + b" " + body + b"\n"


def _sign(events: list[tuple[bytes, dict[str, Any]]], renumber: bool = True) -> list[bytes]:
    """The harness's lines: each key numbers its own events from 0, as the Channel does."""
    seqs: dict[bytes, int] = {}
    lines = []
    for key, event in events:
        if renumber:
            event = {**event, "seq": seqs.setdefault(key, 0)}
            seqs[key] += 1
        lines.append(_line(event, key))
    return lines


def _honest(outcomes: list[tuple[str, str]]) -> list[tuple[bytes, dict[str, Any]]]:
    """What _sandbox_harness.py and _sandbox_init.py report for a run with these results."""
    h, i = SECRET.key, SECRET.init_key
    events = [(h, {"event": "setup", "notes": ["network: none"], "uid": 65534}),
              (h, {"event": "collected", "count": len(outcomes)})]
    for name, outcome in outcomes:
        events += [(h, {"event": "start", "name": name}),
                   (h, {"event": "case", "name": name, "outcome": outcome, "message": "" if outcome == "passed" else "x"})]
    events.append((h, {"event": "done", "count": len(outcomes), "collected": len(outcomes),
                       "proof": " ".join(SECRET.nonces)}))
    events.append((i, {"event": "child_exit", "code": SECRET.exit_ok}))
    return events


def _facts(names: list[str]) -> RunFacts:
    return RunFacts(exit_code=0, timed_out=False, exited=True, timeout=10, cpu_seconds=10, target="test_m.py",
                    expected=names)


def _read(raw: bytes, names: list[str]) -> SandboxResult:
    with time_limit():
        result = interpret(raw, SECRET, _facts(names))
        read_events(raw, SECRET)  # what run_trace and the cargo runner take from the same bytes
    assert result.status in {"ok", "timeout", "crashed", "import_error", "no_tests", "tampered", "compile_error"}
    return result


outcome_lists = st.lists(st.tuples(st.sampled_from(["TestM.test_a", "TestM.test_b", "test_c", "TestN.test_a"]),
                                   st.sampled_from(["passed", "passed", "failed", "error", "skipped"])),
                         max_size=4, unique_by=lambda t: t[0])


@budget(5.0)
@given(st.one_of(st.binary(max_size=300), st.lists(st.binary(max_size=40)).map(b"\n".join)))
@example(b"deadbeef " + b"[" * 50_000 + b"\n")
def test_any_bytes_on_the_channel_are_never_a_pass(raw: bytes) -> None:
    assert not _read(raw, ["TestM.test_a"]).success


@budget(2.0)
@given(outcome_lists, st.integers(0, 10_000))
def test_an_honest_report_passes_exactly_when_every_test_did(outcomes: list[tuple[str, str]], cut: int) -> None:
    """The positive control: without it, "never a pass" would hold for a reader that passes nothing."""
    raw = b"".join(_sign(_honest(outcomes)))
    result = _read(raw, [name for name, _ in outcomes])
    assert result.status == ("ok" if outcomes else "no_tests"), result.message
    assert result.success == (bool(outcomes) and all(o == "passed" for _, o in outcomes))
    assert not _read(raw[:cut % max(1, len(raw))], [n for n, _ in outcomes]).success or cut % len(raw) == 0


MUTATIONS = ["wrong_type", "drop", "duplicate", "swap", "flip", "unsigned", "garbage_body"]


@budget(5.0)
@given(st.lists(st.tuples(st.sampled_from(["TestM.test_a", "test_c"]), st.just("passed")), min_size=1, max_size=2,
                unique_by=lambda t: t[0]),
       st.sampled_from(MUTATIONS), st.integers(0, 50), st.integers(0, 50), json_values, st.binary(min_size=1, max_size=20))
@example([("test_c", "passed")], "wrong_type", 4, 1, "1", b"x")  # count as text: int() raised
@example([("test_c", "passed")], "wrong_type", 5, 0, "x", b"x")  # child_exit code as text: int() raised
@example([("test_c", "passed")], "wrong_type", 0, 0, 5, b"x")  # setup notes as a number: iterated
def test_a_garbled_report_is_refused_never_passed(outcomes: list[tuple[str, str]], mutation: str, which: int,
                                                  field: int, value: Any, noise: bytes) -> None:
    events = _honest(outcomes)
    lines = _sign(events)
    at = which % len(lines)
    key, event = events[at]
    if mutation == "wrong_type":
        names = sorted({*event, "seq"} - {"uid"})
        name = names[field % len(names)]
        seq = event.get("seq", sum(1 for k, _ in events[:at] if k == key))
        kind_of_value = type(event.get(name, seq if name == "seq" else None))
        if isinstance(value, kind_of_value) and not isinstance(value, bool):
            return  # the same type: not garbled
        lines[at] = _line({**event, "seq": seq, name: value}, key)
    elif mutation == "drop":
        del lines[at]
    elif mutation == "duplicate":
        lines.insert(at, lines[at])
    elif mutation == "swap":
        other = (at + 1) % len(lines)
        if events[other][0] != key or other == at:
            return  # the harness and its init write independently: their order is free
        lines[at], lines[other] = lines[other], lines[at]
    elif mutation == "flip":
        line = bytearray(lines[at])
        line[field % (len(line) - 1)] ^= 1 + noise[0] % 255
        lines[at] = bytes(line)
    elif mutation == "unsigned":
        lines.insert(at, noise.replace(b"\n", b"") + b"\n" if noise.strip(b"\n") else b"x\n")
    else:
        lines[at] = hashlib.blake2b(noise, key=key, digest_size=16).hexdigest().encode() + b" " + noise.replace(b"\n", b"") + b"\n"
    result = _read(b"".join(lines), [n for n, _ in outcomes])
    assert not result.success, f"{mutation} of {event} was accepted"


# ----------------------------------------------------------------------------------------- cargo

fix_shapes = st.fixed_dictionaries({}, optional={
    "file": st.sampled_from(["src/lib.rs", "tests/t.rs", 5]), "line": st.one_of(st.integers(-3, 40), json_values),
    "column": st.one_of(st.integers(-3, 40), json_values), "line_end": st.one_of(st.integers(0, 40), json_values),
    "column_end": st.one_of(st.integers(0, 40), json_values), "replacement": st.one_of(st.text(max_size=10), json_values),
    "applicability": st.one_of(st.sampled_from(["MachineApplicable", "HasPlaceholders"]), json_values)})
diagnostic_events = st.fixed_dictionaries({"event": st.just("diagnostic")}, optional={
    "level": json_values, "code": json_values, "message": st.one_of(st.text(max_size=30), json_values),
    "rendered": st.one_of(st.sampled_from(["src/lib.rs:" + "9" * 5000, "tests/t.rs:3:1"]), json_values),
    "span": st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "file": st.sampled_from(["src/lib.rs", "tests/t.rs"]), "line": st.one_of(st.integers(0, 40), json_values),
        "column": json_values, "label": json_values, "source": json_values})),
    "children": st.one_of(json_values, st.lists(st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "level": json_values, "message": json_values, "cut": json_values,
        "fixes": st.one_of(json_values, st.lists(st.one_of(fix_shapes, json_values), max_size=3))})), max_size=3)),
})
cargo_events = st.lists(st.one_of(diagnostic_events, st.dictionaries(st.sampled_from(["event", "cargo", "message"]),
                                                                    json_values).map(lambda d: {**d, "event": "build_failed"})),
                        max_size=4)


@budget(5.0)
@given(cargo_events, st.text(max_size=60))
@example([{"event": "diagnostic", "span": {"line": "7"}, "children": [{"fixes": [{"line": [1]}]}]}], "")
@example([{"event": "diagnostic", "rendered": "src/lib.rs:" + "9" * 5000}], "")  # int() of 5000 digits
@example([{"event": "diagnostic", "children": [{"fixes": [{"file": "src/lib.rs", "line": 1, "column": 1}]}]}],
         "fn f() {}\n")  # no replacement: "None" was written into the module
def test_any_diagnostics_become_feedback_and_fixes_without_a_traceback(events: list[dict], code: str) -> None:
    paths = Paths("tests/t.rs", "tests.rs", 0)
    base = SandboxResult(status="compile_error", message="src/lib.rs:3 failed")
    with time_limit():
        result = cargo_result(base, events, paths, [], [])
        feedback.details(result)
        feedback.verdict(result)
        fixed = fixed_module(code, result.diagnostics)
    assert fixed is None or "None" not in fixed.replace(code, "") or "None" in json.dumps(events)


def test_a_tampering_report_without_a_reason_still_refuses_the_run() -> None:
    """An empty reason read as no reason at all: the run went on to pass."""
    names = ["test_c"]
    for kind in ("tampered", "refused"):
        events = _honest([("test_c", "passed")])
        events.insert(2, (SECRET.key, {"event": kind, "reason": ""}))
        result = _read(b"".join(_sign(events)), names)
        assert result.status == "tampered" and not result.success, kind
