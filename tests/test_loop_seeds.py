"""A seeded run samples each round with a seed of its own: the same request twice must not be the same draw."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from code_generation.engine.loop import LoopSettings, run_loop
from code_generation.sandbox.runner import SandboxLimits
from tests.loop_fixtures import WRONG, task


class SeededFake(FakeListChatModel):
    """A fake chat model with a run seed, like the embedded model, that records each call's seed."""

    seed: int | None = 7
    seeds: list[int | None] = []

    def _call(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
              **kwargs: Any) -> str:
        self.seeds.append(kwargs.get("seed", self.seed))
        return super()._call(messages, stop, run_manager, **kwargs)


def test_every_round_after_the_first_has_its_own_seed() -> None:
    chat = SeededFake(responses=[WRONG], seeds=[])
    outcome = run_loop(task(), chat, LoopSettings(max_iterations=3, candidates=1, limits=SandboxLimits(timeout=20)))
    assert outcome.iterations == 3 and not outcome.success
    assert chat.seeds[0] == 7  # the first request is the user's seeded draw (the quick start depends on it)
    assert len(set(chat.seeds)) == 3  # a repeated request is a new draw, not the same one again


def test_without_a_seed_nothing_is_pinned() -> None:
    chat = SeededFake(responses=[WRONG], seeds=[], seed=None)
    run_loop(task(), chat, LoopSettings(max_iterations=2, candidates=1, limits=SandboxLimits(timeout=20)))
    assert chat.seeds == [None, None]
