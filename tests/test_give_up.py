"""LoopSettings.give_up_after: a run whose best attempt stops getting better ends as going nowhere,
and says so; one that keeps getting better is never stopped by it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.api import generate_script
from code_generation.create_script import STOPPED
from code_generation.engine.loop import run_loop
from code_generation.script_settings import DEFAULT_GIVE_UP_AFTER
from code_generation.types import LoopSettings
from tests.loop_fixtures import RIGHT, WORSE, WRONG, Spy, task


def test_a_run_that_finds_nothing_better_stops_after_the_given_rounds() -> None:
    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG]),
                       LoopSettings(max_iterations=10, candidates=1, give_up_after=2), observer=spy)
    # Round 1 finds the best; rounds 2 and 3 find nothing better: stop after round 3.
    assert outcome.stop_reason == "no progress" and not outcome.success
    assert outcome.iterations == 3
    assert any("2 rounds in a row found nothing better" in e for e in spy.events)
    assert "no progress" in STOPPED


def test_progress_resets_the_count_and_a_solve_ends_the_run_as_passed() -> None:
    # Nothing passes, then one test passes, then nothing better twice more, then the solution:
    # the count starts again at the better round, so the run reaches the solution with give_up_after=3.
    chat = FakeListChatModel(responses=[WORSE, WRONG, WORSE, WRONG, RIGHT])
    outcome = run_loop(task(), chat, LoopSettings(max_iterations=10, candidates=1, give_up_after=3))
    assert outcome.success and outcome.stop_reason == "passed" and outcome.iterations == 5


def test_off_in_the_engine_unless_asked_for() -> None:
    assert LoopSettings().give_up_after is None
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG]), LoopSettings(max_iterations=6, candidates=1))
    assert outcome.iterations == 6 and outcome.stop_reason == "budget"


# --------------------------------------------------------------------------- create-script and evaluation


def _loop_settings(monkeypatch: Any, *flags: str, env: str | None = None) -> LoopSettings:
    """The engine's settings create-script builds from these flags, with no config file but `env`."""
    from code_generation.api import loop_settings_of
    from code_generation.create_script import _settings, build_parser

    monkeypatch.setenv("MY_LLM_CONFIG", "")
    monkeypatch.chdir("/")  # no project pyproject.toml
    if env is None:
        monkeypatch.delenv("MY_LLM_GIVE_UP_AFTER", raising=False)
    else:
        monkeypatch.setenv("MY_LLM_GIVE_UP_AFTER", env)
    return loop_settings_of(_settings(build_parser().parse_args(["a prompt", "out.py", *flags])), 2)


def test_the_flag_and_the_config_key_reach_the_loop(monkeypatch: Any) -> None:
    assert _loop_settings(monkeypatch).give_up_after == DEFAULT_GIVE_UP_AFTER == 3
    assert _loop_settings(monkeypatch, "--give-up-after", "3").give_up_after == 3
    assert _loop_settings(monkeypatch, "--give-up-after", "0").give_up_after is None  # 0: never
    assert _loop_settings(monkeypatch, env="2").give_up_after == 2
    assert _loop_settings(monkeypatch, "--give-up-after", "0", env="2").give_up_after is None  # the flag wins
    assert _loop_settings(monkeypatch, "--give-up-after", "4", env="2").give_up_after == 4


def test_create_script_stops_a_run_going_nowhere_and_says_so(tmp_path: Path) -> None:
    from rich.console import Console

    from code_generation.create_script import _summary
    from tests.test_create_script import settings, write_tests

    write_tests(tmp_path)
    result = generate_script(settings(tmp_path, max_iterations=10, give_up_after=2),
                             chat=FakeListChatModel(responses=[WRONG]))
    assert result.status == "failed" and result.stop_reason == "no progress" and result.iterations == 3
    assert json.loads((Path(result.run_dir) / "run.json").read_text())["stop_reason"] == "no progress"
    console = Console(width=200, record=True)
    console.print(_summary(result))
    assert STOPPED["no progress"] in console.export_text()


def test_the_evaluation_harness_takes_the_same_rule() -> None:
    from code_generation.evaluation.evaluate import SAME_RUN_KEYS, EvalSettings, build_parser

    assert EvalSettings().loop_settings().give_up_after == 3  # create-script's default
    assert EvalSettings(give_up_after=0).loop_settings().give_up_after is None
    assert EvalSettings(give_up_after=3).loop_settings().give_up_after == 3
    args = build_parser().parse_args(["--tasks", "examples", "--out", "o", "--give-up-after", "3"])
    assert args.give_up_after == 3
    assert "give_up_after" in SAME_RUN_KEYS  # a resumed run may not mix results with and without it
