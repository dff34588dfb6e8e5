"""Choosing among accepted completions by agreement: the function found, the probe calls read from
text (literals only), the results compared in the real sandbox, and the search with a fake model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from code_generation.completion import SearchSettings, complete_source
from code_generation.completion import agreement as agree
from code_generation.completion import cli as completion_cli
from code_generation.sandbox.runner import SandboxLimits
from tests.test_completion_loop import FAST, Spy, block

LIMITS = SandboxLimits(timeout=10)
ADD = 'def add(a, b):\n    """Return the sum of a and b.\n\n    >>> add(1, 2)\n    3\n    """\n    return a + b\n'


def test_the_target_is_the_top_level_function_the_completion_touches() -> None:
    text = "import os\n\n\n" + ADD + "\n\ndef other():\n    return 1\n"
    found = agree.target(text, 10, 10)
    assert found is not None and found.name == "add"
    assert found.header.startswith("def add(a, b):") and found.header.endswith('    """')
    assert found.docstring.startswith("Return the sum")
    assert agree.target(text, 14, 14).name == "other"  # type: ignore[union-attr]
    assert agree.target(text, 1, 1) is None  # an import line
    assert agree.target("class K:\n    def m(self):\n        return 1\n", 3, 3) is None  # methods are not probed
    assert agree.target("def broken(:\n", 1, 1) is None


def test_only_calls_of_the_function_with_literal_arguments_are_probes() -> None:
    text = """Here are the calls:
add(1, 2)
>>> add([1, 2], [3])
add('a', b={'k': (1, 2.5, None)})
add(1, 2)
add(x, 1)
add(*[1, 2])
add(**{'a': 1})
print(add(1, 2))
subtract(1, 2)
add(__import__('os').system('id'), 1)
add(1,
"""
    assert agree.calls_in(text, "add") == ["add(1, 2)", "add([1, 2], [3])", "add('a', b={'k': (1, 2.5, None)})"]


def test_results_are_compared_in_the_sandbox() -> None:
    calls = ["add(1, 2)", "add(0, 0)", "add([1], [2])", "add('a', b='c')"]
    right = agree.behaviour(ADD, "adding", "add", calls, LIMITS)
    swapped = agree.behaviour(ADD.replace("a + b", "b + a"), "adding", "add", calls, LIMITS)
    wrong = agree.behaviour(ADD.replace("a + b", "a - b"), "adding", "add", calls, LIMITS)
    assert right[:2] == swapped[:2] and right[2:] != swapped[2:]  # lists and strings: order matters
    assert wrong[1] == right[1] and wrong[0] != right[0]
    assert wrong[2:] == ("raises-TypeError", "raises-TypeError")
    assert agree.agreement([right, swapped, wrong]) == [3, 3, 2]
    assert agree.agreement([right, wrong], [2, 1]) == [1 + 4, 2]  # right was written twice


def test_sets_and_dicts_compare_by_content_and_a_hang_gives_no_result() -> None:
    as_set = "def f(n):\n    return {str(i) for i in range(n)}\n"
    as_set_too = "def f(n):\n    return set(map(str, reversed(range(n))))\n"
    hangs = "def f(n):\n    while True:\n        pass\n"
    calls = ["f(20)", "f(0)"]
    first, second = (agree.behaviour(code, "sets", "f", calls, LIMITS) for code in (as_set, as_set_too))
    assert first == second and agree.NO_RESULT not in first
    stuck = agree.behaviour(hangs, "sets", "f", calls, SandboxLimits(timeout=3))
    assert stuck == (agree.NO_RESULT, agree.NO_RESULT)
    assert agree.agreement([first, stuck]) == [0, 0]


