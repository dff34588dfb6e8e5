"""The old ``my_llm.standards`` entry points, on LangChain 1.x.

``request_llm(prompt, chat, memory)`` calls the model and the history
explicitly (no deprecated chains): recent history within a token budget, then
the prompt; both messages are logged. ``summarise`` and ``answer_from_memory``
back the history's ``apply_summarise_to_memory`` and ``question_memory``.
Any LangChain ``BaseChatModel`` works, including the embedded local model and
LangChain's fake models in tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

from my_llm.memory.message_log import MemoryStoreError, Record, record_text
from my_llm.memory.prompts import QUESTION_PROMPT, SUMMARISE_PROMPT, label

if TYPE_CHECKING:
    from my_llm.memory.vectorstore import Hit

__all__ = [
    "MemoryAnswer",
    "answer_from_memory",
    "model_name",
    "reply_text",
    "request_llm",
    "summarise",
]

HISTORY_TOKENS = 2000
SUMMARY_INPUT_TOKENS = 3000
SNIPPET_CHARS = 160


class ChatMemory(Protocol):
    """What `request_llm` needs of a history (`PubSubChatMessageHistory` is one): named here
    so this module need not import the history, which imports it."""

    @property
    def messages(self) -> list[BaseMessage]: ...

    def add_messages(self, messages: Sequence[BaseMessage], metadata: Mapping[str, Any] | None = None) -> None: ...


def model_name(chat: Any) -> str:
    """A short name for the model, kept in message metadata."""
    for attr in ("model_name", "model", "model_path"):
        value = getattr(chat, attr, None)
        if isinstance(value, str) and value:
            return value.rsplit("/", 1)[-1]
    llm_type = getattr(chat, "_llm_type", None)
    return str(llm_type) if llm_type else type(chat).__name__


def reply_text(reply: Any) -> str:
    """Text of whatever a model returned (a message, or a plain string from an LLM)."""
    if isinstance(reply, BaseMessage):
        return reply.text
    return str(reply)


def _invoke(chat: Any, messages: Sequence[BaseMessage]) -> Any:
    if chat is None or not hasattr(chat, "invoke"):
        raise MemoryStoreError(
            f"expected a LangChain chat model, got {type(chat).__name__}: "
            "e.g. my_llm.models.get_chat_model('local')"
        )
    return chat.invoke(list(messages))


def request_llm(
    prompt: str,
    chat: Any,
    memory: ChatMemory,
    metadata: Mapping[str, Any] | None = None,
    *,
    max_history_tokens: int = HISTORY_TOKENS,
) -> str:
    """Ask ``chat`` with recent history from ``memory``; log prompt and reply; return the text.

    The prompt is logged before the call (it was said to an LLM even if the call
    fails) and the reply after it, with the caller's metadata on both.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise MemoryStoreError("request_llm needs a non-empty prompt string")
    if getattr(memory, "chat", "absent") is None:
        memory.chat = chat  # type: ignore[attr-defined]  # later summaries and questions use the same model
    history = [m for m in memory.messages if m.type in ("human", "ai", "system")]
    context = trim_messages(
        history,
        max_tokens=max_history_tokens,
        strategy="last",
        token_counter=count_tokens_approximately,
        start_on="human",
        include_system=True,
        allow_partial=False,
    )
    human = HumanMessage(prompt)
    meta = {"task": "chat", **dict(metadata or {})}
    meta.setdefault("model", model_name(chat))
    memory.add_messages([human], metadata=meta)
    reply = _invoke(chat, [*context, human])
    answer = reply if isinstance(reply, AIMessage) else AIMessage(reply_text(reply))
    memory.add_messages([answer], metadata=meta)
    return reply_text(answer)


def conversation_text(records: Sequence[Record], max_tokens: int = SUMMARY_INPUT_TOKENS) -> str:
    """The last records as ``Role: text`` lines, cut to a token budget from the end."""
    lines: list[str] = []
    used = 0
    for record in reversed(records):
        line = f"{label(str(record.get('role', '')))}: {record_text(record)}"
        cost = count_tokens_approximately([HumanMessage(line)])
        if lines and used + cost > max_tokens:
            break
        lines.append(line)
        used += cost
    return "\n".join(reversed(lines))


def summarise(records: Sequence[Record], chat: Any, max_words: int = 150) -> str:
    """A short summary of the given records, written by ``chat``."""
    if not records:
        raise MemoryStoreError("nothing to summarise: the memory has no messages")
    prompt = SUMMARISE_PROMPT.format_messages(
        conversation=conversation_text(records), max_words=max_words
    )
    return reply_text(_invoke(chat, prompt)).strip()


@dataclass
class MemoryAnswer:
    """An answer from memory and the past messages it was drawn from.

    ``str()`` gives the answer followed by its sources, so ``print()`` shows both.
    """

    answer: str
    sources: list[Hit] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.sources:
            return self.answer
        lines = [self.answer, "== Sources:"]
        for n, hit in enumerate(self.sources, start=1):
            snippet = " ".join(hit.text.split())
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[: SNIPPET_CHARS - 1] + "…"
            title = hit.metadata.get("title")
            where = f" ({title})" if title else ""
            lines.append(f" [{n}] {label(hit.role)} {hit.ts}{where}: {snippet}")
        return "\n".join(lines)


def format_context(hits: Sequence[Hit]) -> str:
    blocks = []
    for n, hit in enumerate(hits, start=1):
        title = hit.metadata.get("title")
        where = f", conversation {title!r}" if title else ""
        blocks.append(f"[{n}] {label(hit.role)}, {hit.ts}{where}:\n{hit.text}")
    return "\n\n".join(blocks)


def answer_from_memory(question: str, hits: Sequence[Hit], llm: Any) -> MemoryAnswer:
    """Ask ``llm`` to answer from the retrieved messages only."""
    if not hits:
        return MemoryAnswer("I don't know: nothing in this memory matches the question.", [])
    prompt = QUESTION_PROMPT.format_messages(context=format_context(hits), question=question)
    return MemoryAnswer(reply_text(_invoke(llm, prompt)).strip(), list(hits))
