"""One read-repo run over a directory, in the order that gets a newcomer an answer soonest.

Why this order: on a 2-core machine the per-file summaries are the slow part (one model call per
code file, ~30-40 s each with the 1.5B, so ~15-20 min for 30 modules), while recall comes from
the code chunks (recall@5 0.96 on ``benchmarks/qna.py`` with no summary at all). So a session
indexes the code (embeddings only), answers from the chunks plus whatever summaries earlier runs
left, and only then writes the summaries still missing, each indexed as soon as it is on disk, so
a later question benefits and a stopped run keeps them. ``read-repo`` (``qna.read_repo``) and
``benchmarks/qna.py --first-answer`` both drive this class, so the benchmark times what users get.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from qna.answer import CONTEXT_CHARS, DEFAULT_K, FIRST_TOKEN, Answer, answer_question
from qna.index import IndexStats, index_directory, open_collection
from qna.summaries import (
    SummaryStats,
    SummaryStore,
    index_summaries,
    pending_files,
    summarise_files,
)
from qna.timings import PhaseTimes
from qna.walk import SourceFile, WalkResult, check_directory, walk_directory

__all__ = ["RepoSession"]

Progress = Callable[[str, int, int], None]


@dataclass
class RepoSession:
    """A directory's index, its summary store (None without summaries) and the chat model, timed."""

    root: Path
    chat: BaseChatModel
    collection: Any
    walked: WalkResult
    index_stats: IndexStats
    store: SummaryStore | None = None
    times: PhaseTimes = field(default_factory=PhaseTimes)
    k: int = DEFAULT_K
    context_chars: int | None = CONTEXT_CHARS
    resummarise: bool = False
    summary_stats: SummaryStats = field(default_factory=SummaryStats)
    model_loaded: bool = False

    @classmethod
    def open(
        cls,
        directory: str | Path,
        chat: BaseChatModel,
        *,
        client: Any,
        embedding_function: Any,
        exts: Sequence[str] | str | None = None,
        ignore: Sequence[str] = (),
        reindex: bool = False,
        summaries: bool = True,
        summaries_dir: str | Path | None = None,
        progress: Progress | None = None,
        times: PhaseTimes | None = None,
    ) -> RepoSession:
        """Walk and index the code (no model call), and index the summaries earlier runs wrote."""
        times = times if times is not None else PhaseTimes()
        root = check_directory(directory)
        with times.phase("walk"):
            walked = walk_directory(root, exts, ignore)
        with times.phase("index"):
            stats = index_directory(
                root, exts=exts, ignore=ignore, reindex=reindex, client=client,
                embedding_function=embedding_function, progress=progress, walked=walked,
            )  # fmt: skip
            collection = open_collection(root, client=client, embedding_function=embedding_function)
            store = SummaryStore(root, summaries_dir) if summaries else None
            session = cls(root, chat, collection, walked, stats, store, times)
            if store is not None:  # summaries of a run that was stopped before indexing them
                session.summary_stats.indexed += index_summaries(store, walked.files, collection)
        return session

    def load_model(self) -> None:
        """Load the weights as a phase of its own, so the timings split loading from answering."""
        if self.model_loaded:
            return
        self.model_loaded = True
        # The embedded model has load(); a remote one or a test's fake has nothing to load.
        load = getattr(self.chat, "load", None)
        if callable(load):
            with self.times.phase("model load"):
                load()

    def answer(
        self,
        question: str,
        *,
        history: Sequence[BaseMessage] = (),
        repo: str | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Retrieve and answer at once: never waits for a summary that is not written yet.

        ``on_text`` gets the answer as it is written (streamed); its first-token time is kept on
        the answer only: it lies within the "answer" phase, so the phases do not count it.
        """
        self.load_model()
        result = answer_question(
            self.collection, question, self.chat, k=self.k, context_chars=self.context_chars,
            repo=self.root.name if repo is None else repo, history=history, on_text=on_text,
        )  # fmt: skip
        for phase, seconds in result.timings.items():
            if phase != FIRST_TOKEN:
                self.times.add(phase, seconds)
        return result

    def pending(self) -> list[SourceFile]:
        """Code files whose summary is missing or stale; no model call."""
        if self.store is None:
            return []
        return pending_files(self.store, self.walked.files, resummarise=self.resummarise)

    def summarise(self, progress: Progress | None = None, limit: int | None = None) -> SummaryStats:
        """Write the missing summaries one by one, each indexed once it is on disk.

        Stopped (Ctrl-C, a model error), it keeps what is done: ``summary_stats`` says what.
        """
        if self.store is None:
            return self.summary_stats
        store, files = self.store, self.walked.files

        def index_it(_written: SourceFile) -> None:
            self.summary_stats.indexed += index_summaries(store, files, self.collection)

        self.load_model()
        with self.times.phase("summaries"):
            summarise_files(
                store, files, self.chat, resummarise=self.resummarise, progress=progress,
                stats=self.summary_stats, on_written=index_it, limit=limit,
            )  # fmt: skip
        self.resummarise = False  # done once: a second call only fills what is still missing
        return self.summary_stats
