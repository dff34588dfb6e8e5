"""Indexing into a real Chroma (on disk, and a `chroma run` server) and answering from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage

from my_llm.langchain_class import PubSubChatMessageHistory
from my_llm.memory.vectorstore import collection_name, get_client
from my_llm.standards import MemoryAnswer


def seed(memory: PubSubChatMessageHistory) -> None:
    memory.add_messages(
        [
            HumanMessage("Output a random animal with prefix ANIMAL:"),
            AIMessage("ANIMAL: capybara"),
            HumanMessage("What is the capital of Denmark?"),
            AIMessage("Copenhagen is the capital of Denmark."),
            HumanMessage("How do I reverse a list in Python?"),
            AIMessage("Use reversed(xs) or xs[::-1]."),
        ]
    )


def test_index_is_persistent_idempotent_and_chunked(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("chroma_basics")
    seed(memory)
    long_text = " ".join(f"Paragraph {n} about distributed logging systems." for n in range(200))
    memory.add_ai_message(long_text)
    assert memory.save_vectorstore_memory() == 7
    assert memory.save_vectorstore_memory() == 0  # nothing new: nothing re-indexed
    client = get_client(memory_env)
    collection = client.get_collection(collection_name("chroma_basics"))
    long_id = memory.records()[-1]["id"]
    long_chunks = collection.get(where={"message_id": long_id})["ids"]
    assert len(long_chunks) > 3  # long messages are chunked
    total = collection.count()
    assert total == 6 + len(long_chunks)
    memory.vector_index().add_records(memory.records())  # indexing twice changes nothing
    assert collection.count() == total


def test_question_memory_answers_with_sources_and_never_cites_answers(memory_env: Path) -> None:
    chat = FakeListChatModel(responses=["You said ANIMAL: capybara [2]", "Still capybara"])
    memory = PubSubChatMessageHistory("chroma_qa")
    seed(memory)
    memory.save_vectorstore_memory()
    result = memory.question_memory("What random animal have you said?", llm=chat, k=3)
    assert isinstance(result, MemoryAnswer)
    assert result.answer == "You said ANIMAL: capybara [2]"
    assert any("capybara" in hit.text for hit in result.sources)
    assert "== Sources:" in str(result) and "capybara" in str(result)
    logged = memory.records()[-2:]
    assert [r["metadata"]["task"] for r in logged] == ["memory_question", "memory_answer"]
    answer_id = logged[1]["id"]

    again = memory.question_memory("Which animal was mentioned?", llm=chat, k=8)
    cited = {hit.message_id for hit in again.sources}
    assert answer_id not in cited and logged[0]["id"] not in cited
    assert all(hit.metadata.get("task") != "memory_answer" for hit in again.sources)


def test_question_memory_indexes_new_messages_first(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("chroma_fresh")
    memory.add_ai_message("The deployment password rotates every Tuesday.")
    result = memory.question_memory(
        "When does the password rotate?", llm=FakeListChatModel(responses=["Tuesday"]), k=1
    )
    assert "Tuesday" in result.sources[0].text


def test_save_documents_are_logged_so_reindex_keeps_them(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("chroma_docs")
    docs = [Document("The build uses Cloud Build with a Dockerfile.", metadata={"title": "ci"})]
    assert memory.save_vectorstore_memory(docs) == 1
    assert memory.save_vectorstore_memory(docs) == 0  # same document: nothing added
    assert memory.messages == []  # documents are not conversation turns
    assert memory.reindex() == 1  # rebuilt from the JSONL alone
    hit = memory.vector_index().search("How is it built?", k=1)[0]
    assert "Cloud Build" in hit.text and hit.metadata["title"] == "ci"


def test_clear_drops_namespace_from_index_and_reindex_rebuilds(memory_env: Path) -> None:
    memory = PubSubChatMessageHistory("chroma_clear")
    seed(memory)
    memory.save_vectorstore_memory()
    other = PubSubChatMessageHistory("chroma_other")
    other.add_user_message("unrelated namespace survives")
    other.save_vectorstore_memory()

    memory.clear()
    client = get_client(memory_env)
    names = {c.name for c in client.list_collections()}
    assert collection_name("chroma_clear") not in names
    assert collection_name("chroma_other") in names

    memory.add_user_message("a fresh start")
    assert memory.reindex() == 1
    assert memory.vector_index().count() == 1


def test_chroma_server_via_chroma_url(
    chroma_server: Any, memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_URL", chroma_server.url)
    memory = PubSubChatMessageHistory("shared_team")
    seed(memory)
    assert memory.save_vectorstore_memory() == 6
    assert not (memory_env / "chroma").exists()  # nothing embedded locally
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    assert client.get_collection(collection_name("shared_team")).count() == 6
    result = memory.question_memory(
        "What is the capital of Denmark?", llm=FakeListChatModel(responses=["Copenhagen"]), k=2
    )
    assert any("Copenhagen" in hit.text for hit in result.sources)
    memory.clear()
    names = {c.name for c in client.list_collections()}
    assert collection_name("shared_team") not in names
