"""Keep a Chroma index of a directory current: one collection per directory, incremental.

Every chunk carries the sha256 of the file it came from, so a second run re-embeds only files
whose bytes changed and deletes the chunks of files that went away. Each directory (by its
resolved path) gets its own collection, so two projects never mix. Which files are read is
``qna.walk``; how they are cut is ``qna.chunks``; the client comes from ``my_llm.memory.chroma_client``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from my_llm.memory.chroma_client import chroma_client
from qna.chunks import chunk_text, language_of
from qna.walk import (
    MAX_FILE_BYTES,
    IndexError_,
    SkipCounts,
    SourceFile,
    WalkResult,
    check_directory,
    parse_exts,
    walk_directory,
)

__all__ = [
    "BATCH",
    "CODE_KIND",
    "SUMMARY_KIND",
    "IndexStats",
    "Progress",
    "collection_name",
    "default_db_path",
    "delete_paths",
    "get_client",
    "index_directory",
    "indexed_hashes",
    "open_collection",
    "upsert_chunks",
]

CODE_KIND = "code"
SUMMARY_KIND = "summary"
BATCH = 64


@dataclass
class IndexStats(SkipCounts):
    """What an indexing run did; the CLI prints it and the tests assert on it."""

    collection: str = ""
    files_seen: int = 0
    files_indexed: int = 0  # new or changed, (re-)embedded this run
    files_unchanged: int = 0
    files_deleted: int = 0
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    changed_paths: list[str] = field(default_factory=list)
    deleted_paths: list[str] = field(default_factory=list)
    indexed_paths: list[str] = field(default_factory=list)  # every file now in the index

    def summary_line(self) -> str:
        """One line for humans: what changed and what was skipped."""
        parts = [
            f"{self.files_seen} files",
            f"{self.files_indexed} indexed",
            f"{self.files_unchanged} unchanged",
            f"{self.files_deleted} removed",
            f"{self.chunks_added} chunks embedded",
            f"{self.chunks_total} chunks in index",
        ]
        skipped = {
            "binary": self.skipped_binary,
            "too large": self.skipped_large,
            "not UTF-8": self.skipped_non_utf8,
            "unreadable": self.skipped_unreadable,
            "empty": self.skipped_empty,
            "names not UTF-8": self.skipped_bad_name,
            "links leaving the folder": self.skipped_outside,
            "not regular files": self.skipped_special,
        }
        detail = ", ".join(f"{n} {why}" for why, n in skipped.items() if n)
        parts.append(f"{self.skipped} skipped" + (f" ({detail})" if detail else ""))
        return ", ".join(parts) + f" in {self.seconds:.1f}s"


Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) with stage "files" or "chunks"."""


def default_db_path() -> Path:
    """Where the embedded Chroma lives when --db is not given (my_llm.paths says why there)."""
    from my_llm.paths import read_repo_db

    return read_repo_db()


def get_client(db_path: str | Path | None = None) -> Any:
    """A Chroma server's client when CHROMA_URL names one, else the embedded store on disk.

    ``db_path`` (``--db``) asks for that folder whatever CHROMA_URL says. A bad CHROMA_URL is
    refused (``my_llm.memory.chroma_client``) with the same line ``my-llm`` gives.
    """
    if db_path is not None:
        return chroma_client(db_path, url="")  # "": no server, whatever the environment says
    return chroma_client(default_db_path())


def collection_name(root: str | Path, embedding_name: str = "") -> str:
    """One collection per resolved directory (and embedding model), readable and Chroma-valid."""
    resolved = str(Path(root).expanduser().resolve())
    digest = hashlib.sha256(f"{resolved}\0{embedding_name}".encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(resolved).name or "root").strip("-_")[:40]
    return f"qna-{slug or 'root'}-{digest}"


def _embedding_name(embedding_function: Any) -> str:
    name = getattr(embedding_function, "name", None)
    try:
        return str(name()) if callable(name) else type(embedding_function).__name__
    except Exception:  # noqa: BLE001 - a legacy function without a name still works
        return type(embedding_function).__name__


def open_collection(
    root: str | Path,
    *,
    client: Any = None,
    db_path: str | Path | None = None,
    embedding_function: Any = None,
    create: bool = True,
) -> Any:
    """The collection of one directory; None if it does not exist and create is False."""
    if embedding_function is None:
        from my_llm.memory.embeddings import get_embedding_function

        embedding_function = get_embedding_function()
    client = client if client is not None else get_client(db_path)
    name = collection_name(root, _embedding_name(embedding_function))
    if not create:
        try:
            return client.get_collection(name, embedding_function=embedding_function)
        except Exception:  # noqa: BLE001 - chroma raises NotFoundError/ValueError by version
            return None
    return client.get_or_create_collection(
        name,
        embedding_function=embedding_function,
        metadata={"root": str(Path(root).expanduser().resolve()), "tool": "read_repo"},
    )


def indexed_hashes(collection: Any, kind: str) -> dict[str, str]:
    """path -> content hash of what the index holds for one kind of chunk."""
    got = collection.get(where={"kind": kind}, include=["metadatas"])
    hashes: dict[str, str] = {}
    for meta in got.get("metadatas") or []:
        if meta:
            hashes[str(meta["path"])] = str(meta.get("file_hash", ""))
    return hashes


