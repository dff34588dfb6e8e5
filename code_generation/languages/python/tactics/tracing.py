"""The runtime-trace tactic: a failing test run again with a line tracer, its values in the feedback."""

from __future__ import annotations

from code_generation.engine.loop_state import LoopState, Tactic, register_tactic
from code_generation.sandbox import runner, trace_report
from code_generation.types import Attempt, digest

TRACE_SHARE = 0.3  # of LoopSettings.feedback_budget, for the trace's paragraph


def traced_attempt(code: str, state: LoopState) -> Attempt | None:
    """The latest tested attempt with this code (the hook is given the code, not the attempt)."""
    return next((a for a in reversed(state.attempts) if a.code == code and a.result is not None), None)


@register_tactic("trace", "a failing test is run again with a line tracer; the values its lines computed are shown")
class Trace(Tactic):
    """A test that fails with a wrong value is run again, traced, and the feedback shows where the values go wrong.

    A test's message says what came out and what was expected, not where the logic departs
    from it; a model shown the values each line computed can find the line (LDB, Zhong et al.
    2024). The traced run is a separate sandboxed run with the same limits
    (`runner.run_trace`): it judges nothing, so it can never change a verdict, and its report
    is untrusted text, cut to a share of the feedback budget. Only a test that ran and failed
    an assertion is traced (an import error or a crash already says where it happened), one
    per attempt, at most once per program and test.
    """

    languages = frozenset({"python"})

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], str] = {}

    def feedback_note(self, code: str, state: LoopState) -> str:
        attempt = traced_attempt(code, state)
        if attempt is None or attempt.result is None or attempt.result.status != "ok":
            return ""
        failed = [c.name for c in attempt.result.cases if c.outcome == "failed"]
        if not failed:
            return ""
        task = state.task
        key = (digest(code), failed[0], digest(task.test_source))
        if key not in self.seen:
            trace = runner.run_trace(code, task.module_name, task.test_source, task.test_filename, failed[0],
                                     limits=state.limits)
            budget = int(state.settings.feedback_budget * TRACE_SHARE)
            self.seen[key] = trace_report.render(trace, code, budget)
            shown = "a trace" if self.seen[key] else f"no trace ({trace.status})"
            state.observer.event(f"ran {trace.test} again with a line tracer: {shown}")
        return self.seen[key]
