"""benchmarks/qna.py --first-answer with a LangChain fake for the model: what it measures and saves.

The real figures need the embedded model (the lead runs it); this checks the order of the calls
and the shape of the JSON on a tiny installed package, with real embeddings and a real Chroma.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

import qna.read_repo
from benchmarks.qna import main


class Kinds(BaseCallbackHandler):
    """The kind of each model call, in order."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        text = "\n".join(str(m.content) for m in messages[0])
        self.kinds.append("summary" if "Summarise the file" in text else "answer")


def test_first_answer_mode_times_the_answer_before_the_summaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kinds = Kinds()
    chat = FakeListChatModel(responses=["An answer.", "## Purpose\nA summary."], callbacks=[kinds])
    monkeypatch.setattr(qna.read_repo, "make_chat_model", lambda args: chat)
    out = tmp_path / "first.json"
    argv = ["--first-answer", "--package", "certifi", "--later", "2", "--json", str(out)]
    main(argv)  # exit 1: the questions are about requests, so recall on certifi misses
    figures = json.loads(out.read_text())
    code_files = figures["code_files"]
    assert kinds.kinds == ["answer", *["summary"] * code_files, "answer", "answer"]
    assert set(figures["first_answer_phases"]) == {"startup", "walk", "index", "retrieval", "answer"}
    assert figures["first_answer_s"] == pytest.approx(
        sum(figures["first_answer_phases"].values()), abs=0.01
    )
    assert figures["summaries_written"] == code_files
    assert len(figures["later_answers"]) == 2 and figures["later_answer_s"] >= 0
    assert "index" in figures["later_answers"][0]["phases"]
    assert figures["commit"] and "recall_with_summaries" in figures
    # The answers are streamed, as on a terminal: the first words' time beside the totals.
    assert 0 <= figures["first_token_s"] <= figures["first_answer_phases"]["answer"] + 0.01
    assert figures["first_words_s"] <= figures["first_answer_s"] + 0.01
    assert "first_token" in figures["first_answer"]["seconds"]
    assert figures["later_first_token_s"] >= 0 and figures["later_first_words_s"] <= figures["later_answer_s"] + 0.01
    assert all("first_token_s" in later for later in figures["later_answers"])
    printed = capsys.readouterr().out
    assert "first answer" in printed and "first words after" in printed


def test_a_short_first_answer_run_caps_the_summaries_and_later_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kinds = Kinds()
    chat = FakeListChatModel(responses=["An answer.", "## Purpose\nA summary."], callbacks=[kinds])
    monkeypatch.setattr(qna.read_repo, "make_chat_model", lambda args: chat)
    out = tmp_path / "short.json"
    main(["--first-answer", "--package", "certifi", "--summaries", "1", "--later", "1", "--json", str(out)])
    figures = json.loads(out.read_text())
    assert kinds.kinds == ["answer", "summary", "answer"]
    assert figures["summaries_written"] == 1 and len(figures["later_answers"]) == 1
    assert "later_first_token_s" in figures
