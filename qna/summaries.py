"""Per-file Markdown summaries written by the model, kept where they cannot collide with yours.

Summaries live in ``DIR/.qna/summaries/<path>.md`` (or ``--summaries-dir``). A manifest records
every file this tool created with the sha256 of what it wrote, so the tool never overwrites or
appends to a file it did not create, nor to one of its own that a person has since edited (that
file is theirs now). Summaries are indexed too, as chunks of kind "summary".

Summaries are slow (one model call per code file) and optional for recall, so read-repo builds
them after it has answered; a run may therefore be stopped at any summary. Every write is
crash-consistent: the manifest first records the bytes about to be written as "pending", then the
summary file is replaced atomically, then the manifest records it as done. Killed anywhere, the
store holds whole files that are all still recognised as ours.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from my_llm.files import write_atomically
from qna.chunks import language_of
from qna.index import SUMMARY_KIND, delete_paths, indexed_hashes, upsert_chunks
from qna.prompts import SUMMARY_PROMPT
from qna.walk import SourceFile

__all__ = [
    "DOC_EXTS",
    "MANIFEST_NAME",
    "SummaryError",
    "SummaryStats",
    "SummaryStore",
    "index_summaries",
    "is_code_file",
    "clean_summary",
    "outline",
    "pending_files",
    "summarise_directory",
    "summarise_files",
]

MANIFEST_NAME = ".read-repo-manifest.json"
MANIFEST_TOOL = "read_repo"
DOC_EXTS = (".md", ".markdown", ".rst", ".txt")
SOURCE_BUDGET = 3500  # characters of source shown to the model: a small local model reads slowly
SUMMARY_MAX_TOKENS = 384  # enough for three short sections; stops a small model's rambling
_SECTIONS = ("purpose", "main classes", "how to use")
SUMMARY_INDEX_CHARS = 2000


class SummaryError(Exception):
    """The summaries folder cannot be used safely; the message is one line."""


def is_code_file(path: str) -> bool:
    """Summaries are for code; documentation files speak for themselves."""
    return not path.lower().endswith(DOC_EXTS)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class SummaryStats:
    """What a summarising run did."""

    written: int = 0
    kept: int = 0
    foreign: int = 0  # files at our paths that we did not create (or that were edited): untouched
    removed: int = 0
    indexed: int = 0
    written_paths: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        return (
            f"summaries: {self.written} written, {self.kept} kept, {self.removed} removed, "
            f"{self.foreign} not ours (left untouched), {self.indexed} indexed"
        )


class SummaryStore:
    """The summaries folder and its manifest of files this tool created."""

    def __init__(self, root: str | Path, summaries_dir: str | Path | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.default_location = summaries_dir is None
        self.dir = (
            Path(summaries_dir).expanduser().resolve()
            if summaries_dir is not None
            else self.root / ".qna" / "summaries"
        )
        self.manifest_path = self.dir / MANIFEST_NAME
        self.entries: dict[str, dict[str, str]] = self._load()

    # ---- manifest

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SummaryError(
                f"{self.manifest_path} is not a read-repo manifest; refusing to write there "
                "(choose another --summaries-dir)"
            ) from exc
        if not isinstance(data, dict) or data.get("tool") != MANIFEST_TOOL:
            raise SummaryError(
                f"{self.manifest_path} was not written by read-repo; refusing to write there"
            )
        return dict(data.get("files", {}))

    def save(self) -> None:
        """Write the manifest atomically (``my_llm.files``), so a crash never leaves half of it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ignore_in_git()
        payload = {"tool": MANIFEST_TOOL, "version": 1, "files": self.entries}
        write_atomically(self.manifest_path, json.dumps(payload, indent=1, sort_keys=True))

    def _ignore_in_git(self) -> None:
        """Keep .qna/ out of the user's git status, creating .qna/.gitignore only if absent."""
        if not self.default_location:
            return
        marker = self.dir.parent / ".gitignore"
        try:
            with open(marker, "x", encoding="utf-8") as handle:
                handle.write("# created by read-repo\n*\n")
        except FileExistsError:
            pass

    # ---- files

    def path_for(self, source: str) -> Path:
        """Where the summary of a source file lives: <summaries dir>/<path>.md."""
        return self.dir / (source + ".md")

    def owns(self, source: str) -> bool:
        """True if the summary file is one we wrote and nobody changed since.

        A "pending" hash is the one a write had announced when the run was stopped: the file then
        holds either the old bytes or those, both ours.
        """
        entry = self.entries.get(source)
        target = self.path_for(source)
        if entry is None or not target.is_file():
            return False
        try:
            digest = _sha256(target.read_bytes())
        except OSError:
            return False
        return digest in {entry.get("sha256"), entry.get("pending")} - {None}

    def read(self, source: str) -> str | None:
        """The summary text for a source file, whoever wrote it; None when there is none."""
        target = self.path_for(source)
        try:
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def write(self, source: str, text: str, source_hash: str) -> bool:
        """Create or replace our own summary; returns False (and writes nothing) if not ours.

        Pending in the manifest, then the file, then done in the manifest: a run killed between
        any two steps leaves a store whose files are whole and still ours (see the module doc).
        """
        target = self.path_for(source)
        data = text.encode("utf-8")
        existed = target.exists()
        if existed and not self.owns(source):
            return False
        before = self.entries.get(source)
        self.entries[source] = {**(before or {}), "pending": _sha256(data)}
        self.save()
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if existed:
                write_atomically(target, data)  # keeps the file's mode (0644 when we made it)
            else:
                _create_exclusively(target, data)
        except FileExistsError:  # a file appeared at our path meanwhile: it is not ours
            self._restore(source, before)
            return False
        self.entries[source] = {"sha256": _sha256(data), "source_hash": source_hash}
        self.save()
        return True

    def _restore(self, source: str, before: dict[str, str] | None) -> None:
        if before is None:
            self.entries.pop(source, None)
        else:
            self.entries[source] = before
        self.save()

    def remove(self, source: str) -> bool:
        """Delete our summary of a file that is gone; a summary someone edited is left in place."""
        owned = self.owns(source)
        if owned:
            self.path_for(source).unlink(missing_ok=True)
        self.entries.pop(source, None)
        return owned


