"""A reply that ran into the token limit: recorded as cut off, and the next feedback says so first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from code_generation.engine.loop import run_loop
from my_llm.models.usage import UsageTracker
from tests.loop_fixtures import RIGHT, SETTINGS, WRONG, Spy, task

CUT = "```python\ndef prime_sum(n):\n    primes = []\n    candidate = 2\n    while len(primes) < n:\n        if all("


class Replies(BaseChatModel):
    """Answers in order; each answer with the finish reason a runtime would give it."""

    answers: list[tuple[str, str]]
    asked: int = 0

    @property
    def _llm_type(self) -> str:
        return "replies"

    def _generate(self, messages: Sequence[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        text, reason = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        message = AIMessage(text, response_metadata={"finish_reason": reason},
                            usage_metadata={"input_tokens": 50, "output_tokens": 1024 if reason == "length" else 60,
                                            "total_tokens": 0})
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_a_cut_off_reply_is_recorded_and_the_feedback_says_so() -> None:
    spy = Spy()
    outcome = run_loop(task(), Replies(answers=[(CUT, "length"), (RIGHT, "stop")]), SETTINGS, observer=spy)
    assert outcome.success and outcome.iterations == 2
    first, second = spy.attempts[0], spy.attempts[1]
    assert first.usage is not None and first.usage.truncated
    assert second.usage is not None and not second.usage.truncated
    feedback = str(spy.prompts[1][-1].content)
    assert "Your reply was cut off at the length limit (1024 tokens) before the code was complete" in feedback


def test_a_reply_that_ended_by_itself_gets_no_such_note() -> None:
    spy = Spy()
    outcome = run_loop(task(), Replies(answers=[(WRONG, "stop"), (RIGHT, "stop")]), SETTINGS, observer=spy)
    assert outcome.success and outcome.iterations == 2
    assert "cut off" not in str(spy.prompts[1][-1].content)


def test_usage_marks_only_the_length_finish_reason() -> None:
    usage = UsageTracker()
    cut = usage.record("a", [], AIMessage("x", response_metadata={"finish_reason": "length"}), 0.1)
    ended = usage.record("b", [], AIMessage("x", response_metadata={"finish_reason": "stop"}), 0.1)
    unknown = usage.record("c", [], AIMessage("x"), 0.1)
    assert (cut.truncated, ended.truncated, unknown.truncated) == (True, False, False)
