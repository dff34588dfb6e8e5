"""Importing ChatGPT's conversations.json: active branch only, idempotent, errors that name the culprit."""

from __future__ import annotations

import copy
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from my_llm.langchain_class import PubSubChatMessageHistory
from my_llm.memory.chatgpt_export import (
    ChatGPTExportError,
    content_text,
    import_conversations,
    iter_conversations,
    load_export,
    parse_conversation,
    parse_export,
)
from tests.helpers import fails_if_blocked

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


# --------------------------------------------------------------------------- wrong types, bad files


def _good() -> dict:
    return copy.deepcopy(json.loads(FIXTURE.read_text())[0])


def _break(field: str) -> dict:
    """The first fixture conversation with one field of a type ChatGPT never writes there."""
    conv = _good()
    node = conv["mapping"][conv["current_node"]]
    message = node["message"]
    if field == "parent":
        node["parent"] = ["a", "list"]
    elif field == "current_node":
        conv["current_node"] = {"a": "dict"}
    elif field == "author":
        message["author"] = "user"
    elif field == "role":
        message["author"]["role"] = 7
    elif field == "parts":
        message["content"]["parts"] = 5
    elif field == "metadata":
        message["metadata"] = [1]
    elif field == "message":
        node["message"] = "text"
    elif field == "create_time":
        message["create_time"] = "yesterday"
    elif field == "title":
        conv["title"] = ["t"]
    elif field == "content":
        message["content"] = 3
    return conv


@pytest.mark.parametrize(
    ("field", "match"),
    [
        ("parent", "the 'parent' of node .* is a list, expected text"),
        ("current_node", "'current_node' is an object, expected text"),
        ("author", "the 'author' of node .* is text, expected an object"),
        ("role", "the author 'role' of node .* is a number, expected text"),
        ("parts", "'parts' is a number, expected a list"),
        ("metadata", "the 'metadata' of node .* is a list, expected an object"),
        ("message", "the 'message' of node .* is text, expected an object"),
        ("create_time", "the 'create_time' of node .* is text, expected a number"),
        ("title", "'title' is a list, expected text"),
        ("content", "the 'content' of node .* is a number, expected an object or text"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_clear_error(field: str, match: str) -> None:
    parse_conversation(_good())  # the unbroken one parses
    with pytest.raises(ChatGPTExportError, match=match):
        parse_conversation(_break(field))


def test_parse_export_skips_bad_conversations_by_title_and_id(tmp_path: Path) -> None:
    good1, good2 = json.loads(FIXTURE.read_text())
    bad = _break("parts")
    bad["title"], bad["conversation_id"] = "Parts gone wrong", "c-parts"
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([good1, bad, good2]))
    errors: list[str] = []
    parsed = parse_export(path, errors)
    assert [c.title for c in parsed] == [good1["title"], good2["title"]]
    assert len(errors) == 1
    assert "conversation 2 ('Parts gone wrong') id c-parts: " in errors[0]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
        ("1" * 5000, "expected a list of conversations"),
        ("[" + "1" * 5000 + ",", "not valid JSON"),
    ],
)
def test_deep_or_huge_json_is_one_error(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(content)
    with pytest.raises(ChatGPTExportError, match=match) as info:
        load_export(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_a_huge_timestamp_inside_a_conversation_is_dropped_not_fatal(tmp_path: Path) -> None:
    conv = _good()
    text = json.dumps([conv]).replace(
        '"create_time": 1684137600.123', '"create_time": ' + "9" * 5000, 1
    )
    assert "9" * 5000 in text
    path = tmp_path / "conversations.json"
    path.write_text(text)
    (parsed,) = parse_export(path)
    first = parsed.messages[0]
    assert first.create_time is None and first.text.startswith("How can I publish")


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_only_a_regular_file_is_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "export.json"
    if kind == "fifo":
        os.mkfifo(path)
        match = "named pipe"
    elif kind == "device":
        path.symlink_to("/dev/zero")
        match = "is a device"
    else:
        (tmp_path / "conversations.json").mkdir()
        path = tmp_path
        match = "is a directory"
    with fails_if_blocked(), pytest.raises(ChatGPTExportError, match=match):
        load_export(path)  # returns at once: a FIFO is never waited on


def test_nothing_is_written_until_every_conversation_is_read(
    memory_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old import wrote conversation by conversation: a failure midway left half an import."""
    import my_llm.memory.chatgpt_export as export

    real = export.parse_conversation
    seen: list[str] = []

    def parse_then_fail(raw: object) -> object:
        seen.append("x")
        if len(seen) == 2:
            raise KeyboardInterrupt  # the user gives up while the second one is read
        return real(raw)

    monkeypatch.setattr(export, "parse_conversation", parse_then_fail)
    memory = PubSubChatMessageHistory("half", publish=False)
    with pytest.raises(KeyboardInterrupt):
        import_conversations(memory, FIXTURE)
    assert memory.records() == []


def test_concurrent_imports_add_each_message_once(
    memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports whose reads of the ids present overlap: without the lock both append all."""
    from my_llm.memory.message_log import MessageLog

    real_ids = MessageLog.ids
    inside = threading.Event()

    def slow_ids(self: MessageLog) -> set[str]:
        found = real_ids(self)
        inside.set()
        time.sleep(0.5)  # the other import starts now and would read the same empty log
        return found

    monkeypatch.setattr(MessageLog, "ids", slow_ids)
    reports = []

    def run() -> None:
        reports.append(
            import_conversations(PubSubChatMessageHistory("race", publish=False), FIXTURE)
        )

    first = threading.Thread(target=run)
    first.start()
    assert inside.wait(10)
    run()
    first.join(30)
    records = PubSubChatMessageHistory("race", publish=False).records()
    assert len(records) == 8 and len({r["id"] for r in records}) == 8
    assert sorted(r.added for r in reports) == [0, 8]
    assert sorted(r.already_present for r in reports) == [0, 8]
