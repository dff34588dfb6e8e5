"""The JSONL system of record and the history class on top of it (no network, no Chroma)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

import my_llm.standards as my_llm
from my_llm.langchain_class import PubSubChatMessageHistory
from my_llm.memory.message_log import (
    MemoryStoreError,
    MessageLog,
    namespace_from,
    validate_namespace,
)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_is_a_langchain_history_and_round_trips(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("unit_test")
    assert isinstance(memory, BaseChatMessageHistory)
    memory.add_user_message("hello")
    memory.add_ai_message("hi there")
    memory.add_messages(
        [SystemMessage("be brief"), AIMessage("ok", usage_metadata=_usage())],
        metadata={"task": "generate", "run_id": "run-7"},
    )
    got = memory.messages
    assert [m.type for m in got] == ["human", "ai", "system", "ai"]
    assert [m.text for m in got] == ["hello", "hi there", "be brief", "ok"]
    assert got[3].usage_metadata["total_tokens"] == 3

    records = lines(memory_env / "unit_test" / "memory.jsonl")
    assert len(records) == 4
    for record in records:
        assert set(record) >= {"id", "ts", "namespace", "role", "content", "metadata"}
        assert record["namespace"] == "unit_test"
        assert record["ts"].endswith("Z") and "T" in record["ts"]
    assert records[2]["metadata"] == {"task": "generate", "run_id": "run-7"}
    assert len({r["id"] for r in records}) == 4
    assert got[0].id == records[0]["id"]


def _usage() -> Any:
    return {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


def test_log_has_no_embeddings_user_or_host_names(memory_env: Path) -> None:
    import getpass
    import socket

    memory = PubSubChatMessageHistory("privacy", metadata={"run_id": "r1"})
    memory.add_user_message("what is 2 + 2?")
    memory.save_vectorstore_memory()  # indexing must not write vectors into the log
    text = (memory_env / "privacy" / "memory.jsonl").read_text()
    assert "embedding" not in text
    for name in {getpass.getuser(), socket.gethostname()}:
        if len(name) > 3:  # e.g. "root" may appear inside ordinary words
            assert name not in text
    assert lines(memory_env / "privacy" / "memory.jsonl")[0]["metadata"] == {"run_id": "r1"}


def test_construction_is_cheap_and_needs_no_services(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("create_script")
    assert memory.publisher is None  # Pub/Sub not configured: off, no crash
    assert not (memory_env / "chroma").exists()  # nothing indexed on construction
    memory.add_messages([HumanMessage("p")], metadata={"task": "t", "run_id": "r"})
    assert not (memory_env / "chroma").exists()  # nor on add: indexing is lazy
    assert memory.flush() is True


def test_bad_input_is_one_clear_error(memory_env: Path) -> None:
    for bad in ("", "has space", "../escape", "chroma", "x" * 101, "-lead"):
        with pytest.raises(MemoryStoreError, match="namespace"):
            PubSubChatMessageHistory(bad)
    with pytest.raises(MemoryStoreError, match="Pub/Sub topic"):
        PubSubChatMessageHistory("fine", pubsub_topic="1bad topic")
    memory = PubSubChatMessageHistory("fine")
    with pytest.raises(MemoryStoreError, match="LangChain message"):
        memory.add_messages(["just a string"])  # type: ignore[list-item]
    assert namespace_from("My Repo (copy)", "qna_") == "qna_My_Repo_copy"
    assert validate_namespace("qna_my-repo.v2") == "qna_my-repo.v2"


def test_torn_last_line_is_skipped_with_warning_and_fenced(
    memory_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    memory = PubSubChatMessageHistory("crashy")
    memory.add_user_message("before the crash")
    path = memory_env / "crashy" / "memory.jsonl"
    with open(path, "a") as handle:  # a writer died half-way through a line
        handle.write('{"id": "torn", "role": "human", "content": "half')
    memory.add_user_message("after the crash")
    with caplog.at_level(logging.WARNING, logger="my_llm.memory"):
        texts = [m.text for m in memory.messages]
    assert texts == ["before the crash", "after the crash"]
    assert "incomplete or corrupt" in caplog.text


WRITER = textwrap.dedent(
    """
    import sys
    from langchain_core.messages import HumanMessage
    from my_llm.langchain_class import PubSubChatMessageHistory

    writer, count = sys.argv[1], int(sys.argv[2])
    memory = PubSubChatMessageHistory("concurrent", publish=False)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for n in range(count):
        # long enough that a torn or interleaved write would show
        memory.add_messages([HumanMessage(f"{writer}:{n}:" + "x" * 3000)], metadata={"n": n})
    """
)


def test_two_processes_appending_leave_every_line_intact(memory_env: Path) -> None:
    count = 1000
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("A", "B")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(timeout=300) == 0

    raw = (memory_env / "concurrent" / "memory.jsonl").read_text().splitlines()
    assert len(raw) == 2 * count
    records = [json.loads(line) for line in raw]  # every line parses: none torn or merged
    for writer in ("A", "B"):
        seen = [r["metadata"]["n"] for r in records if r["content"].startswith(f"{writer}:")]
        assert seen == list(range(count))  # each writer's lines complete and in order
    assert len({r["id"] for r in records}) == 2 * count


def test_clear_archives_instead_of_deleting(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("archive_me")
    memory.add_user_message("old")
    memory.clear()
    assert memory.messages == []
    archives = list((memory_env / "archive_me").glob("memory-*.jsonl"))
    assert len(archives) == 1
    assert "old" in archives[0].read_text()
    memory.add_user_message("new")
    assert [m.text for m in memory.messages] == ["new"]
    memory.clear()
    assert len(list((memory_env / "archive_me").glob("memory-*.jsonl"))) == 2


def test_writer_holding_the_old_file_follows_the_rename(memory_env: Path) -> None:
    log = MessageLog("renamed", memory_env)
    log.append([{"id": "1", "role": "human", "content": "a"}])
    archived = log.archive()
    assert archived is not None
    log.append([{"id": "2", "role": "human", "content": "b"}])
    assert [r["id"] for r in log.records()] == ["2"]
    assert [json.loads(x)["id"] for x in archived.read_text().splitlines()] == ["1"]


def test_default_folder_when_message_history_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MESSAGE_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    memory = PubSubChatMessageHistory("defaults")
    memory.add_user_message("where am I?")
    assert (tmp_path / "xdg" / "tdd-scriptgen" / "message_history" / "defaults" / "memory.jsonl").exists()


def test_an_older_versions_history_folder_is_still_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MESSAGE_HISTORY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    old = tmp_path / "xdg" / "my-llm" / "message_history"
    old.mkdir(parents=True)
    PubSubChatMessageHistory("defaults").add_user_message("still here?")
    assert (old / "defaults" / "memory.jsonl").exists()  # found where the older version kept it
    assert not (tmp_path / "xdg" / "tdd-scriptgen").exists()


class Recorder(BaseCallbackHandler):
    """Captures what a chat model was sent (LangChain's own callback hook)."""

    def __init__(self) -> None:
        self.sent: list[list[BaseMessage]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.sent.append(list(messages[0]))


def test_request_llm_sends_recent_history_within_budget_and_logs_both(memory_env: Path) -> None:
    recorder = Recorder()
    chat = FakeListChatModel(responses=["first reply", "second reply"], callbacks=[recorder])
    memory = PubSubChatMessageHistory("requests")
    for n in range(200):  # far more history than the budget allows
        memory.add_messages([HumanMessage(f"old question {n} " + "w " * 40), AIMessage(f"old {n}")])
    answer = my_llm.request_llm("What now?", chat, memory, metadata={"run_id": "abc"})
    assert answer == "first reply"
    sent = recorder.sent[0]
    assert sent[-1].text == "What now?"
    assert sent[0].type == "human"  # trimmed history starts on a human turn
    assert 2 < len(sent) < 400
    assert "old question 199" in sent[-3].text  # the most recent history is kept
    assert my_llm.count_tokens_approximately(sent[:-1]) <= my_llm.HISTORY_TOKENS

    tail = memory.records()[-2:]
    assert [r["role"] for r in tail] == ["human", "ai"]
    assert [r["content"] for r in tail] == ["What now?", "first reply"]
    assert all(r["metadata"]["run_id"] == "abc" and r["metadata"]["task"] == "chat" for r in tail)
    assert memory.chat is chat  # remembered for summaries and questions

    answer2 = my_llm.request_llm(f"Repeat in Danish:\n{answer}", chat, memory)
    assert answer2 == "second reply"
    assert recorder.sent[1][-2].text == "first reply"


def test_apply_summarise_to_memory_stores_summary(memory_env: Path) -> None:
    recorder = Recorder()
    chat = FakeListChatModel(responses=["They discussed primes."], callbacks=[recorder])
    memory = PubSubChatMessageHistory("summaries", chat=chat)
    memory.add_messages([HumanMessage(f"message {n}") for n in range(10)])
    summary = memory.apply_summarise_to_memory(n=3)
    assert summary == "They discussed primes."
    prompt = recorder.sent[0][-1].text
    assert "message 9" in prompt and "message 7" in prompt and "message 6" not in prompt
    last = memory.records()[-1]
    assert last["metadata"]["task"] == "summary" and last["content"] == summary
    with pytest.raises(MemoryStoreError, match="positive"):
        memory.apply_summarise_to_memory(n=0)
    empty = PubSubChatMessageHistory("empty_summary", chat=chat)
    with pytest.raises(MemoryStoreError, match="nothing to summarise"):
        empty.apply_summarise_to_memory()
