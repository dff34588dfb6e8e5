"""Which attempt is the best: most tests passed, then code whose tests ran at all (it built, it
imported), a general rule for every language (issue 29: a Rust candidate that builds is worth
more than one that does not)."""

from __future__ import annotations

from code_generation.sandbox.verdict import SandboxResult
from code_generation.types import Attempt, better, ran, rank


def _attempt(status: str, passed: int = 0, tests: int = 3, code: str = "x", iteration: int = 1) -> Attempt:
    result = SandboxResult(status=status, tests_run=tests if status == "ok" else 0, passed=passed,
                           failed=(tests - passed) if status == "ok" else 0)
    return Attempt(iteration, "", code, [], result, 0.2)


def test_code_that_builds_beats_code_that_does_not_when_no_test_passes() -> None:
    broken, builds = _attempt("compile_error"), _attempt("ok", passed=0)
    assert ran(builds) and not ran(broken)
    assert better(builds, broken) and not better(broken, builds)
    assert max([broken, builds], key=rank) is builds
    assert max([_attempt("import_error", code=""), _attempt("ok", code="a longer program")], key=rank).result.status == "ok"


def test_tests_passed_still_come_first_and_a_tie_keeps_the_earlier() -> None:
    assert better(_attempt("ok", passed=2), _attempt("ok", passed=1))
    assert not better(_attempt("ok", passed=1), _attempt("ok", passed=2))
    assert not better(_attempt("ok", passed=1, iteration=2), _attempt("ok", passed=1))  # the earlier stays
    assert not better(_attempt("compile_error", iteration=2), _attempt("compile_error"))
    assert not better(_attempt("timeout"), _attempt("ok"))  # a hang is not closer than code that ran


def test_a_tampered_run_is_never_the_best_whatever_it_claims() -> None:
    tampered = _attempt("tampered")
    assert not better(tampered, _attempt("compile_error"))
    assert max([tampered, _attempt("compile_error")], key=rank).result.status == "compile_error"
