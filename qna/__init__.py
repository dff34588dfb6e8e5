"""Questions answered over a code directory, with summaries and cited sources.

Python API (the ``read-repo`` command line is a thin layer over it)::

    from qna import index_directory, ask
    stats = index_directory("~/src/project")          # incremental; returns IndexStats
    result = ask("~/src/project", "Where are retries configured?")
    print(result.answer, [str(s) for s in result.sources])

Names are imported lazily so ``read-repo --help`` does not pay for Chroma and LangChain.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "Answer",
    "IndexStats",
    "PhaseTimes",
    "RepoSession",
    "Source",
    "SummaryStats",
    "answer_question",
    "ask",
    "index_directory",
    "open_collection",
    "retrieve",
    "summarise_directory",
    "walk_directory",
]

_WHERE = {
    "Answer": "qna.answer",
    "Source": "qna.answer",
    "answer_question": "qna.answer",
    "ask": "qna.answer",
    "retrieve": "qna.answer",
    "IndexStats": "qna.index",
    "index_directory": "qna.index",
    "open_collection": "qna.index",
    "walk_directory": "qna.walk",
    "SummaryStats": "qna.summaries",
    "RepoSession": "qna.session",
    "PhaseTimes": "qna.timings",
    "summarise_directory": "qna.summaries",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'qna' has no attribute {name!r}")
