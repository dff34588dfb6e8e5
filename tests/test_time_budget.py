"""--time-budget: the search stops at the budget or at --max-iterations, whichever comes first,
and says which. A fake model that takes a known time per reply makes the rounds' length known."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.create_script import STOPPED, _summary
from code_generation.engine.loop import run_loop
from code_generation.types import LoopSettings
from tests.loop_fixtures import WRONG, task


class SlowChat(FakeListChatModel):
    """The same wrong reply every time, after `delay` seconds (a round costs about that)."""

    delay: float = 0.4

    def _call(self, *args: Any, **kwargs: Any) -> str:
        time.sleep(self.delay)
        return super()._call(*args, **kwargs)


def test_the_budget_stops_the_search_before_a_round_that_would_not_fit() -> None:
    """Each round takes 10 s on a fake clock; with 35 s, a 4th round (30 s spent, 10 more) would not fit."""
    from itertools import count

    from code_generation.engine.loop import _rounds
    from tests.loop_fakes import BAD_AREA, BAD_PERIMETER, state

    st = state(LoopSettings(max_iterations=50, time_budget=35, candidates=1),
               responses=[f"```python\n{BAD_AREA}\n{BAD_PERIMETER}```"])
    ticks = count(10, 10)  # called once before each round after the first: 10, 20, 30, ...
    st.started, st.clock = 0.0, lambda: float(next(ticks))
    outcome = _rounds(st)
    assert outcome.stop_reason == "time budget" and not outcome.success
    assert outcome.iterations == 3


def test_a_real_slow_model_is_stopped_by_the_budget_too() -> None:
    outcome = run_loop(task(), SlowChat(responses=[WRONG], delay=0.2),
                       LoopSettings(max_iterations=200, time_budget=1.0, candidates=1))
    assert outcome.stop_reason == "time budget" and 1 <= outcome.iterations < 200


def test_rounds_stop_first_when_they_run_out_before_the_time() -> None:
    outcome = run_loop(task(), SlowChat(responses=[WRONG], delay=0.0),
                       LoopSettings(max_iterations=2, time_budget=3600, candidates=1))
    assert outcome.stop_reason == "budget" and outcome.iterations == 2


def test_the_first_round_always_runs() -> None:
    outcome = run_loop(task(), SlowChat(responses=[WRONG], delay=0.3),
                       LoopSettings(max_iterations=5, time_budget=0.01, candidates=1))
    assert outcome.iterations == 1 and outcome.stop_reason == "time budget"


def test_the_summary_says_why_an_unsolved_run_stopped() -> None:
    from rich.console import Console

    from code_generation.api import ScriptResult

    console = Console(width=200, record=True)
    result = ScriptResult(status="failed", success=False, iterations=3, tests_passed=1, tests_total=3, tokens_in=9,
                          tokens_out=9, cost_usd=None, seconds=12.0, output_file="x.py", test_file="t.py",
                          run_dir="r", model="m", stop_reason="time budget")
    console.print(_summary(result))
    assert STOPPED["time budget"] in console.export_text()


def _parsed(monkeypatch: Any, *flags: str) -> Any:
    from code_generation.create_script import _settings, build_parser

    monkeypatch.setenv("MY_LLM_CONFIG", "")  # no user config file
    monkeypatch.delenv("MY_LLM_TIME_BUDGET", raising=False)
    monkeypatch.chdir("/")  # no project pyproject.toml
    return _settings(build_parser().parse_args(["a prompt", "out.py", *flags]))


def test_the_cli_searches_for_600_seconds_unless_told_otherwise(monkeypatch: Any) -> None:
    from code_generation.api import loop_settings_of
    from code_generation.script_settings import DEFAULT_TIME_BUDGET

    assert DEFAULT_TIME_BUDGET == 600.0
    assert loop_settings_of(_parsed(monkeypatch), 2).time_budget == 600.0
    assert loop_settings_of(_parsed(monkeypatch, "--time-budget", "45"), 2).time_budget == 45.0
    assert loop_settings_of(_parsed(monkeypatch, "--time-budget", "0"), 2).time_budget is None  # 0: no limit
    monkeypatch.setenv("MY_LLM_TIME_BUDGET", "0")
    from code_generation.create_script import _settings, build_parser

    assert loop_settings_of(_settings(build_parser().parse_args(["p", "o.py"])), 2).time_budget is None
