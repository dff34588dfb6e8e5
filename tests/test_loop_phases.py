"""The loop's phases one at a time: plan, ask, turn replies into attempts, choose, repair, decide."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from code_generation.engine import loop
from code_generation.engine.loop import (
    STUCK_ROUNDS,
    ask_model,
    choose_best,
    decide,
    follow,
    plan_requests,
    repair,
    to_attempt,
)
from code_generation.engine.loop_state import Ask, Done, Request
from code_generation.types import LoopSettings
from my_llm.models.usage import CallUsage
from tests.loop_fakes import AREA, BAD_AREA, BAD_PERIMETER, PERIMETER, Spy, attempt, state

CALL = CallUsage("code-1", 1, 1, 0.1, None)


def test_plan_puts_the_conversation_first_then_extras_then_candidates() -> None:
    st = state(LoopSettings(candidates=3))
    extra = Request([HumanMessage("afresh")], st.hot, whole_module=False, splice=("area", "m"))
    st.extra, st.whole_module, st.splice = [extra], False, ("area", "m")
    conversation, added, fresh, repair_ = plan_requests(st)
    assert conversation.messages is st.messages and conversation.splice == ("area", "m")
    assert added is extra
    assert fresh.messages is st.opening and fresh.whole_module and fresh.splice is None and fresh.temperature == st.fresh == 1.0
    assert repair_.messages is st.messages and not repair_.whole_module and repair_.splice == ("area", "m")
    assert repair_.temperature > st.temperature


def test_ask_labels_the_calls_and_prefills_only_whole_module_requests() -> None:
    st = state(responses=["a", "b"])
    st.iteration, st.prefix = 1, "```python\n"
    requests = [Request(st.opening, 0.2), Request([HumanMessage("one function")], 0.6, whole_module=False)]
    replies = ask_model(st, requests)
    assert [reply.content for reply, _ in replies] == ["a", "b"]
    spy = st.observer
    assert isinstance(spy, Spy)
    (label0, sent0), (label1, sent1) = spy.calls
    assert (label0, label1) == ("code-1", "code-1.1")
    assert sent0[-1] == AIMessage("```python\n") and sent1[-1] == HumanMessage("one function")
    assert spy.events == ["iteration 1/5: asking the model for 2 candidates"]


def test_a_reply_becomes_a_tested_attempt() -> None:
    st = state()
    st.iteration = 1
    request = Request(st.opening, 0.2)
    made = to_attempt(st, 0, request, AIMessage(f"```python\n{AREA}\n{PERIMETER}```"), CALL)
    assert made.success and made.request is st.opening and made.usage is CALL
    again = to_attempt(st, 0, request, AIMessage(f"```python\n{AREA}\n{PERIMETER}```"), CALL)
    assert again.success and st.temperature == st.hot  # the same program twice: sample hotter
    empty = to_attempt(st, 1, request, AIMessage("no code here"), CALL)
    assert empty.code is None and empty.result is None


def test_a_function_reply_is_spliced_into_the_module_it_completes() -> None:
    st = state()
    st.iteration = 2
    module = AREA + "\n\n" + BAD_PERIMETER
    request = Request([HumanMessage("perimeter alone")], 0.2, whole_module=False, splice=("perimeter", module))
    made = to_attempt(st, 0, request, AIMessage(f"```python\n{PERIMETER}```"), CALL)
    assert made.success and made.request is None
    assert made.notes[0] == "`perimeter` spliced into the previous attempt"


def test_choose_keeps_the_best_and_counts_stalls() -> None:
    st = state()
    worse, good = attempt(st, BAD_AREA + BAD_PERIMETER), attempt(st, AREA + BAD_PERIMETER)
    assert choose_best(st, [worse, good]) is good and st.best is good and st.stalls == 0
    assert choose_best(st, [worse]) is worse and st.best is good and st.stalls == 1
    assert choose_best(st, [attempt(st, None)]) is None and st.stalls == 1


def test_with_several_candidates_a_regression_never_becomes_the_top() -> None:
    st = state(LoopSettings(candidates=2))
    st.best = attempt(st, AREA + BAD_PERIMETER)
    other = attempt(st, BAD_AREA + BAD_PERIMETER)
    assert choose_best(st, [other]) is st.best and st.stalls == 1


def test_repair_combines_into_the_best_without_a_model_call() -> None:
    st = state()
    st.iteration = 1
    first, second = attempt(st, AREA + "\n\n" + BAD_PERIMETER), attempt(st, BAD_AREA + "\n\n" + PERIMETER, 1)
    round_attempts = [first, second]
    st.attempts = list(round_attempts)
    top = repair(st, choose_best(st, round_attempts), round_attempts)
    assert top is st.best and top is not None and top.success
    assert len(round_attempts) == 3 and (top.iteration, top.candidate) == (1, 2)
    assert repair(st, None, []) is None


def test_decide_stops_when_the_tests_pass() -> None:
    st = state()
    assert decide(st, attempt(st, AREA + PERIMETER), []) == Done("passed")


def test_decide_asks_again_without_code_and_hotter() -> None:
    st = state()
    main = attempt(st, None)
    main.notes = ["the reply contained no Python code"]
    step = decide(st, None, [main])
    assert isinstance(step, Ask) and step.reason == "no_code" and step.temperature is not None
    assert step.temperature > st.temperature and "no Python code" in str(step.messages[-1].content)


def test_decide_feeds_back_the_failures_without_tactics() -> None:
    st = state(LoopSettings(tactics=()))
    top = attempt(st, AREA + "\n\n" + BAD_PERIMETER)
    st.best = top
    step = decide(st, top, [top])
    assert isinstance(step, Ask) and step.reason == "feedback" and step.whole_module
    assert "fails 1 of 2 tests" in str(step.messages[-1].content)


def test_decide_stops_a_run_of_several_candidates_that_is_stuck() -> None:
    st = state(LoopSettings(candidates=2, tactics=()))
    top = attempt(st, BAD_AREA + BAD_PERIMETER)
    st.best = top
    steps = [decide(st, top, [top]) for _ in range(STUCK_ROUNDS)]
    assert all(isinstance(s, Ask) for s in steps[:-1]) and steps[-1] == Done("stuck")
    assert st.n_candidates == 4  # escalated on the way
    assert st.observer.events[-1].startswith("stopping: the same tests failed")  # type: ignore[attr-defined]


def test_follow_makes_the_ask_the_conversation() -> None:
    st = state()
    ask = Ask([HumanMessage("next")], whole_module=False, splice=("area", "m"), temperature=0.9)
    follow(st, ask)
    assert (st.messages, st.whole_module, st.splice, st.temperature) == (ask.messages, False, ("area", "m"), 0.9)


def test_run_loop_reads_as_the_algorithm() -> None:
    import inspect

    assert len(inspect.getsource(loop.run_loop).splitlines()) < 80
