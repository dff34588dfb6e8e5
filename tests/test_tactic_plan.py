"""The `plan` tactic (issue 29): one planning call, its approaches in the extra candidates' requests,
hotter samples when the reply names none, no new call while approaches are left, nothing changed
when the tactic is off; the parsing of planning replies and both languages' wording."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace
from typing import Any, ClassVar

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import Field

from code_generation.engine.loop import run_loop
from code_generation.engine.tactics import DEFAULT_TACTICS, parse_tactics, tactic_names, tactics_for
from code_generation.engine.tactics.plans import PLAN_TOKENS, parse_plans, plan_fits
from code_generation.languages import get_language
from code_generation.types import LoopOutcome, LoopSettings
from my_llm.models.model_tiers import ModelProfile
from my_llm.models.usage import CallUsage
from tests.loop_fakes import AREA, BAD_AREA, PERIMETER, Spy, attempt, sandbox, state, task

WRONG = f"```python\n{BAD_AREA}\n{PERIMETER}```"  # passes test_perimeter only, round after round
PLANNING = "Do not write any code yet"
THREE = "Here are three approaches:\n1. Multiply the side by itself.\n2. Use pow(side, 2).\n3. Add side to itself side times."
WITH_PLAN = (*(n for n in DEFAULT_TACTICS if n != "append"), "plan")


class Scripted(FakeListChatModel):
    """Answers a planning request with the next of `plans`, any other with `code`; keeps each request."""

    continues_final_message: ClassVar[bool] = False
    plans: list[str] = Field(default_factory=list)
    code: str = WRONG
    seen: list[tuple[list[BaseMessage], dict[str, Any]]] = Field(default_factory=list)
    lock: Any = Field(default_factory=threading.Lock)

    def _call(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
              **kwargs: Any) -> str:
        with self.lock:
            self.seen.append((list(messages), {"stop": stop, **kwargs}))
            if PLANNING in str(messages[-1].content):
                return self.plans.pop(0) if self.plans else "no approaches left"
            return self.code


class Prefilled(Scripted):
    continues_final_message: ClassVar[bool] = True


def _run(chat: Scripted, tactics: tuple[str, ...] | None, rounds: int = 3) -> tuple[LoopOutcome, Spy]:
    spy = Spy()
    settings = LoopSettings(max_iterations=rounds, candidates=2, tactics=tactics)
    return run_loop(task(), chat, settings, observer=spy, sandbox=sandbox()), spy


def _sent(spy: Spy, label: str) -> list[BaseMessage]:
    return next(messages for name, messages in spy.calls if name == label)


def _last(messages: list[BaseMessage]) -> str:
    return str(messages[-1].content)


# --------------------------------------------------------------------------- the loop


def test_one_planning_call_gives_each_round_its_extra_candidate_an_approach() -> None:
    chat = Scripted(responses=["-"], plans=[THREE])
    outcome, spy = _run(chat, WITH_PLAN)
    labels = [name for name, _ in spy.calls]
    # Rounds 2 and 3 ask for `area` alone, and `afresh` adds code-N.1; the fresh slot is code-N.2.
    assert labels == ["plan-1", "code-1", "code-1.1", "code-2", "code-2.1", "code-2.2", "code-3", "code-3.1",
                      "code-3.2"]  # planned once
    opening = _last(_sent(spy, "code-1"))
    assert "Use this approach" not in opening  # the first candidate is today's request
    for label, approach in (("code-1.1", "Multiply the side by itself."), ("code-2.2", "Use pow(side, 2)."),
                            ("code-3.2", "Add side to itself side times.")):
        assert _last(_sent(spy, label)) == f"{opening}\n\nUse this approach: {approach}"
    plan_request = _last(_sent(spy, "plan-1"))
    assert plan_request.startswith(opening.rsplit("\n\nReply with", 1)[0])  # the request's prefix, cached
    assert "Reply with the complete module" not in plan_request and "3 different approaches" in plan_request
    assert any("planning 3 approaches" in e for e in spy.events)
    calls = outcome.usage.calls
    assert [c.purpose for c in calls][:3] == ["planning", "opening", "plan"]
    assert calls[0].label == "plan-1" and calls[0].tokens_out > 0  # accounted like any call
    assert "plan" in outcome.tactics_acted
    plan_params = next(p for m, p in chat.seen if PLANNING in _last(m))
    assert plan_params["stop"] == ["```"] and plan_params["max_tokens"] == PLAN_TOKENS


def test_when_every_approach_is_used_new_ones_are_asked_for_naming_the_tried() -> None:
    chat = Scripted(responses=["-"], plans=["1. Square it.\n2. Use a product.", "- Use exponentiation instead."])
    outcome, spy = _run(chat, WITH_PLAN)
    labels = [name for name, _ in spy.calls]
    assert labels.count("plan-1") == 1 and labels.count("plan-3") == 1 and "plan-2" not in labels
    again = _last(_sent(spy, "plan-3"))
    assert "tried already" in again and "- Square it.\n- Use a product." in again
    assert _last(_sent(spy, "code-3.2")).endswith("Use this approach: Use exponentiation instead.")


def test_a_reply_with_no_approach_falls_back_to_hotter_samples_and_is_not_asked_again() -> None:
    chat = Scripted(responses=["-"], plans=["I would simply write the function."])
    outcome, spy = _run(chat, WITH_PLAN)
    assert [name for name, _ in spy.calls].count("plan-1") == 1
    assert not any(name.startswith("plan-") and name != "plan-1" for name, _ in spy.calls)
    opening = _sent(spy, "code-1")
    for label in ("code-1.1", "code-2.2", "code-3.2"):
        assert _sent(spy, label) == opening  # today's fresh sample of the request
    assert [c.purpose for c in outcome.usage.calls].count("fresh") == 3
    hot = [a.temperature for a in outcome.attempts if a.usage is not None and a.usage.purpose == "fresh"]
    assert hot == [pytest.approx(1.0)] * 3  # LoopSettings.fresh_temperature
    assert any("named no approach" in e for e in spy.events)


def test_the_tactic_off_sends_todays_requests() -> None:
    off_chat, on_chat = Scripted(responses=["-"], plans=[THREE]), Scripted(responses=["-"], plans=[THREE])
    off, off_spy = _run(off_chat, None)
    on, on_spy = _run(on_chat, WITH_PLAN)
    assert not any(PLANNING in _last(m) for m, _ in off_chat.seen)
    assert [c.purpose for c in off.usage.calls] == ["opening", "fresh", "focus", "afresh", "fresh", "focus",
                                                    "afresh", "fresh"]
    for label in ("code-1.1", "code-2.2", "code-3.2"):
        assert _sent(off_spy, label) == _sent(off_spy, "code-1")  # fresh samples of the opening request
    # On, the conversation's and afresh's requests are the same; only the fresh samples change.
    for label in ("code-1", "code-2", "code-2.1", "code-3", "code-3.1"):
        assert _sent(on_spy, label) == _sent(off_spy, label)
    assert _sent(on_spy, "code-1.1") != _sent(off_spy, "code-1.1")


def test_one_candidate_never_plans() -> None:
    chat = Scripted(responses=["-"], plans=[THREE])
    outcome = run_loop(task(), chat, LoopSettings(max_iterations=2, candidates=1, tactics=WITH_PLAN),
                       sandbox=sandbox())
    assert not any(PLANNING in _last(m) for m, _ in chat.seen) and "plan" not in outcome.tactics_acted


def test_the_planned_request_is_prefilled_and_the_planning_request_is_not() -> None:
    chat = Prefilled(responses=["-"], plans=[THREE], code=f"    return side * side\n\n\n{PERIMETER}```")
    _, spy = _run(chat, WITH_PLAN, rounds=1)
    planned, plan_request = _sent(spy, "code-1.1"), _sent(spy, "plan-1")
    assert isinstance(planned[-1], AIMessage) and planned[-1].content.startswith("```python\n")
    assert isinstance(plan_request[-1], HumanMessage)


def test_planning_waits_for_the_time_budget() -> None:
    clock = [0.0]
    st = state(LoopSettings(time_budget=100.0, candidates=2))
    st.clock, st.started, st.iteration = (lambda: clock[0]), 0.0, 1
    assert plan_fits(st)
    clock[0] = 100.0
    assert not plan_fits(st)  # round 1 runs anyway, but plans only while the budget lasts
    st.iteration, clock[0] = 2, 40.0  # one round took 40 s: another fits, with a planning call too
    assert plan_fits(st)
    st.attempts = [replace(attempt(st, AREA + PERIMETER), usage=CallUsage("code-1", 10, 100, 20.0, None))]
    clock[0] = 49.0  # 49 + 49 s fit, but not with a planning reply of PLAN_TOKENS at 0.2 s a token
    assert not plan_fits(st)
    st.settings = replace(st.settings, time_budget=None)
    assert plan_fits(st)


# --------------------------------------------------------------------------- selection


def test_the_tactics_package_registers_plan_without_other_imports() -> None:
    code = "from code_generation.validate_input import tactics_type; print(tactics_type('skeleton,plan'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "('skeleton', 'plan')", done.stderr[-500:]


def test_plan_is_chosen_by_name_only_on_both_languages() -> None:
    assert "plan" not in DEFAULT_TACTICS
    assert parse_tactics("skeleton,plan") == ("skeleton", "plan")
    assert "plan" not in tactic_names(LoopSettings(), ModelProfile(candidates=2))
    rust = get_language("rust")
    assert "plan" in tactics_for(rust) and "plan" in tactics_for(get_language("python"))
    assert "plan" not in tactic_names(LoopSettings(), ModelProfile(), rust)
    assert set(tactic_names(LoopSettings(tactics=("compiler_fixes", "plan")), ModelProfile(), rust)) == {
        "compiler_fixes", "plan"}


# --------------------------------------------------------------------------- parsing and wording


@pytest.mark.parametrize(("reply", "expected"), [
    (THREE + "\n\nEach one differs.", ["Multiply the side by itself.", "Use pow(side, 2).",
                                        "Add side to itself side times."]),
    ("**Approach 1: Sorting**\nSort, then walk once.\n\n**Approach 2: Hashing**\nCount in a dict.",
     ["Sorting: Sort, then walk once.", "Hashing: Count in a dict."]),
    ("- Recursion over the string\n  - the empty string is the base case\n- Iterate with a stack",
     ["Recursion over the string: the empty string is the base case", "Iterate with a stack"]),
    ("1) Square the side\n2) Loop adding the side\n```python\ndef area(side): ...\n```\n3) Never read",
     ["Square the side", "Loop adding the side"]),
    ("### 1. Dynamic programming\n   Build a table bottom-up.\n### 2. Memoised recursion",
     ["Dynamic programming: Build a table bottom-up.", "Memoised recursion"]),
    ("(1) the first idea\n(2) the second idea\n(3) the first idea", ["the first idea", "the second idea"]),
    ("I would simply write the function.", []),
    ("", []),
])
def test_approaches_are_read_from_any_list_style(reply: str, expected: list[str]) -> None:
    assert parse_plans(reply, 3) == expected


def test_no_more_approaches_than_asked_and_long_ones_are_cut() -> None:
    assert parse_plans("1. one way to do it\n2. another way to do it", 1) == ["one way to do it"]
    [long] = parse_plans("1. " + "word " * 200, 3)
    assert len(long) <= 404 and long.endswith(" ...")


@pytest.mark.parametrize("language", ["python", "rust"])
def test_each_language_words_the_planning_and_the_planned_request(language: str) -> None:
    words = get_language(language)
    reply = "Reply with the complete module in one block." if language == "python" else \
        "Reply with the complete `src/lib.rs` in one ```rust code block."
    opening: list[BaseMessage] = [HumanMessage(f"Write the thing.\n\n```\ntests\n```\n\n{reply}")]
    plan = words.plan_messages(opening, 4, ["sort first"])
    assert plan is not None
    text = _last(plan)
    assert text.startswith("Write the thing.\n\n```\ntests\n```\n\n") and reply not in text
    assert "4 different approaches" in text and "- sort first" in text and text.endswith("without code.")
    assert "tried already" not in _last(words.plan_messages(opening, 2, []) or [])
    planned = words.planned_messages(opening, "use a heap")
    assert planned is not None and _last(planned) == f"{opening[0].content}\n\nUse this approach: use a heap"