def delete_paths(collection: Any, paths: Sequence[str], kind: str | None) -> int:
    """Remove the chunks of these paths (of one kind, or all kinds); returns how many went."""
    removed = 0
    paths = list(paths)
    for i in range(0, len(paths), 100):
        where: dict[str, Any] = {"path": {"$in": paths[i : i + 100]}}
        if kind is not None:
            where = {"$and": [{"kind": kind}, where]}
        ids = collection.get(where=where, include=[])["ids"]
        if ids:
            collection.delete(ids=ids)
            removed += len(ids)
    return removed


def upsert_chunks(
    collection: Any,
    items: Sequence[tuple[str, str, dict[str, Any]]],
    progress: Progress | None = None,
    done_before: int = 0,
    total: int | None = None,
) -> int:
    """Embed and store (id, document, metadata) triples in batches, reporting chunk progress."""
    total = total if total is not None else len(items)
    done = done_before
    for i in range(0, len(items), BATCH):
        batch = items[i : i + BATCH]
        collection.upsert(
            ids=[b[0] for b in batch],
            documents=[b[1] for b in batch],
            metadatas=[b[2] for b in batch],
        )
        done += len(batch)
        if progress:
            progress("chunks", done, total)
    return done


def index_directory(
    directory: str | Path,
    *,
    exts: Sequence[str] | str | None = None,
    ignore: Sequence[str] = (),
    reindex: bool = False,
    db_path: str | Path | None = None,
    client: Any = None,
    embedding_function: Any = None,
    collection: Any = None,
    max_bytes: int = MAX_FILE_BYTES,
    progress: Progress | None = None,
    walked: WalkResult | None = None,
) -> IndexStats:
    """Bring the directory's collection up to date and say what changed.

    Only new or changed files are chunked and embedded; chunks of files that disappeared (or are
    now ignored or skipped) are deleted. ``reindex`` drops the collection and starts over.
    ``walked`` lets a caller that already walked the tree (to summarise it too) skip a second walk.
    """
    started = time.perf_counter()
    root = check_directory(directory)
    if walked is None:
        walked = walk_directory(root, exts, ignore, max_bytes)
    _require_files(walked, root, exts)
    if collection is None:
        collection = _fresh_collection(root, client, db_path, embedding_function, reindex)
    elif reindex:
        ids = collection.get(where={"kind": CODE_KIND}, include=[])["ids"]
        if ids:
            collection.delete(ids=ids)

    stats = IndexStats(collection=collection.name, files_seen=len(walked.files))
    for reason, count in walked.skip_counts().items():
        setattr(stats, reason, count)
    known = indexed_hashes(collection, CODE_KIND)
    current = {f.path for f in walked.files}
    stats.deleted_paths = sorted(set(known) - current)
    changed = [f for f in walked.files if known.get(f.path) != f.sha256]
    stats.changed_paths = [f.path for f in changed]
    stats.files_unchanged = len(walked.files) - len(changed)

    # A file that is gone loses its summary chunk too; a changed one keeps it until resummarised.
    stats.chunks_deleted = delete_paths(collection, stats.deleted_paths, None)
    stats.chunks_deleted += delete_paths(
        collection, [f.path for f in changed if f.path in known], CODE_KIND
    )
    stats.files_deleted = len(stats.deleted_paths)

    items = _code_chunks(changed, progress)
    upsert_chunks(collection, items, progress)
    stats.chunks_added = len(items)
    stats.files_indexed = len(changed)
    stats.indexed_paths = sorted(current)
    stats.chunks_total = collection.count()
    stats.seconds = time.perf_counter() - started
    return stats


def _require_files(walked: WalkResult, root: Path, exts: Sequence[str] | str | None) -> None:
    """Refuse an index of nothing, saying why the walk found no file and what to do."""
    if walked.files:
        return
    why = (
        f" ({walked.skipped} skipped as binary, too large, not UTF-8, unreadable, empty, "
        "links leaving the folder or not regular files)"
    )
    raise IndexError_(
        f"no files with extensions {', '.join(parse_exts(exts))} to index under {root}"
        + (why if walked.skipped else "")
        + ": choose others with --ext"
    )


def _fresh_collection(
    root: Path, client: Any, db_path: str | Path | None, embedding_function: Any, reindex: bool
) -> Any:
    """Open the folder's collection in the store, dropped first when ``reindex`` asks to start over."""
    if embedding_function is None:
        from my_llm.memory.embeddings import get_embedding_function

        embedding_function = get_embedding_function()
    client = client if client is not None else get_client(db_path)
    if reindex:
        name = collection_name(root, _embedding_name(embedding_function))
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - nothing to delete
            pass
    return open_collection(root, client=client, embedding_function=embedding_function)


def _code_chunks(
    changed: Sequence[SourceFile], progress: Progress | None
) -> list[tuple[str, str, dict[str, Any]]]:
    """Chunk the changed files into (id, document, metadata) rows for the store."""
    items: list[tuple[str, str, dict[str, Any]]] = []
    for n, f in enumerate(changed, 1):
        for i, chunk in enumerate(chunk_text(f.path, f.text)):
            meta = {
                "path": f.path,
                "kind": CODE_KIND,
                "start_line": chunk.start_line,
                "end_line": chunk.end_line,
                "file_hash": f.sha256,
                "lang": language_of(f.path) or "text",
            }
            items.append((f"{CODE_KIND}:{f.path}#{i}", chunk.document(), meta))
        if progress:
            progress("files", n, len(changed))
    if progress and not changed:
        progress("files", 0, 0)
    return items
