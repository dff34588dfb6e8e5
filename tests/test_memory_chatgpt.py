"""Importing ChatGPT's conversations.json: active branch only, idempotent, errors that name the culprit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from my_llm.chatgpt_export import ChatGPTExportError, content_text, iter_conversations
from my_llm.langchain_class import PubSubChatMessageHistory

FIXTURE = Path(__file__).parent / "fixtures" / "chatgpt_export" / "conversations.json"


def test_imports_only_the_active_branch_and_twice_adds_nothing(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("chatgpt")
    report = memory.load_chatgpt_export(FIXTURE)
    assert report.conversations == 2 and report.added == 8 and not report.errors
    records = memory.records()
    texts = [r["content"] for r in records]
    joined = "\n".join(texts)
    assert "REGENERATED-AWAY" not in joined  # the regenerated sibling is not on the branch
    assert "Call `PublisherClient.publish" in joined  # its replacement is
    assert "TOOL-OUTPUT" not in joined and "HIDDEN-" not in joined  # tool and hidden skipped
    assert "Thought for 3 seconds" not in joined  # a UI recap, not a message
    assert any("How is a TimedChatMessage defined?" in t and "[image]" in t for t in texts)
    assert any(t.startswith("class TimedChatMessage(BaseMessage):") for t in texts)  # code
    assert any("elefant" in t and "good pick" in t for t in texts)  # thoughts carry text
    assert [r["role"] for r in records[:5]] == ["human", "ai", "human", "ai", "ai"]

    first = records[0]
    assert first["ts"] == "2023-05-15T08:00:00.123Z"  # original timestamp kept
    assert first["metadata"]["title"] == "Publishing chat history to Pub/Sub"
    assert first["metadata"]["conversation_id"] == "6650a1b2-0c1d-8000-9a3e-2f1c0b9d7e11"
    null_time = records[4]
    assert "create_time" not in null_time["metadata"]
    assert null_time["ts"] == "2023-05-15T08:00:00.000Z"  # falls back to the conversation's

    again = memory.load_chatgpt_export(FIXTURE)
    assert again.added == 0 and again.already_present == 8
    assert len(memory.records()) == 8


def test_one_bad_conversation_does_not_stop_the_rest(memory_env: Path, tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text())
    data.insert(1, {"title": "Broken one", "conversation_id": "c-broken", "mapping": {}})
    data.append({"title": "Loop", "id": "c-loop", "current_node": "a",
                 "mapping": {"a": {"parent": "b"}, "b": {"parent": "a"}}})  # fmt: skip
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(data))
    memory = PubSubChatMessageHistory("chatgpt_bad")
    report = memory.load_chatgpt_export(path)
    assert report.conversations == 2 and report.added == 8
    assert len(report.errors) == 2
    assert "conversation 2 ('Broken one')" in report.errors[0]
    assert "current_node" in report.errors[0]
    assert "loops" in report.errors[1]


@pytest.mark.parametrize(
    ("content", "match"),
    [("{not json", "not valid JSON"), ('{"a": 1}', "expected a list of conversations")],
)
def test_malformed_file_is_a_clear_error_naming_it(
    memory_env: Path, tmp_path: Path, content: str, match: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(content)
    memory = PubSubChatMessageHistory("chatgpt_worse")
    with pytest.raises(ChatGPTExportError, match=match) as info:
        memory.load_chatgpt_export(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ChatGPTExportError, match="not found"):
        memory.load_chatgpt_export(tmp_path / "missing.json")


def test_export_folder_is_accepted(memory_env: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "conversations.json")
    conversations = list(iter_conversations(tmp_path))
    assert [c.title for c in conversations] == [
        "Publishing chat history to Pub/Sub",
        "Danish animal",
    ]


def test_content_types_that_carry_text() -> None:
    assert content_text({"content_type": "text", "parts": ["a", "b"]}) == "a\nb"
    audio = {"content_type": "audio_transcription", "text": "spoken words"}
    assert content_text({"content_type": "multimodal_text", "parts": [audio]}) == "spoken words"
    assert content_text({"content_type": "execution_output", "text": "42"}) == "42"
    assert content_text({"content_type": "tether_browsing_display", "result": "page"}) == "page"
    assert content_text({"content_type": "text", "parts": [""]}) == ""
