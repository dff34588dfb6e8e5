"""Publishing to the real Pub/Sub emulator: payloads, attributes, outages and the spool."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from my_llm import cli, pubsub
from my_llm.langchain_class import PubSubChatMessageHistory

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
    assert pubsub.spooled_count(emulator_env) == 0


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
    assert pubsub.spooled_count(emulator_env) == 0


def test_outage_spools_then_everything_is_delivered(
    pubsub_emulator_factory: Any, emulator_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = pubsub_emulator_factory()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    topic = "chat-messages-outage"
    sub = subscribe(topic, "outage-sub")
    memory = PubSubChatMessageHistory("outage")
    memory.add_messages([HumanMessage(f"up {n}") for n in range(3)])
    assert memory.flush(timeout=30)
    assert sorted(json.loads(m.data)["content"] for m in pull(sub, 3)) == ["up 0", "up 1", "up 2"]

    emulator.stop()  # Pub/Sub goes down mid-run
    memory.add_messages([HumanMessage(f"down {n}") for n in range(4)])
    assert memory.flush(timeout=60)  # returns once the failed batch is spooled
    assert pubsub.spooled_count(emulator_env) == 4
    assert len(memory.messages) == 7  # the log never missed a message

    emulator.start()  # back again: the emulator forgets topics, so re-subscribe first
    sub = subscribe(topic, "outage-sub")
    assert cli.main(["flush"]) == 0
    delivered = pull(sub, 4)
    assert sorted(json.loads(m.data)["content"] for m in delivered) == [
        f"down {n}" for n in range(4)
    ]
    assert pubsub.spooled_count(emulator_env) == 0

    # A second outage, recovered by the next start of any history instead of `my-llm flush`.
    emulator.stop()
    memory.add_messages([HumanMessage("down again")])
    assert memory.flush(timeout=60)
    assert pubsub.spooled_count(emulator_env) == 1
    emulator.start()
    sub = subscribe(topic, "outage-sub")
    restarted = PubSubChatMessageHistory("some_other_tool")
    assert restarted.flush(timeout=60)
    assert [json.loads(m.data)["content"] for m in pull(sub, 1)] == ["down again"]
    assert pubsub.spooled_count(emulator_env) == 0


def test_not_configured_is_off_with_one_info_line(
    memory_env: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubsub, "_off_announced", False)
    with caplog.at_level("INFO", logger="my_llm.memory"):
        first = PubSubChatMessageHistory("quiet_one")
        PubSubChatMessageHistory("quiet_two")
    assert first.publisher is None
    assert caplog.text.count("Pub/Sub publishing is off") == 1
    first.add_user_message("kept on disk only")
    assert first.flush() is True
    assert cli.main(["flush"]) == 2  # nothing to flush to: a clear error, not a crash
