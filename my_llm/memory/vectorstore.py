"""Chroma access for the message memory: one collection per namespace.

Embedded by default (``PersistentClient`` under ``$MESSAGE_HISTORY/chroma``);
``CHROMA_URL`` (or ``chroma_url=``) points at a Chroma server instead, so a
team can share one index; ``my_llm.memory.chroma_client`` makes the clients. Chunk ids
are ``<message id>:<n>``, so indexing the same message twice is a no-op, and the
whole index can be rebuilt from the JSONL log at any time; how far the log is indexed is kept by a cursor
(``my_llm.memory.index_sync``). Chroma failures surface as one-line MemoryStoreErrors.
chromadb is imported only when an index is used: it takes most of a second.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from my_llm.memory.chroma_client import ChromaURLError, chroma_client
from my_llm.memory.chroma_client import chroma_target as _chroma_target
from my_llm.memory.message_log import MemoryStoreError, Record, record_text

log = logging.getLogger("my_llm.memory")

CHROMA_DIRNAME = "chroma"
COLLECTION_PREFIX = "memory_"
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 150
UPSERT_BATCH = 128
# Tasks whose messages are logged but never become sources (answers about memory itself).
NOT_INDEXED_TASKS = frozenset({"memory_question", "memory_answer"})
_METADATA_KEYS = ("task", "run_id", "title", "conversation_id", "source", "model")


def chroma_target(root: Path, chroma_url: str | None = None) -> str:
    """The server's URL in use, or the on-disk folder: also the index cursor's key."""
    try:
        return _chroma_target(Path(root) / CHROMA_DIRNAME, chroma_url)
    except ChromaURLError as exc:  # callers (clear(), the CLI) expect a MemoryStoreError
        raise MemoryStoreError(str(exc)) from exc


def get_client(root: Path, chroma_url: str | None = None) -> Any:
    """The Chroma client for the configured target (``my_llm.memory.chroma_client``), shared."""
    target = chroma_target(root, chroma_url)
    try:
        return chroma_client(Path(root) / CHROMA_DIRNAME, chroma_url)
    except Exception as exc:
        if "://" in target:
            raise MemoryStoreError(
                f"Chroma server at {target} is unreachable: {one_line(exc)}"
            ) from exc
        raise MemoryStoreError(
            f"Chroma cannot use {target}: {one_line(exc)} (the log is intact; "
            "fix it, then run: my-llm reindex)"
        ) from exc


def one_line(exc: BaseException) -> str:
    """Chroma errors can span lines; a CLI error must not."""
    return (" ".join(str(exc).split()) or type(exc).__name__)[:300]


def collection_name(namespace: str) -> str:
    return f"{COLLECTION_PREFIX}{namespace}"


def chunk_text(text: str, size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list[str]:
    """Split long messages so each chunk fits the embedding model's window."""
    if len(text) <= size:
        return [text] if text.strip() else []
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap)
    return [c for c in splitter.split_text(text) if c.strip()]


def indexable(record: Record) -> bool:
    """Questions and answers about memory are logged but never used as sources."""
    task = (record.get("metadata") or {}).get("task")
    return task not in NOT_INDEXED_TASKS and bool(record_text(record).strip())


