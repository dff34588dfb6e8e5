"""The offline default embeddings: they run without network and rank meaning sensibly."""

from __future__ import annotations

import json
import socket

import chromadb
import numpy as np
import pytest

from my_llm.memory.embeddings import (
    EmbeddingError,
    LangChainEmbeddings,
    MiniLMOnnxEmbeddingFunction,
    default_embedding_function,
    get_embedding_function,
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used by offline embeddings")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def cosine(a: object, b: object) -> float:
    va, vb = np.asarray(a), np.asarray(b)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def test_embeds_offline_and_ranks_close_sentences_higher(no_network: None) -> None:
    ef = default_embedding_function()
    cat, kitten, tax = ef(
        [
            "A cat is sleeping on the sofa.",
            "A kitten naps on the couch.",
            "Corporate tax returns are due at the end of the quarter.",
        ]
    )
    assert len(cat) == 384
    assert np.linalg.norm(cat) == pytest.approx(1.0, abs=1e-3)
    assert cosine(cat, kitten) > cosine(cat, tax) + 0.3
    assert cosine(kitten, tax) < cosine(cat, kitten)


def test_batches_and_truncates_long_texts(no_network: None) -> None:
    ef = MiniLMOnnxEmbeddingFunction(batch_size=2)
    long_text = "word " * 5000  # far over 256 tokens: truncated, not an error
    texts = ["short", long_text, "another short one", "x"]
    vectors = ef(texts)
    assert len(vectors) == 4
    # Order is preserved although batches are sorted by length internally.
    single = ef(["another short one"])[0]
    assert cosine(vectors[2], single) == pytest.approx(1.0, abs=1e-4)


def test_registered_in_chroma_without_absolute_paths(tmp_path, no_network: None) -> None:
    ef = default_embedding_function()
    config = ef.get_config()
    assert "/" not in json.dumps(config)
    from chromadb.utils.embedding_functions import config_to_embedding_function

    rebuilt = config_to_embedding_function({"name": ef.name(), "config": config})
    assert isinstance(rebuilt, MiniLMOnnxEmbeddingFunction)

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    col = client.get_or_create_collection("emb_test", embedding_function=ef)
    col.add(ids=["a", "b"], documents=["The dog barked at the postman.", "Stock prices fell."])
    del client
    reopened = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    col2 = reopened.get_collection("emb_test")  # function found again by its registered name
    hit = col2.query(query_texts=["a puppy was barking"], n_results=1)
    assert hit["ids"][0] == ["a"]


def test_langchain_wrapper_matches_chroma_function(no_network: None) -> None:
    lc = LangChainEmbeddings()
    docs = lc.embed_documents(["hello there", "general kenobi"])
    query = lc.embed_query("hello there")
    assert len(docs) == 2 and isinstance(docs[0][0], float)
    assert cosine(docs[0], query) == pytest.approx(1.0, abs=1e-4)


def test_choice_of_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_LLM_EMBEDDINGS", raising=False)
    assert isinstance(get_embedding_function(), MiniLMOnnxEmbeddingFunction)
    assert isinstance(get_embedding_function("default"), MiniLMOnnxEmbeddingFunction)
    with pytest.raises(EmbeddingError, match="unknown embeddings"):
        get_embedding_function("word2vec")
    monkeypatch.setenv("MY_LLM_EMBEDDINGS", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(EmbeddingError, match="OPENAI_API_KEY"):
        get_embedding_function()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    ef = get_embedding_function()
    assert ef.name() == "openai"
    assert ef.get_config()["model_name"] == "text-embedding-3-small"
