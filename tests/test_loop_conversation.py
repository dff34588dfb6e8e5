"""Feedback rounds that extend the conversation ("append") so the prompt cache serves the history."""

from __future__ import annotations

import re
from dataclasses import replace

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage

from code_generation.engine.loop import run_loop
from code_generation.languages.python.prompts import (
    code_of_reply,
    fenced_reply,
    reply_prefix,
    request_skeleton,
)
from tests.loop_fixtures import RIGHT, SETTINGS, TESTS, WORSE, WRONG, Spy, task

APPEND = replace(SETTINGS, conversation="append", focus_functions=False)


def test_each_round_extends_the_previous_prompt_with_the_reply_and_the_failures() -> None:
    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=[WORSE, WRONG, RIGHT]), APPEND, observer=spy)
    assert outcome.success and outcome.iterations == 3
    first, second, third = spy.prompts
    assert second[: len(first)] == first and third[: len(second)] == second
    assert second[len(first)] == AIMessage(WORSE) and third[len(second)] == AIMessage(WRONG)
    assert "fails 3 of 3 tests" in second[-1].content and "fails 2 of 3 tests" in third[-1].content
    assert [call.purpose for call in outcome.usage.calls] == ["opening", "append", "append"]


def test_latest_keeps_only_the_request_and_the_attempt_shown() -> None:
    spy = Spy()
    latest = replace(APPEND, conversation="latest")
    run_loop(task(), FakeListChatModel(responses=[WORSE, WRONG, RIGHT]), latest, observer=spy)
    assert [len(p) for p in spy.prompts] == [1, 3, 3]
    assert "-1" not in spy.prompts[2][1].content  # WORSE's body is gone from the third round


def test_a_worse_round_continues_from_the_conversation_of_the_best() -> None:
    spy = Spy()
    run_loop(task(), FakeListChatModel(responses=[WRONG, WORSE, RIGHT]), APPEND, observer=spy)
    first, _, third = spy.prompts
    # The second reply fell behind: the third round extends the first round's conversation.
    assert third[: len(first) + 1] == [*first, AIMessage(WRONG)] and len(third) == len(first) + 2


def test_a_reply_the_extraction_changed_falls_back_to_the_latest_form() -> None:
    spy = Spy()
    noisy = WRONG.replace("```python\n", "```python\nimport os\nfrom prime_numbers import prime_sum\n")
    run_loop(task(), FakeListChatModel(responses=[noisy, RIGHT]), APPEND, observer=spy)
    shown = spy.prompts[1][-2]
    assert len(spy.prompts[1]) == 3 and "from prime_numbers" not in shown.content


def test_a_long_history_starts_again_from_the_request() -> None:
    spy = Spy()
    run_loop(task(), FakeListChatModel(responses=[WORSE, WRONG, RIGHT]), replace(APPEND, history_chars=10), observer=spy)
    assert [len(p) for p in spy.prompts] == [1, 3, 3]


def test_a_prefilled_reply_is_appended_whole_with_the_fence_the_stop_cut() -> None:
    prefix = reply_prefix(request_skeleton(task().prompt, "prime_numbers", TESTS, ["prime_sum"]))
    assert prefix is not None
    param = re.search(r"def prime_sum\((\w+)\)", prefix)
    assert param is not None
    body = f"    return -1 if {param[1]} else 0\n"  # generation stopped at "\n```\n": no closing fence
    spy = Spy()
    run_loop(task(), FakeListChatModel(responses=[body, RIGHT]), replace(APPEND, prefill=True), observer=spy)
    first, second = spy.prompts[0], spy.prompts[1]
    assert first[-1] == AIMessage(prefix)  # the prefill is not part of the kept request
    assert second[0] == first[0] and second[1] == AIMessage(prefix + body.rstrip("\n") + "\n```")


def test_reply_helpers() -> None:
    assert code_of_reply("Sure:\n```python\nx = 1\n```\nDone.") == "x = 1"
    assert code_of_reply("```python\nx = 1\n") == "x = 1"
    assert code_of_reply("no code") is None
    assert fenced_reply("```python\nx = 1\n") == "```python\nx = 1\n```"
    assert fenced_reply("```python\nx = 1\n```\nDone.") == "```python\nx = 1\n```\nDone."
    assert fenced_reply("plain words") is None
