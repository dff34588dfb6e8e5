"""Retrieve the chunks and summaries that matter for a question, and answer it with cited sources.

The chat model is called explicitly (no chains): the prompt is built from ``qna.prompts``, the
reply is returned with the exact files and line ranges that were put in front of the model.
Questions and answers may be logged to a message history, never to the code index.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from qna.index import CODE_KIND, SUMMARY_KIND
from qna.prompts import ANSWER_PROMPT, format_context

__all__ = [
    "CONTEXT_CHARS",
    "FIRST_TOKEN",
    "Answer",
    "Hit",
    "Source",
    "answer_question",
    "ask",
    "fit_context",
    "history_namespace",
    "log_exchange",
    "open_history",
    "retrieve",
]

DEFAULT_K = 5
SUMMARIES_IN_CONTEXT = 2
SUMMARY_CONTEXT_CHARS = 900
# Characters of code and summaries shown per answer (~800 tokens). Prefill is most of an answer's
# wait on a CPU (~85 tokens/s with the 1.5B on 2 cores), so the budget fixes the wait; which
# budget keeps the answers' recall and key terms is measured in docs/read-repo.md.
CONTEXT_CHARS = 3500
MIN_PIECE_CHARS = 400  # a chunk cut shorter than this says too little to be worth its tokens
HISTORY_TURNS = 2  # earlier exchanges of this session shown to the model, for follow-up questions
FIRST_TOKEN = "first_token"  # the timings key of a streamed answer's first words


@dataclass(frozen=True)
class Source:
    """A cited file region; path is relative to the indexed directory."""

    path: str
    start_line: int
    end_line: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "start_line": self.start_line, "end_line": self.end_line}

    def __str__(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass
class Hit:
    """One retrieved chunk (code or summary) with its distance to the question."""

    path: str
    start_line: int
    end_line: int
    text: str
    kind: str = CODE_KIND
    distance: float = 0.0

    @property
    def source(self) -> Source:
        return Source(self.path, self.start_line, self.end_line)


@dataclass
class Answer:
    """The model's answer and the sources it was given."""

    answer: str
    sources: list[Source] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    # Seconds by phase ("retrieval", "answer"): the CLI's --timings and the benchmark read them.
    # A streamed answer adds "first_token": from the request to its first words, within "answer".
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Exactly the shape ``--json`` prints."""
        return {"answer": self.answer, "sources": [s.to_dict() for s in self.sources]}


def _query(collection: Any, question: str, n: int, kind: str) -> list[Hit]:
    if n <= 0:
        return []
    available = collection.count()
    if available == 0:
        return []
    got = collection.query(
        query_texts=[question],
        n_results=min(n, available),
        where={"kind": kind},
        include=["documents", "metadatas", "distances"],
    )
    hits = []
    docs = (got.get("documents") or [[]])[0]
    metas = (got.get("metadatas") or [[]])[0]
    dists = (got.get("distances") or [[]])[0]
    for doc, meta, dist in zip(docs, metas, dists, strict=False):
        hits.append(
            Hit(
                path=str(meta["path"]),
                start_line=int(meta["start_line"]),
                end_line=int(meta["end_line"]),
                text=doc or "",
                kind=kind,
                distance=float(dist),
            )
        )
    return hits


def retrieve(
    collection: Any, question: str, k: int = DEFAULT_K, summaries: int = SUMMARIES_IN_CONTEXT
) -> tuple[list[Hit], list[Hit]]:
    """Top-k code chunks and the most relevant file summaries for a question."""
    return _query(collection, question, k, CODE_KIND), _query(
        collection, question, summaries, SUMMARY_KIND
    )


def _context_size(hit: Hit) -> int:
    """Characters the hit takes in the prompt (chunks lose their header, summaries are cut)."""
    if hit.kind == SUMMARY_KIND:
        return min(len(hit.text), SUMMARY_CONTEXT_CHARS)
    return len(_strip_header(hit.text))


def _cut(hit: Hit, chars: int) -> Hit | None:
    """A code hit's first whole lines within ``chars``, its cited line range shortened to match."""
    if hit.kind != CODE_KIND or chars < MIN_PIECE_CHARS:
        return None
    body = _strip_header(hit.text)
    header = hit.text[: len(hit.text) - len(body)]
    lines, size = [], 0
    for line in body.splitlines(keepends=True):
        if size + len(line) > chars:
            break
        lines.append(line)
        size += len(line)
    if not lines:
        return None
    return replace(hit, text=header + "".join(lines), end_line=hit.start_line + len(lines) - 1)


