"""LoopSettings.give_up_after: a run whose best attempt stops getting better ends as going nowhere,
and says so; one that keeps getting better is never stopped by it."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.create_script import STOPPED
from code_generation.engine.loop import run_loop
from code_generation.types import LoopSettings
from tests.test_loop import RIGHT, WORSE, WRONG, Spy, task


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


def test_off_by_default() -> None:
    assert LoopSettings().give_up_after is None
    outcome = run_loop(task(), FakeListChatModel(responses=[WRONG]), LoopSettings(max_iterations=6, candidates=1))
    assert outcome.iterations == 6 and outcome.stop_reason == "budget"