def _chunk_metadata(record: Record, chunk: int) -> dict[str, str | int | float | bool]:
    meta: dict[str, str | int | float | bool] = {
        "message_id": record["id"],
        "namespace": str(record.get("namespace", "")),
        "role": str(record.get("role", "")),
        "ts": str(record.get("ts", "")),
        "chunk": chunk,
    }
    for key in _METADATA_KEYS:
        value = (record.get("metadata") or {}).get(key)
        if value is None:
            continue
        meta[key] = value if isinstance(value, str | int | float | bool) else json.dumps(value)
    return meta


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk of a past message."""

    message_id: str
    text: str
    role: str
    ts: str
    distance: float
    metadata: dict[str, Any]


class MemoryIndex:
    """The Chroma collection of one namespace."""

    def __init__(
        self,
        namespace: str,
        root: Path,
        *,
        chroma_url: str | None = None,
        embedding_function: Any = None,
        embeddings: str | None = None,
    ) -> None:
        self.namespace = namespace
        self.root = Path(root)
        self.chroma_url = chroma_url
        self._ef = embedding_function
        self._kind = embeddings
        self._collection: Any = None

    @property
    def target(self) -> str:
        return chroma_target(self.root, self.chroma_url)

    def embedding_function(self) -> Any:
        if self._ef is None:
            from my_llm.memory.embeddings import get_embedding_function

            self._ef = get_embedding_function(self._kind)
        return self._ef

    def collection(self) -> Any:
        if self._collection is None:
            client = get_client(self.root, self.chroma_url)
            ef = self.embedding_function()
            try:
                self._collection = client.get_or_create_collection(
                    collection_name(self.namespace),
                    embedding_function=ef,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"my_llm": "message memory", "namespace": self.namespace},
                )
            except ValueError as exc:
                raise MemoryStoreError(
                    f"Chroma collection for namespace {self.namespace!r} does not fit "
                    f"{ef.name()} embeddings ({one_line(exc)}); "
                    f"run: my-llm reindex --namespace {self.namespace}"
                ) from exc
            except Exception as exc:
                raise MemoryStoreError(f"Chroma at {self.target} failed: {one_line(exc)}") from exc
        return self._collection

    def indexed_message_ids(self) -> set[str]:
        collection = self.collection()
        try:
            got = collection.get(include=[])
        except Exception as exc:
            raise MemoryStoreError(f"Chroma at {self.target} failed: {one_line(exc)}") from exc
        return {chunk_id.rsplit(":", 1)[0] for chunk_id in got["ids"]}

    def count(self) -> int:
        collection = self.collection()
        try:
            return int(collection.count())
        except Exception as exc:
            raise MemoryStoreError(f"Chroma at {self.target} failed: {one_line(exc)}") from exc

    def add_records(
        self,
        records: Iterable[Record],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Upsert the chunks of these records; returns how many messages were indexed."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        messages = 0
        for record in records:
            if not indexable(record):
                continue
            chunks = chunk_text(record_text(record))
            for n, chunk in enumerate(chunks):
                ids.append(f"{record['id']}:{n}")
                docs.append(chunk)
                metas.append(_chunk_metadata(record, n))
            messages += 1
        if not ids:
            return 0
        collection = self.collection()
        for start in range(0, len(ids), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            try:
                collection.upsert(
                    ids=ids[start:end], documents=docs[start:end], metadatas=metas[start:end]
                )
            except Exception as exc:  # the log keeps everything: indexing resumes later
                raise MemoryStoreError(
                    f"indexing {self.namespace!r} into Chroma at {self.target} failed: "
                    f"{one_line(exc)}"
                ) from exc
            if progress:
                progress(min(end, len(ids)) - start)
        return messages

    def search(self, query: str, k: int = 6, where: dict[str, Any] | None = None) -> list[Hit]:
        collection = self.collection()
        try:
            if collection.count() == 0:
                return []
            found = collection.query(
                query_texts=[query],
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        except Exception as exc:
            raise MemoryStoreError(f"Chroma at {self.target} failed: {one_line(exc)}") from exc
        hits = []
        for chunk_id, doc, meta, dist in zip(
            found["ids"][0],
            found["documents"][0],
            found["metadatas"][0],
            found["distances"][0],
            strict=True,
        ):
            meta = dict(meta or {})
            hits.append(
                Hit(
                    message_id=str(meta.get("message_id", chunk_id.rsplit(":", 1)[0])),
                    text=doc or "",
                    role=str(meta.get("role", "")),
                    ts=str(meta.get("ts", "")),
                    distance=float(dist),
                    metadata=meta,
                )
            )
        return hits

    def drop(self) -> None:
        """Delete this namespace's collection (it is rebuilt from the JSONL on demand)."""
        from my_llm.memory.index_sync import forget

        if "://" not in self.target and not Path(self.target).exists():
            forget(self.root, self.namespace, self.target)
            return  # never indexed here: don't create a store just to empty it
        client = get_client(self.root, self.chroma_url)
        try:
            client.delete_collection(collection_name(self.namespace))
        except Exception as exc:  # NotFoundError differs between versions; absent is fine
            if "does not exist" not in str(exc) and "not found" not in str(exc).lower():
                raise MemoryStoreError(
                    f"could not drop Chroma collection for {self.namespace!r}: {one_line(exc)}"
                ) from exc
        forget(self.root, self.namespace, self.target)
        self._collection = None