def _create_exclusively(target: Path, data: bytes) -> None:
    """A new file, whole or absent after a crash, never over one that appeared meanwhile.

    The bytes go to a hidden sibling with ``write_atomically`` (fsynced), then are hard-linked to
    the target, which fails if the target exists; where a filesystem has no hard links, an
    exclusive create is the fallback.
    """
    staging = target.with_name(f".{target.name}.new")
    write_atomically(staging, data)
    try:
        os.link(staging, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some FUSE and network mounts)
        with open(target, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        staging.unlink(missing_ok=True)


def outline(path: str, text: str, limit: int = 60) -> str:
    """Classes and functions with signatures and first docstring lines: a cheap map for the model."""
    if language_of(path) != "python":
        return "(not available for this language)"
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return "(the file does not parse)"
    lines: list[str] = []

    def visit(body: list[ast.stmt], indent: str) -> None:
        for node in body:
            if len(lines) >= limit:
                return
            if isinstance(node, ast.ClassDef):
                bases = ", ".join(ast.unparse(b) for b in node.bases)
                head = (
                    f"{indent}class {node.name}({bases})" if bases else f"{indent}class {node.name}"
                )
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("_") and node.name != "__init__":
                    continue
                ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
                head = f"{indent}def {node.name}({ast.unparse(node.args)}){ret}"
            else:
                continue
            doc = ast.get_docstring(node)
            if doc:
                head += f"  # {doc.strip().splitlines()[0][:100]}"
            lines.append(head)
            if isinstance(node, ast.ClassDef):
                visit(node.body, indent + "    ")

    visit(tree.body, "")
    return "\n".join(lines) or "(no classes or functions)"


def generate_summary(chat: BaseChatModel, source: SourceFile, budget: int = SOURCE_BUDGET) -> str:
    """Ask the model for one file's summary, headed by the path it describes."""
    text = source.text
    shown = text if len(text) <= budget else text[:budget] + "\n# ... (truncated)\n"
    messages = SUMMARY_PROMPT.format_messages(
        path=source.path,
        outline=outline(source.path, text),
        language=language_of(source.path) or "",
        source=shown,
    )
    reply = chat.invoke(messages, max_tokens=SUMMARY_MAX_TOKENS).text
    return f"# Summary of `{source.path}`\n\n{clean_summary(reply)}\n"


def clean_summary(reply: str) -> str:
    """Keep the three asked-for sections; small models like to append the source or an outline."""
    text = reply.strip()
    fence = text.split("\n", 1)
    if fence[0].strip() in ("```", "```markdown", "```md") and text.endswith("```"):
        text = fence[1].rsplit("```", 1)[0].strip()
    kept: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        heading = line.strip().lstrip("#").strip().lower()
        if not in_fence and line.startswith("#") and not heading.startswith(_SECTIONS):
            if kept:  # an unexpected section after the real ones: the rest is noise
                break
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def pending_files(
    store: SummaryStore,
    files: Sequence[SourceFile],
    *,
    resummarise: bool = False,
    stats: SummaryStats | None = None,
) -> list[SourceFile]:
    """The code files whose summary is missing or stale (no model call); counts the rest in stats.

    With ``stats`` it also forgets (and counts) our summaries of files that are gone.
    """
    code = [f for f in files if is_code_file(f.path)]
    if stats is not None:
        current = {f.path for f in code}
        for source in sorted(set(store.entries) - current):
            if store.remove(source):
                stats.removed += 1
    todo = []
    for f in code:
        if store.path_for(f.path).exists():
            if not store.owns(f.path):
                if stats is not None:
                    stats.foreign += 1
                continue
            if not resummarise and store.entries[f.path].get("source_hash") == f.sha256:
                if stats is not None:
                    stats.kept += 1
                continue
        todo.append(f)
    return todo


def summarise_files(
    store: SummaryStore,
    files: Sequence[SourceFile],
    chat: BaseChatModel,
    *,
    resummarise: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    stats: SummaryStats | None = None,
    on_written: Callable[[SourceFile], None] | None = None,
    limit: int | None = None,
) -> SummaryStats:
    """Write missing or stale summaries; with ``resummarise`` rewrite all of ours, never others'.

    Each summary is on disk (and passed to ``on_written``, e.g. to index it) before the next model
    call, so stopping the run at any point (Ctrl-C) keeps every finished one. ``stats`` is filled
    as it goes, so a caller that is interrupted still knows what was done; ``limit`` caps the
    model calls of this run.
    """
    stats = stats if stats is not None else SummaryStats()
    todo = pending_files(store, files, resummarise=resummarise, stats=stats)
    if limit is not None:
        todo = todo[: max(0, limit)]
    try:
        for n, f in enumerate(todo, 1):
            text = generate_summary(chat, f)
            if store.write(f.path, text, f.sha256):
                stats.written += 1
                stats.written_paths.append(f.path)
                if on_written:
                    on_written(f)
            else:
                stats.foreign += 1
            if progress:
                progress("summaries", n, len(todo))
    finally:
        store.save()  # removals are recorded, even if the model fails half way
    return stats


def index_summaries(
    store: SummaryStore,
    files: Sequence[SourceFile],
    collection: Any,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Embed summaries that changed, drop those of files that are gone; returns how many embedded.

    The chunk is filed under the code file's path and whole line range, so citing a summary
    points at the file it describes.
    """
    known = indexed_hashes(collection, SUMMARY_KIND)
    items: list[tuple[str, str, dict[str, Any]]] = []
    present: set[str] = set()
    for f in files:
        if not is_code_file(f.path):
            continue
        text = store.read(f.path)
        if text is None or not text.strip():
            continue
        present.add(f.path)
        digest = _sha256(text.encode("utf-8"))
        if known.get(f.path) == digest:
            continue
        meta = {
            "path": f.path,
            "kind": SUMMARY_KIND,
            "start_line": 1,
            "end_line": max(1, len(f.text.splitlines())),
            "file_hash": digest,
        }
        items.append((f"{SUMMARY_KIND}:{f.path}", text[:SUMMARY_INDEX_CHARS], meta))
    stale = [p for p in known if p not in present]  # changed ones are replaced by upsert (same id)
    delete_paths(collection, stale, SUMMARY_KIND)
    upsert_chunks(collection, items, progress)
    return len(items)


def summarise_directory(
    directory: str | Path,
    chat: BaseChatModel,
    *,
    exts: Sequence[str] | str | None = None,
    ignore: Sequence[str] = (),
    summaries_dir: str | Path | None = None,
    resummarise: bool = False,
    collection: Any = None,
) -> SummaryStats:
    """Summarise every code file of a directory from Python; index the summaries if given a collection."""
    from qna.walk import check_directory, walk_directory

    root = check_directory(directory)
    walked = walk_directory(root, exts, ignore)
    store = SummaryStore(root, summaries_dir)
    stats = summarise_files(store, walked.files, chat, resummarise=resummarise)
    if collection is not None:
        stats.indexed = index_summaries(store, walked.files, collection)
    return stats
