"""Publishing to the real Pub/Sub emulator: payloads, attributes, topics, off when unset.

Outages, crashes and `my-llm flush` are in test_memory_outbox.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from my_llm import cli
from my_llm.langchain_class import PubSubChatMessageHistory
from my_llm.memory import pubsub

PROJECT = "my-llm-test"


@pytest.fixture
def emulator_env(memory_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("MY_LLM_PUBSUB_TIMEOUT", "2")
    return memory_env


def subscribe(topic: str, name: str) -> str:
    """Create the topic (if needed) and a fresh subscription to it, via the emulator."""
    from google.api_core import exceptions
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(PROJECT, topic)
    try:
        publisher.create_topic(name=topic_path)
    except exceptions.AlreadyExists:
        pass
    sub_path = subscriber.subscription_path(PROJECT, name)
    try:
        subscriber.create_subscription(name=sub_path, topic=topic_path)
    except exceptions.AlreadyExists:
        pass
    return sub_path


def pull(sub_path: str, expected: int, limit_s: float = 30.0) -> list[Any]:
    """Pull and ack until ``expected`` messages arrived (or the limit passes)."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    got: list[Any] = []
    deadline = time.monotonic() + limit_s
    while len(got) < expected and time.monotonic() < deadline:
        response = subscriber.pull(subscription=sub_path, max_messages=100, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(
                subscription=sub_path, ack_ids=[m.ack_id for m in response.received_messages]
            )
            got.extend(m.message for m in response.received_messages)
    return got


def test_publish_and_pull_back_intact(
    pubsub_emulator: Any, emulator_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    sub = subscribe("chat-messages-pubsub_roundtrip", "roundtrip-sub")
    memory = PubSubChatMessageHistory("pubsub_roundtrip")
    assert memory.publisher is not None
    memory.add_messages(
        [HumanMessage("Hvad hedder en elefant?"), AIMessage("elefant")],
        metadata={"task": "translate", "run_id": "r-1"},
    )
    assert memory.flush(timeout=30)
    messages = pull(sub, 2)
    assert len(messages) == 2
    log_lines = {
        json.loads(x)["id"]: json.loads(x)
        for x in (emulator_env / "pubsub_roundtrip" / "memory.jsonl").read_text().splitlines()
    }
    for message in messages:
        payload = json.loads(message.data)
        assert payload == log_lines[payload["id"]]  # the JSONL record, unchanged
        assert dict(message.attributes) == {
            "namespace": "pubsub_roundtrip",
            "role": payload["role"],
            "task": "translate",
            "message_id": payload["id"],
        }
    assert {json.loads(m.data)["content"] for m in messages} == {
        "Hvad hedder en elefant?",
        "elefant",
    }
    assert not memory.outbox.has_backlog()  # the cursor is at the end of the log


def test_topic_is_created_when_missing_and_custom_topic_used(
    pubsub_emulator: Any, emulator_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    memory = PubSubChatMessageHistory("custom", pubsub_topic="team-llm-log")
    memory.add_user_message("first message creates the topic")
    assert memory.flush(timeout=30)
    from google.cloud import pubsub_v1

    topics = [
        t.name for t in pubsub_v1.PublisherClient().list_topics(project=f"projects/{PROJECT}")
    ]
    assert f"projects/{PROJECT}/topics/team-llm-log" in topics
    cursor = emulator_env / "custom" / ".cursors" / "pubsub.team-llm-log.json"
    assert json.loads(cursor.read_text())["offset"] == memory.log.path.stat().st_size


def test_not_configured_is_off_with_one_debug_line(
    memory_env: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubsub, "_off_announced", False)
    with caplog.at_level("DEBUG", logger="my_llm.memory"):
        first = PubSubChatMessageHistory("quiet_one")
        PubSubChatMessageHistory("quiet_two")
    assert first.publisher is None and first.outbox is None
    off = [r for r in caplog.records if "Pub/Sub publishing is off" in r.getMessage()]
    assert len(off) == 1 and off[0].levelname == "DEBUG"  # the normal case: not on stderr
    assert not (memory_env / "quiet_one" / ".cursors").exists()  # no outbox when off
    first.add_user_message("kept on disk only")
    assert first.flush() is True
    assert cli.main(["flush"]) == 2  # nothing to flush to: a clear error, not a crash
