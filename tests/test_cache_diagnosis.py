"""The whole-run cache trace's ideal: what a perfect cache could serve a call, from earlier calls."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import cache_diagnosis  # noqa: E402

OPENING = [SystemMessage("system"), HumanMessage("write f")]
PREFILL = AIMessage("```python\ndef f(x):\n")
REPLY = "```python\ndef f(x):\n    return x\n"


@dataclass
class _Call:
    tokens_in: int = 100
    tokens_out: int = 40


EARLIER = [([*OPENING, PREFILL], REPLY, _Call())]


def test_the_same_request_again_is_served_but_its_last_token() -> None:
    assert cache_diagnosis._ideal([*OPENING, PREFILL], EARLIER) == 99


def test_a_conversation_that_extends_the_reply_is_served_whole() -> None:
    history = [*OPENING, AIMessage(REPLY + "```"), HumanMessage("the tests failed")]
    assert cache_diagnosis._ideal(history, EARLIER) == 140


def test_a_new_conversation_has_nothing_to_be_served() -> None:
    assert cache_diagnosis._ideal([HumanMessage("rewrite only f")], EARLIER) == 0


def test_the_request_then_other_code_keeps_the_prefill_it_shares() -> None:
    # "```python\ndef f(x):\n" is shared; nothing of the prefill is lost, so the whole request is served.
    other = [*OPENING, AIMessage("```python\ndef f(x):\n    return 2 * x\n```"), HumanMessage("failed")]
    assert cache_diagnosis._ideal(other, EARLIER) == 100
    # Parting after "```python\n": the prefill's remaining 10 characters, ~3 tokens, are not served.
    parted = [*OPENING, AIMessage("```python\nimport os\n```"), HumanMessage("failed")]
    assert cache_diagnosis._ideal(parted, EARLIER) == 97
