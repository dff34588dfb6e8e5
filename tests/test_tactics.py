"""Each small-model tactic on its own, the registry that selects them, and --tactics."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage

from code_generation import create_script
from code_generation.engine.loop import run_loop
from code_generation.engine.loop_state import Ask, LoopState, Tactic, register_tactic
from code_generation.engine.tactics import (
    DEFAULT_TACTICS,
    available_tactics,
    make_tactics,
    parse_tactics,
    tactic_names,
)
from code_generation.engine.tactics.rounds import Append, Restart
from code_generation.evaluation import evaluate
from code_generation.languages.python import feedback
from code_generation.languages.python.tactics.focus import Afresh, Focus
from code_generation.languages.python.tactics.notes import TypeNote
from code_generation.languages.python.tactics.repairs import Combine
from code_generation.languages.python.tactics.request import Prefill, Skeleton
from code_generation.sandbox.runner import SandboxResult
from code_generation.types import LoopSettings
from my_llm.errors import MyLLMError
from my_llm.models.model_tiers import ModelProfile
from tests.loop_fakes import AREA, BAD_AREA, BAD_PERIMETER, PERIMETER, Spy, attempt, state, task

# --------------------------------------------------------------------------- the registry


def test_every_default_tactic_is_registered_in_calling_order() -> None:
    assert tuple(available_tactics())[: len(DEFAULT_TACTICS)] == DEFAULT_TACTICS
    assert all(available_tactics()[name] for name in DEFAULT_TACTICS)  # each has a description


def test_parse_tactics() -> None:
    assert parse_tactics(" focus, skeleton ,focus") == ("focus", "skeleton")
    assert parse_tactics("none") == ()
    with pytest.raises(MyLLMError, match="unknown tactic 'bogus': choose from skeleton"):
        parse_tactics("skeleton,bogus")


def test_the_run_the_profile_then_the_default_choose_the_tactics() -> None:
    latest = ModelProfile()
    assert tactic_names(LoopSettings(), latest) == tuple(n for n in DEFAULT_TACTICS if n != "append")
    assert tactic_names(LoopSettings(), ModelProfile(conversation="append")) == DEFAULT_TACTICS
    assert tactic_names(LoopSettings(), ModelProfile(tactics=("focus", "skeleton"))) == ("skeleton", "focus")
    assert tactic_names(LoopSettings(tactics=("prefill",)), ModelProfile(tactics=("focus",))) == ("prefill",)
    assert tactic_names(LoopSettings(tactics=()), latest) == ()


def test_the_conversation_setting_switches_append() -> None:
    appending = ModelProfile(conversation="append")
    assert "append" not in tactic_names(LoopSettings(conversation="latest"), appending)
    assert "append" in tactic_names(LoopSettings(conversation="append", tactics=("skeleton",)), ModelProfile())
    assert "append" in tactic_names(LoopSettings(tactics=("append",)), ModelProfile())  # an explicit list decides
    assert "append" not in tactic_names(LoopSettings(tactics=("skeleton",)), appending)


def test_focus_functions_off_turns_off_the_function_tactics() -> None:
    names = tactic_names(LoopSettings(focus_functions=False), ModelProfile())
    assert not {"focus", "afresh", "combine"} & set(names)
    assert "skeleton" in names


def test_a_registered_tactic_runs_when_selected() -> None:
    @register_tactic("test_shout_note", "a note for this test")
    class Shout(Tactic):
        def feedback_note(self, code: str, state: LoopState) -> str:
            return "SHOUTED NOTE"

    spy = Spy()
    wrong, right = f"```python\n{BAD_AREA}\n{PERIMETER}```", f"```python\n{AREA}\n{PERIMETER}```"
    from tests.loop_fakes import sandbox

    settings = LoopSettings(max_iterations=2, tactics=("skeleton", "test_shout_note"))
    outcome = run_loop(task(), FakeListChatModel(responses=[wrong, right]), settings, observer=spy, sandbox=sandbox())
    assert outcome.success
    assert "SHOUTED NOTE" in str(spy.calls[1][1][-1].content)
    assert "test_shout_note" in available_tactics()


def _run_with(tactics: tuple[str, ...] | None, replies: list[str]) -> tuple[object, list[str]]:
    from tests.loop_fakes import sandbox

    spy = Spy()
    outcome = run_loop(task(), FakeListChatModel(responses=replies), LoopSettings(max_iterations=3, tactics=tactics),
                       observer=spy, sandbox=sandbox())
    return outcome, [str(m.content) for _, messages in spy.calls for m in messages]


def test_a_tactic_that_never_acted_can_be_turned_off_without_changing_the_run() -> None:
    """`LoopOutcome.tactics_acted`, which the ablation reuses rows by: every tactic of the run it
    does not name, turned off, leaves every request and the outcome as they were; one it names does not."""
    replies = [f"```python\n{BAD_AREA}\n{PERIMETER}```", f"```python\n{AREA}```"]
    outcome, requests = _run_with(None, replies)
    assert outcome.success and outcome.iterations == 2  # type: ignore[attr-defined]
    acted = outcome.tactics_acted  # type: ignore[attr-defined]
    used = tactic_names(LoopSettings(), ModelProfile())
    assert {"skeleton", "focus"} <= set(acted) and set(acted) <= set(used)
    assert {"type_note", "restart", "combine"}.isdisjoint(acted)
    for name in used:
        without, changed = _run_with(tuple(t for t in used if t != name), replies)
        if name in acted:
            assert changed != requests, name
        else:
            assert changed == requests and without.success, name  # type: ignore[attr-defined]


def test_no_tactics_at_all_shows_the_test_file_and_still_runs() -> None:
    spy = Spy()
    from tests.loop_fakes import sandbox

    right = f"```python\n{AREA}\n{PERIMETER}```"
    outcome = run_loop(task(), FakeListChatModel(responses=[right]), LoopSettings(tactics=()), observer=spy,
                       sandbox=sandbox())
    assert outcome.success
    request = str(spy.calls[0][1][-1].content)
    assert "class TestShapes(unittest.TestCase)" in request and ">>>" not in request


def test_create_script_refuses_an_unknown_tactic_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        create_script.main(["Square things", str(tmp_path / "shapes.py"), "--tactics", "skeleton,bogus"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown tactic 'bogus'" in err
    assert create_script.build_parser().parse_args(["p", "o.py", "--tactics", "focus,skeleton"]).tactics == (
        "focus", "skeleton")


def test_evaluate_refuses_an_unknown_tactic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = evaluate.main(["--tasks", str(tmp_path), "--out", str(tmp_path / "out"), "--tactics", "bogus"])
    assert code == 2
    assert "unknown tactic 'bogus'" in capsys.readouterr().err


def test_evaluate_settings_pass_the_tactics_on() -> None:
    assert evaluate.EvalSettings(tactics=("focus",)).loop_settings().tactics == ("focus",)


# --------------------------------------------------------------------------- request tactics


def test_skeleton_shows_the_tests_as_examples() -> None:
    st = state()
    assert ">>> area(2)" in str(st.opening[-1].content)
    assert st.reference is not None and "def area(" in st.reference
    assert Skeleton().opening(st) is not None
    bare = state(LoopSettings(tactics=()))
    assert "self.assertEqual(area(2), 4)" in str(bare.opening[-1].content) and bare.reference is None


def test_prefill_follows_the_setting_else_the_model() -> None:
    on = state(LoopSettings(prefill=True))
    prefix = Prefill().reply_prefix(on)
    assert prefix is not None and prefix.startswith("```python\n") and "def area(side):" in prefix
    assert Prefill().reply_prefix(state(LoopSettings(prefill=False))) is None
    assert Prefill().reply_prefix(state()) is None  # the fake model does not continue a final message


# --------------------------------------------------------------------------- code tactics


# --------------------------------------------------------------------------- note tactics


def test_type_note_names_a_difference_in_type() -> None:
    message = "Traceback:\nAssertionError: ('a', 'b') != ['a', 'b']"
    assert "tuple" in (TypeNote().case_note(message, "", "") or "")
    result = SandboxResult("ok", tests_run=1, cases=[feedback.CaseResult("T.test", "failed", message)])
    assert "differ in type" in feedback.details(result)
    assert "differ in type" not in feedback.details(result, case_notes=[])


# --------------------------------------------------------------------------- repairs


def test_combine_takes_the_right_function_from_another_attempt() -> None:
    st = state()
    first, second = attempt(st, AREA + "\n\n" + BAD_PERIMETER), attempt(st, BAD_AREA + "\n\n" + PERIMETER, 1)
    st.attempts = [first, second]
    combined = Combine().repair(first, st, (1, 2))
    assert combined is not None and combined.success
    assert combined.notes == ["combined `perimeter` from attempt 1.1 into attempt 1"]
    assert Combine().repair(first, st, (1, 3)) is None  # the same combination is not tested twice


# --------------------------------------------------------------------------- next requests


def test_restart_after_stalls() -> None:
    st = state(LoopSettings(restart_after=2))
    shown = attempt(st, BAD_AREA + PERIMETER)
    st.stalls = 1
    assert Restart().next_request(shown, shown, st) is None
    st.stalls = 2
    ask = Restart().next_request(shown, shown, st)
    assert ask is not None and ask.messages is st.opening and ask.temperature == st.fresh == 1.0 and st.stalls == 0


def test_focus_asks_for_the_function_the_failures_point_at() -> None:
    st = state()
    shown = attempt(st, AREA + "\n\n" + BAD_PERIMETER)
    ask = Focus().next_request(shown, shown, st)
    assert ask is not None and ask.reason == "focus" and ask.function == "perimeter"
    assert "test_perimeter" in ask.details and "test_area" in ask.details.split("already pass")[1]
    assert "def perimeter(side):" in str(ask.messages[-2].content)  # the attempt, as the model's answer


def test_afresh_adds_a_candidate_from_the_header_with_several_candidates() -> None:
    one, two = state(), state(LoopSettings(candidates=2))
    ask = Ask([], whole_module=False, splice=("perimeter", "x"), reason="focus", function="perimeter", details="d")
    assert Afresh().extra_requests(ask, attempt(one, AREA + BAD_PERIMETER), one) == []
    shown = attempt(two, AREA + "\n\n" + BAD_PERIMETER)
    [request] = Afresh().extra_requests(ask, shown, two)
    assert not request.whole_module and request.splice == ("perimeter", "x") and request.temperature == two.hot
    assert "return side" not in str(request.messages[-1].content).split("Write")[1]
    assert Afresh().extra_requests(replace(ask, reason="restart"), shown, two) == []


def test_append_extends_the_conversation_that_produced_the_attempt() -> None:
    st = state()
    shown = attempt(st, BAD_AREA.strip())
    assert Append().next_request(shown, shown, st) is None  # no conversation recorded
    shown.request = list(st.opening)
    ask = Append().next_request(shown, shown, st)
    assert ask is not None and ask.reason == "append"
    assert ask.messages[: len(st.opening)] == st.opening
    assert isinstance(ask.messages[len(st.opening)], AIMessage)
    assert "fails 2 of 2 tests" in str(ask.messages[-1].content)
    st.settings = replace(st.settings, history_chars=10)
    assert Append().next_request(shown, shown, st) is None  # too long: back to "latest"


def test_each_tactic_is_one_fresh_instance_per_run() -> None:
    first, second = make_tactics(["focus"]), make_tactics(["focus"])
    assert type(first[0]) is Focus and first[0] is not second[0]


def test_create_script_refuses_a_tactic_made_for_another_language(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = create_script.main(["Square things", str(tmp_path / "shapes.py"), "--tactics", "compiler_fixes"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "tactic 'compiler_fixes' does not apply to python" in err
    assert not list(tmp_path.iterdir())  # refused before anything was written