def fit_context(
    code: Sequence[Hit], summaries: Sequence[Hit], budget: int | None = CONTEXT_CHARS
) -> tuple[list[Hit], list[Hit]]:
    """The hits to show, nearest first across both kinds, while they fit ``budget`` characters.

    The nearest hit is always shown whole. A code chunk that does not fit whole is shown cut to
    its first lines when at least ``MIN_PIECE_CHARS`` are left (a definition's head names most of
    what it does); otherwise it is skipped and a smaller, farther hit may still fit. ``None``
    shows everything retrieved.
    """
    if budget is None:
        return list(code), list(summaries)
    shown: dict[int, Hit] = {}  # id of the retrieved hit -> what is shown of it
    used = 0
    for hit in sorted([*code, *summaries], key=lambda h: h.distance):
        piece: Hit | None = hit
        if shown and used + _context_size(hit) > budget:
            piece = _cut(hit, budget - used)
            if piece is None:
                continue
        shown[id(hit)] = piece
        used += _context_size(piece)
    return [shown[id(h)] for h in code if id(h) in shown], [
        shown[id(h)] for h in summaries if id(h) in shown
    ]


def _strip_header(text: str) -> str:
    """Chunks are stored with a '# path lines a-b' header; the context block has its own."""
    first, _, rest = text.partition("\n")
    return rest if first.startswith("# ") and " lines " in first else text


def build_messages(
    question: str,
    code: Sequence[Hit],
    summaries: Sequence[Hit],
    repo: str = "",
    history: Sequence[BaseMessage] = (),
) -> list[BaseMessage]:
    """The answer prompt filled in: numbered excerpts first, then summaries, then the question."""
    blocks: list[tuple[str, str]] = []
    for hit in code:
        blocks.append(
            (f"{hit.path} lines {hit.start_line}-{hit.end_line}", _strip_header(hit.text))
        )
    for hit in summaries:
        text = hit.text
        if len(text) > SUMMARY_CONTEXT_CHARS:
            text = text[:SUMMARY_CONTEXT_CHARS] + " ..."
        blocks.append((f"summary of {hit.path}", text))
    return ANSWER_PROMPT.format_messages(
        repo=repo or "this repository",
        context=format_context(blocks) if blocks else "(nothing relevant was found)",
        question=question,
        history=list(history),
    )


def _sources(code: Sequence[Hit], summaries: Sequence[Hit]) -> list[Source]:
    """Every region shown to the model, in rank order, without duplicates."""
    seen: dict[Source, None] = {}
    for hit in [*code, *summaries]:
        seen.setdefault(hit.source, None)
    return list(seen)


def _streamed_reply(
    chat: BaseChatModel, messages: list[BaseMessage], on_text: Callable[[str], None]
) -> tuple[str, float | None]:
    """The reply's text, handed to ``on_text`` piece by piece as the model writes it, and the
    seconds from the request to the first piece with a visible character (None if none came)."""
    sent = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for chunk in chat.stream(messages):
        text: str = chunk.text
        if not text:
            continue
        if first is None and text.strip():
            first = time.perf_counter() - sent
        pieces.append(text)
        on_text(text)
    return "".join(pieces), first


