"""PubSubChatMessageHistory: every message to JSONL, then Pub/Sub, then (lazily) Chroma."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from my_llm.memory import pubsub
from my_llm.memory.chatgpt_export import ImportReport
from my_llm.memory.message_log import (
    MemoryStoreError,
    MessageLog,
    Record,
    make_record,
    record_text,
    records_to_messages,
    utc_now,
)
from my_llm.memory.outbox import Outbox
from my_llm.standards import (
    MemoryAnswer,
    answer_from_memory,
    model_name,
    request_llm,
    summarise,
)

log = logging.getLogger("my_llm.memory")

__all__ = ["ImportReport", "MemoryAnswer", "PubSubChatMessageHistory", "request_llm"]

DOCUMENT_ROLE = "document"


class PubSubChatMessageHistory(BaseChatMessageHistory):
    """A LangChain chat history that keeps every message, shares it and makes it searchable.

    Each message goes, in this order, to:

    1. the JSONL log ``$MESSAGE_HISTORY/<namespace>/memory.jsonl`` (the system of
       record; locked, fsync'd, safe for concurrent processes);
    2. Pub/Sub topic ``chat-messages-<namespace>`` (or ``pubsub_topic``) when
       ``GOOGLE_CLOUD_PROJECT`` or ``PUBSUB_EMULATOR_HOST`` is set: published from
       the log by a background thread, at least once, with a cursor on disk
       (``my_llm.memory.outbox``), so nothing is lost if Pub/Sub is down or the process
       dies; ``my-llm flush`` sends what is left;
    3. Chroma, **lazily**: nothing is embedded on ``add_messages`` (loading the
       embedding model costs about a second). ``save_vectorstore_memory()``,
       ``question_memory()`` and ``index()`` index what the index cursor has not
       reached yet; ``my-llm reindex`` rebuilds it from the JSONL.

    Construction only checks names and environment variables, so tools can
    create one on every run. Logging with metadata::

        memory = PubSubChatMessageHistory("create_script", metadata={"run_id": run_id})
        memory.add_messages([HumanMessage(prompt), reply], metadata={"task": "generate"})

    ``metadata`` given to the constructor applies to every message; per-call
    metadata is merged over it. Each stored record has an id, a UTC timestamp,
    the namespace, the role, the content and this metadata; ``records()``
    returns them, ``messages`` returns LangChain messages whose ``id`` is the
    record id.
    """

    def __init__(
        self,
        memory_namespace: str,
        pubsub_topic: str | None = None,
        *,
        history_dir: str | Path | None = None,
        metadata: Mapping[str, Any] | None = None,
        chat: Any = None,
        publish: bool | None = None,
        chroma_url: str | None = None,
        embeddings: str | None = None,
        durable: bool = True,
    ) -> None:
        root = Path(history_dir).expanduser() if history_dir is not None else None
        self.log = MessageLog(memory_namespace, root, durable=durable)
        self.namespace = self.log.namespace
        self.root = self.log.root
        self.topic = pubsub.topic_for(self.namespace, pubsub_topic)
        self.default_metadata = dict(metadata or {})
        self.chat = chat
        self.chroma_url = chroma_url
        self.embeddings = embeddings
        self._index: Any = None
        self.publisher = pubsub.get_publisher() if publish is not False else None
        self.outbox: Outbox | None = None
        if self.publisher is not None:
            self.outbox = Outbox(self.root, self.namespace, self.topic)
            self.outbox.ensure_started()  # on disk before any append of ours: kill -9 safe
            self.publisher.register(self.outbox)  # also sends what earlier runs left

    # -- BaseChatMessageHistory ----------------------------------------------------------------
    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The conversation so far (documents saved for retrieval are not part of it)."""
        return records_to_messages(r for r in self.log.records() if r["role"] != DOCUMENT_ROLE)

    def add_messages(
        self, messages: Sequence[BaseMessage], metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Log messages with optional metadata (task, run_id, ...), then publish them."""
        self.append(messages, metadata)

    def add_message(self, message: BaseMessage, metadata: Mapping[str, Any] | None = None) -> None:
        self.append([message], metadata)

    def add_user_message(
        self, message: HumanMessage | str, metadata: Mapping[str, Any] | None = None
    ) -> None:
        self.append(
            [message if isinstance(message, HumanMessage) else HumanMessage(message)], metadata
        )

    def add_ai_message(
        self, message: AIMessage | str, metadata: Mapping[str, Any] | None = None
    ) -> None:
        self.append([message if isinstance(message, AIMessage) else AIMessage(message)], metadata)

    def clear(self) -> None:
        """Start a fresh history: the old log is kept as a dated archive; the index is dropped.

        Messages of the archive that Pub/Sub has not acknowledged yet are still sent.
        """
        archived = self.log.archive()
        if archived is not None:
            log.info("memory %r archived to %s", self.namespace, archived)
        try:
            self.vector_index().drop()
        except MemoryStoreError as exc:
            log.warning("%s (the index will be rebuilt by my-llm reindex)", exc)

    # -- writing -------------------------------------------------------------------------------
    def append(
        self, messages: Iterable[BaseMessage], metadata: Mapping[str, Any] | None = None
    ) -> list[Record]:
        """Like ``add_messages`` but returns the stored records (with their ids)."""
        meta = {**self.default_metadata, **dict(metadata or {})}
        records = [make_record(m, self.namespace, meta) for m in messages]
        self._store(records)
        return records

    def _store(self, records: list[Record]) -> None:
        if not records:
            return
        self.log.append(records)  # system of record: Pub/Sub is fed from it
        if self.publisher is not None and self.outbox is not None:
            self.publisher.notify(self.outbox)  # sets a flag: never waits on the network

    def records(self) -> list[Record]:
        """Every stored record of the current log, in order."""
        return self.log.records()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Publish what Pub/Sub has not acknowledged yet, waiting at most ``timeout`` s.

        True when everything logged in this namespace is on Pub/Sub (or publishing is
        off); False leaves the rest in the log for the background thread or `my-llm flush`.
        """
        if self.publisher is None or self.outbox is None:
            return True
        return self.publisher.flush(self.outbox, timeout)

    # -- Chroma --------------------------------------------------------------------------------
    def vector_index(self) -> Any:
        """The namespace's Chroma collection wrapper (created on first use)."""
        if self._index is None:
            from my_llm.memory.vectorstore import MemoryIndex

            self._index = MemoryIndex(
                self.namespace, self.root, chroma_url=self.chroma_url, embeddings=self.embeddings
            )
        return self._index

    def index(self, progress: bool = False) -> int:
        """Index what the log holds after the index cursor; returns how many messages.

        Chroma failing raises MemoryStoreError (one line) and changes nothing in the
        log; the next call resumes where the cursor stopped.
        """
        from my_llm.memory.index_sync import index_pending, pending_count

        index = self.vector_index()
        if not progress:
            return index_pending(index)
        total = pending_count(index)
        if not total:
            return index_pending(index)
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"indexing {self.namespace}", total=total)
            return index_pending(index, progress=lambda n: bar.advance(task, n))

    def reindex(self, progress: bool = False) -> int:
        """Drop the collection and rebuild it from the JSONL."""
        self.vector_index().drop()
        return self.index(progress=progress)

    def save_vectorstore_memory(self, docs: Sequence[Any] | None = None) -> int:
        """Index the given documents (logged first, so a reindex keeps them), else pending messages.

        ``docs`` may be LangChain ``Document`` objects or strings; saving the same
        document twice adds nothing.
        """
        if docs is None:
            return self.index()
        existing = self.log.ids()
        fresh = [r for r in (self._document_record(d) for d in docs) if r["id"] not in existing]
        self._store(fresh)
        return self.index()

    def _document_record(self, doc: Any) -> Record:
        text = doc if isinstance(doc, str) else getattr(doc, "page_content", None)
        if not isinstance(text, str):
            raise MemoryStoreError(
                f"save_vectorstore_memory takes Documents or strings, got {type(doc).__name__}"
            )
        meta = {} if isinstance(doc, str) else dict(getattr(doc, "metadata", {}) or {})
        meta.setdefault("task", "document")
        digest = hashlib.sha256(
            json.dumps([text, meta], sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()[:32]
        return {
            "id": f"doc-{digest}",
            "ts": utc_now(),
            "namespace": self.namespace,
            "role": DOCUMENT_ROLE,
            "content": text,
            "metadata": json.loads(json.dumps(meta, default=str)),
            "lc": {},
        }

    # -- the old API -----------------------------------------------------------------------
    def _model(self, chat: Any = None) -> Any:
        if chat is not None:
            return chat
        if self.chat is None:
            from my_llm.models import get_chat_model

            self.chat = get_chat_model()
        return self.chat

    def apply_summarise_to_memory(self, n: int | None = None, chat: Any = None) -> str:
        """Summarise the last ``n`` messages (all when None); store it with task "summary"."""
        if n is not None and (not isinstance(n, int) or n < 1):
            raise MemoryStoreError(f"n must be a positive number of messages, got {n!r}")
        records = [r for r in self.records() if r["role"] != DOCUMENT_ROLE]
        if n is not None:
            records = records[-n:]
        model = self._model(chat)
        summary = summarise(records, model)
        self.append(
            [AIMessage(summary)],
            {"task": "summary", "summarised": len(records), "model": model_name(model)},
        )
        return summary

    def question_memory(self, question: str, llm: Any = None, k: int = 6) -> MemoryAnswer:
        """Answer from retrieved past messages; returns the answer with its sources.

        The question and answer are logged (tasks ``memory_question`` and
        ``memory_answer``) but never indexed, so they never become sources.
        """
        if not isinstance(question, str) or not question.strip():
            raise MemoryStoreError("question_memory needs a non-empty question")
        self.index()
        hits = self.vector_index().search(question, k=k)
        model = self._model(llm)
        result = answer_from_memory(question, hits, model)
        self.append([HumanMessage(question)], {"task": "memory_question"})
        self.append(
            [AIMessage(result.answer)],
            {
                "task": "memory_answer",
                "sources": [h.message_id for h in hits],
                "model": model_name(model),
            },
        )
        return result

    def load_chatgpt_export(self, path: str | Path, progress: bool = False) -> ImportReport:
        """Import ChatGPT's conversations.json: active branches only, each message once.

        Titles, conversation ids and original timestamps are kept; a malformed file raises and
        writes nothing, a malformed conversation is reported by name and skipped. Concurrent
        imports of one file add each message once (`my_llm.memory.chatgpt_export.import_conversations`).
        """
        from my_llm.memory.chatgpt_export import import_conversations

        return import_conversations(self, path, progress)

    # -- reading -------------------------------------------------------------------------------
    def search_log(self, text: str | None = None) -> list[Record]:
        """Records whose text contains ``text`` (case-insensitive); all when None."""
        records = self.records()
        if not text:
            return records
        needle = text.lower()
        return [r for r in records if needle in record_text(r).lower()]

    def __repr__(self) -> str:
        return f"PubSubChatMessageHistory({self.namespace!r}, log={str(self.log.path)!r})"
