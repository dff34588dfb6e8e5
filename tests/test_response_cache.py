"""The reply cache with LangChain's fake chat models and a real folder on disk."""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from my_llm.models.response_cache import CachedChatModel, ResponseCache


class SeededFake(GenericFakeChatModel):
    """A fake whose sampling settings are fields, as on a real model."""

    temperature: float = 0.2
    seed: int | None = None


def cached(folder: Path, replies: list[str], **fields: object) -> CachedChatModel:
    inner = SeededFake(messages=iter([AIMessage(content=r) for r in replies]), **fields)
    return CachedChatModel(inner=inner, store=ResponseCache(folder))


def test_temperature_zero_is_answered_from_disk_with_zero_tokens(tmp_path: Path) -> None:
    first = cached(tmp_path, ["four"], temperature=0.0)
    assert first.invoke([HumanMessage("2+2?")]).content == "four"
    # A new process: a fresh model whose only reply would be different, and the same folder.
    again = cached(tmp_path, ["five"], temperature=0.0)
    reply = again.invoke([HumanMessage("2+2?")])
    assert reply.content == "four"
    assert reply.response_metadata["cached"] is True
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 0
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_any_change_in_messages_or_parameters_asks_the_model(tmp_path: Path) -> None:
    model = cached(tmp_path, ["a", "b", "c", "d"], seed=1)
    assert model.invoke([HumanMessage("x")]).content == "a"
    assert model.invoke([HumanMessage("y")]).content == "b"
    assert model.invoke([HumanMessage("x")], temperature=0.6).content == "c"
    assert model.invoke([HumanMessage("x")], seed=2).content == "d"
    assert model.invoke([HumanMessage("x")]).content == "a"  # the first request again: cached
    assert len(list(tmp_path.rglob("*.json"))) == 4


def test_hot_unseeded_samples_are_never_cached(tmp_path: Path) -> None:
    model = cached(tmp_path, ["one", "two"], temperature=0.8)
    assert model.invoke([HumanMessage("x")]).content == "one"
    assert model.invoke([HumanMessage("x")]).content == "two"
    assert not list(tmp_path.rglob("*.json"))


def test_a_damaged_entry_is_ignored_and_replaced(tmp_path: Path) -> None:
    cached(tmp_path, ["good"], temperature=0.0).invoke([HumanMessage("q")])
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text("{not json")
    assert cached(tmp_path, ["fresh"], temperature=0.0).invoke([HumanMessage("q")]).content == "fresh"
    assert cached(tmp_path, ["other"], temperature=0.0).invoke([HumanMessage("q")]).content == "fresh"


def test_entries_are_private_whole_files(tmp_path: Path) -> None:
    """Entries hold prompts and replies: 0600, written atomically, no temporary file left."""
    model = cached(tmp_path, ["four"], temperature=0.0)
    model.invoke([HumanMessage("2+2?")])
    (entry,) = tmp_path.rglob("*.json")
    assert entry.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [entry.name]