def answer_question(
    collection: Any,
    question: str,
    chat: BaseChatModel,
    *,
    k: int = DEFAULT_K,
    repo: str = "",
    history: Sequence[BaseMessage] = (),
    summaries: int = SUMMARIES_IN_CONTEXT,
    on_text: Callable[[str], None] | None = None,
    context_chars: int | None = CONTEXT_CHARS,
) -> Answer:
    """Retrieve, then ask the model once; the sources are what the model was shown.

    ``k`` code chunks and ``summaries`` summaries are retrieved; of those, the nearest that fit
    ``context_chars``, less what the earlier turns of ``history`` take, are shown (``fit_context``).

    With ``on_text`` the reply is streamed to it as written (raw pieces, whitespace included) and
    ``timings["first_token"]`` says how long the first words took; without, one plain call.
    """
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    started = time.perf_counter()
    budget = context_chars
    if budget is not None:  # earlier turns are read again each time (not a cached prefix): they count
        budget = max(0, budget - sum(len(m.text) for m in history))
    code, summary_hits = fit_context(*retrieve(collection, question, k, summaries), budget)
    retrieved = time.perf_counter()
    messages = build_messages(question, code, summary_hits, repo, history)
    first: float | None = None
    text: str
    if on_text is None:
        text = chat.invoke(messages).text
    else:
        text, first = _streamed_reply(chat, messages, on_text)
    timings = {"retrieval": retrieved - started, "answer": time.perf_counter() - retrieved}
    if first is not None:
        timings[FIRST_TOKEN] = first
    return Answer(text.strip(), _sources(code, summary_hits), [*code, *summary_hits], timings)


# --------------------------------------------------------------------------- message history


def history_namespace(directory: str | Path) -> str:
    """qna_<directory name>, reduced to characters every history backend accepts."""
    name = Path(directory).expanduser().resolve().name or "root"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:90].strip("_-")
    return "qna_" + (slug or "root")


def open_history(directory: str | Path) -> Any | None:
    """The shared message history for this directory, or None when that module is not there."""
    try:
        from my_llm.memory.history import PubSubChatMessageHistory
    except ImportError:
        return None
    return PubSubChatMessageHistory(history_namespace(directory))


def log_exchange(history: Any | None, question: str, answer: Answer) -> None:
    """Record a question and its answer (with sources) in the message history, if any."""
    if history is None:
        return
    cited = ", ".join(str(s) for s in answer.sources)
    messages = [
        HumanMessage(content=question),
        AIMessage(content=f"{answer.answer}\n\nSources: {cited}"),
    ]
    try:
        history.add_messages(messages, metadata={"task": "qna", "sources": cited})
    except TypeError:  # a plain BaseChatMessageHistory takes messages only
        history.add_messages(messages)


def recent_turns(turns: Sequence[tuple[str, str]], limit: int = HISTORY_TURNS) -> list[BaseMessage]:
    """The last few (question, answer) pairs of this session as chat messages."""
    messages: list[BaseMessage] = []
    for question, reply in list(turns)[-limit:]:
        messages.append(HumanMessage(content=question))
        messages.append(AIMessage(content=reply))
    return messages


def ask(
    directory: str | Path,
    question: str,
    *,
    chat: BaseChatModel | None = None,
    model: str | None = None,
    k: int = DEFAULT_K,
    context_chars: int | None = CONTEXT_CHARS,
    db_path: str | Path | None = None,
    client: Any = None,
    embedding_function: Any = None,
    exts: Sequence[str] | str | None = None,
    ignore: Sequence[str] = (),
    update: bool = True,
    history: Any | None = None,
) -> Answer:
    """Answer one question about a directory from Python, indexing it first when needed.

    With ``update`` (the default) the index is brought up to date first, which is cheap when
    nothing changed; without it, an index is built only if none exists yet.
    """
    from qna.index import index_directory, open_collection

    if embedding_function is None:
        from my_llm.memory.embeddings import get_embedding_function

        embedding_function = get_embedding_function()
    if client is None:
        from qna.index import get_client

        client = get_client(db_path)
    collection = open_collection(
        directory, client=client, embedding_function=embedding_function, create=False
    )
    if update or collection is None or collection.count() == 0:
        index_directory(
            directory,
            exts=exts,
            ignore=ignore,
            client=client,
            embedding_function=embedding_function,
        )
        collection = open_collection(
            directory, client=client, embedding_function=embedding_function
        )
    if chat is None:
        from my_llm.models import get_chat_model

        chat = get_chat_model(model)
    result = answer_question(
        collection, question, chat, k=k, repo=Path(directory).name, context_chars=context_chars
    )
    log_exchange(history, question, result)
    return result
