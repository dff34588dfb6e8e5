"""A tactic for compiled languages: the compiler's suggested fixes made without a model call."""

from __future__ import annotations

from code_generation.engine.loop_state import LoopState, Tactic, register_tactic
from code_generation.languages.rust.fixes import fixed_module
from code_generation.types import Attempt, digest, variant

MAX_BUILDS = 3  # builds per repair: a fix can uncover an error with a fix of its own
COMPILE_ERROR = "compile_error"


def _errors(attempt: Attempt) -> int | None:
    """The attempt's compiler errors, or None when it compiled (or was not built)."""
    if attempt.result is None or attempt.result.status != COMPILE_ERROR:
        return None
    return len(getattr(attempt.result, "diagnostics", [])) or 1


def _progress(trial: Attempt, base: Attempt) -> bool:
    """It compiles now, or with fewer errors; tampering never counts."""
    if trial.result is None or trial.tampered:
        return False
    now, before = _errors(trial), _errors(base)
    return before is not None and (now is None or now < before)


def compiler_fixes(base: Attempt, state: LoopState, label: tuple[int, int]) -> Attempt | None:
    """`base` with the compiler's suggestions made, build after build while they help, or None."""
    current, builds = base, 0
    while builds < MAX_BUILDS and _errors(current) is not None and current.code is not None:
        assert current.result is not None
        code = fixed_module(current.code, getattr(current.result, "diagnostics", []))
        if code is None or digest(code) in state.tried:
            break
        state.tried.add(digest(code))
        builds += 1
        trial = variant(current, code, label, state.test)
        if not _progress(trial, current):
            break
        current = trial
    if current is base:
        return None
    before, after = _errors(base), _errors(current)
    outcome = "it compiles now" if after is None else f"{before} errors became {after}"
    current.notes = [f"made the compiler's suggested fixes in attempt {base.label}: {outcome}"]
    current.findings = []
    return current


@register_tactic("compiler_fixes", "the compiler's suggested fixes are made to a module that does not compile")
class CompilerFixes(Tactic):
    """After a round, the best attempt (else the round's newest) that does not compile gets the
    fixes rustc suggests, as `cargo fix` would make them (rust/fixes.py); kept when it then
    compiles or has fewer errors. One to three builds, no model call."""

    languages = frozenset({"rust"})

    def repair(self, best: Attempt, state: LoopState, label: tuple[int, int]) -> Attempt | None:
        newest = [a for a in reversed(state.attempts) if a.iteration == state.iteration and a is not best]
        for base in [best, *newest][:3]:
            repaired = compiler_fixes(base, state, label)
            if repaired is not None:
                return repaired
        return None