class BySeed(BaseChatModel):
    """Answers a code request by its seed (the search gives each candidate its own) and a probe request with calls."""

    replies: dict[int, str]
    probes: str
    seed: int = 100

    @property
    def _llm_type(self) -> str:
        return "by-seed"

    def _generate(self, messages: Sequence[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        asked = str(messages[-1].content)
        text = self.probes if "different calls of" in asked else self.replies[kwargs.get("seed", self.seed)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


SOURCE = 'def add(a, b):\n    """Return the sum of a and b."""\n'
PROBES = block("add(1, 2)\nadd(0, 0)\nadd(-3, 5)\n")
MINUS, PLUS, PLUS_SWAPPED = (block(f"    return {e}\n") for e in ("a - b", "a + b", "b + a"))
SEEDS = (100, 100 + 8 + 1, 100 + 8 + 2)  # candidate k of round 1: the chat's own seed, then seed + 8 + k


def run(replies: tuple[str, str, str], on: bool) -> tuple[Any, Spy]:
    spy = Spy()
    chat = BySeed(replies=dict(zip(SEEDS, replies, strict=True)), probes=PROBES)
    settings = SearchSettings(max_iterations=2, candidates=3, agreement=on)
    outcome, _ = complete_source(SOURCE, chat, analyzers=FAST, settings=settings, observer=spy)
    return outcome, spy


def test_the_search_takes_the_completion_most_others_agree_with() -> None:
    outcome, spy = run((MINUS, PLUS, PLUS_SWAPPED), on=True)
    assert [c.accepted for c in spy.candidates] == [True, True, True]
    assert outcome.stop_reason == "accepted" and outcome.best.id == "1.1"
    assert outcome.best.completion == "    return a + b\n"
    assert "chosen by agreement: 4 of 6 results shared" in outcome.best.notes[0]
    assert any("agreement over 3 accepted candidates on 3 inputs: scores [2, 4, 4]" in e for e in spy.events)
    asked = [str(p[-1].content) for p in spy.prompts]
    assert sum("different calls of `add`" in a for a in asked) == 1  # the probe request, counted like any call
    assert outcome.usage.tokens_out > 0
    plain, _ = run((MINUS, PLUS, PLUS_SWAPPED), on=False)
    assert plain.best.id == "1.0"  # without agreement: the first accepted


def test_a_program_written_twice_counts_twice() -> None:
    outcome, spy = run((MINUS, PLUS, PLUS), on=True)
    assert spy.candidates[2].analysis is None  # the same completion: not analyzed again
    assert outcome.best.id == "1.1"
    assert any("scores [2, 4]" in e for e in spy.events)


def test_one_accepted_program_needs_no_probes() -> None:
    outcome, spy = run((PLUS, PLUS, PLUS), on=True)
    assert outcome.best.id == "1.0"
    assert not any("different calls" in str(p[-1].content) for p in spy.prompts)


def test_the_command_line_chooses_by_agreement_with_four_candidates(tmp_path: Path, monkeypatch: Any,
                                                                    capsys: Any) -> None:
    seeds = (100, 109, 110, 111)  # four candidates by default
    chat = BySeed(replies=dict(zip(seeds, (MINUS, PLUS, PLUS_SWAPPED, MINUS.replace("a - b", "a * b")),
                                   strict=True)), probes=PROBES)
    monkeypatch.setattr("code_generation.completion.api.get_chat_model", lambda *a, **k: chat)
    path = tmp_path / "adding.py"
    path.write_text(SOURCE)
    code = completion_cli.main([str(path), "--agreement", "--json", "--no-memory", "--no-cache", "--analyzers",
                                ",".join(FAST), "--run-dir", str(tmp_path / "run")])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["completion"] == "    return a + b\n"
    request = json.loads((tmp_path / "run" / "request.json").read_text())
    assert request["settings"]["agreement"] is True and request["settings"]["candidates"] == 4
    assert path.read_text() == SOURCE  # no --write: the file is untouched


def test_agreement_is_on_by_default_for_the_embedded_model_only() -> None:
    from code_generation.completion.api import choose_agreement
    from code_generation.completion.settings import CompletionSettings
    from my_llm.models.model_tiers import LOCAL_FILE_PROFILE, REMOTE_PROFILE, TIERS

    plain = CompletionSettings(Path("f.py"))
    assert all(choose_agreement(plain, tier.profile) for tier in TIERS.values())
    assert choose_agreement(plain, LOCAL_FILE_PROFILE) and not choose_agreement(plain, REMOTE_PROFILE)
    assert not choose_agreement(CompletionSettings(Path("f.py"), candidates=2), TIERS["1.5b"].profile)
    assert not choose_agreement(CompletionSettings(Path("f.py"), agreement=False), TIERS["1.5b"].profile)
    assert choose_agreement(CompletionSettings(Path("f.py"), agreement=True), REMOTE_PROFILE)
