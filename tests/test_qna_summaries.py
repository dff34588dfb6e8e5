"""Per-file summaries: written by a (fake) model, never over a file the tool did not create."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from qna.index import SUMMARY_KIND, get_client, index_directory, open_collection
from qna.summaries import (
    MANIFEST_NAME,
    SummaryError,
    SummaryStore,
    clean_summary,
    index_summaries,
    outline,
    pending_files,
    summarise_files,
)
from qna.walk import walk_directory

CODE = {
    "calc.py": 'def add(a: int, b: int) -> int:\n    """Add two numbers."""\n    return a + b\n',
    "pkg/shapes.py": "class Circle:\n    def area(self, r):\n        return 3.14 * r * r\n",
    "README.md": "# Demo\n\nA demo project.\n",
}


class PromptRecorder(BaseCallbackHandler):
    """Keeps the prompts a chat model was called with (a LangChain callback, not a mock)."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.prompts.append("\n".join(str(m.content) for m in messages[0]))


def _tree(root: Path) -> Path:
    for rel, text in CODE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _fake(n: int = 20, recorder: PromptRecorder | None = None) -> FakeListChatModel:
    return FakeListChatModel(
        responses=[f"## Purpose\nSummary number {i}." for i in range(n)],
        callbacks=[recorder] if recorder else None,
    )


def test_summaries_written_for_code_files_only(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    recorder = PromptRecorder()
    store = SummaryStore(root)
    stats = summarise_files(store, walk_directory(root).files, _fake(recorder=recorder))
    assert stats.written == 2 and sorted(stats.written_paths) == ["calc.py", "pkg/shapes.py"]
    summary = root / ".qna" / "summaries" / "calc.py.md"
    assert summary.read_text().startswith("# Summary of `calc.py`")
    assert (root / ".qna" / "summaries" / "pkg" / "shapes.py.md").is_file()
    assert not (root / ".qna" / "summaries" / "README.md.md").exists()
    manifest = json.loads((root / ".qna" / "summaries" / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == {"calc.py", "pkg/shapes.py"}
    assert (root / ".qna" / ".gitignore").read_text().strip().endswith("*")
    # The prompt carries the outline with signatures and the source itself.
    assert any("def add(a: int, b: int) -> int  # Add two numbers." in p for p in recorder.prompts)
    # Summaries are not walked as code.
    assert {f.path for f in walk_directory(root).files} == set(CODE)


def test_unchanged_kept_changed_rewritten_deleted_removed(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    summarise_files(SummaryStore(root), walk_directory(root).files, _fake())
    shapes_summary = root / ".qna" / "summaries" / "pkg" / "shapes.py.md"
    before = shapes_summary.read_text()
    (root / "calc.py").write_text("def sub(a, b):\n    return a - b\n")
    (root / "pkg" / "shapes.py").unlink()
    recorder = PromptRecorder()
    stats = summarise_files(
        SummaryStore(root), walk_directory(root).files, _fake(recorder=recorder)
    )
    assert (stats.written, stats.kept, stats.removed) == (1, 0, 1)
    assert len(recorder.prompts) == 1 and "def sub" in recorder.prompts[0]
    assert not shapes_summary.exists() and before
    # A third run with nothing changed calls the model zero times.
    recorder = PromptRecorder()
    stats = summarise_files(
        SummaryStore(root), walk_directory(root).files, _fake(recorder=recorder)
    )
    assert (stats.written, stats.kept) == (0, 1) and recorder.prompts == []


def test_never_overwrites_files_it_did_not_create(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    mine = root / ".qna" / "summaries" / "calc.py.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own notes\n")
    stats = summarise_files(
        SummaryStore(root), walk_directory(root).files, _fake(), resummarise=True
    )
    assert mine.read_text() == "my own notes\n"
    assert stats.foreign == 1 and stats.written == 1


def test_resummarise_rewrites_only_its_own_untouched_summaries(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    summarise_files(SummaryStore(root), walk_directory(root).files, _fake())
    edited = root / ".qna" / "summaries" / "calc.py.md"
    edited.write_text(edited.read_text() + "\nA note a person added.\n")  # now it is theirs
    ours = root / ".qna" / "summaries" / "pkg" / "shapes.py.md"
    fake = FakeListChatModel(responses=["## Purpose\nFresh summary."])
    stats = summarise_files(SummaryStore(root), walk_directory(root).files, fake, resummarise=True)
    assert (stats.written, stats.foreign) == (1, 1)
    assert edited.read_text().endswith("A note a person added.\n")
    assert "Fresh summary." in ours.read_text()
    # The edited file is also never deleted when its source goes away.
    (root / "calc.py").unlink()
    summarise_files(SummaryStore(root), walk_directory(root).files, _fake())
    assert edited.exists()


def test_refuses_a_folder_whose_manifest_is_not_ours(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    elsewhere = tmp_path / "notes"
    elsewhere.mkdir()
    (elsewhere / MANIFEST_NAME).write_text('{"something": "else"}')
    with pytest.raises(SummaryError, match="not written by read-repo"):
        SummaryStore(root, elsewhere)


def test_summaries_are_indexed_under_their_file(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    client = get_client(tmp_path / "db")
    index_directory(root, client=client)
    collection = open_collection(root, client=client)
    files = walk_directory(root).files
    store = SummaryStore(root, tmp_path / "elsewhere")
    summarise_files(store, files, _fake())
    assert index_summaries(store, files, collection) == 2
    assert index_summaries(store, files, collection) == 0  # unchanged summaries are not re-embedded
    got = collection.get(where={"kind": SUMMARY_KIND}, include=["metadatas"])["metadatas"]
    assert {m["path"] for m in got} == {"calc.py", "pkg/shapes.py"}
    calc = next(m for m in got if m["path"] == "calc.py")
    assert (calc["start_line"], calc["end_line"]) == (1, 3)
    # Deleting the source drops its summary chunk at the next index, summaries or not.
    (root / "calc.py").unlink()
    stats = index_directory(root, client=client)
    assert stats.deleted_paths == ["calc.py"]
    got = collection.get(where={"kind": SUMMARY_KIND}, include=["metadatas"])["metadatas"]
    assert {m["path"] for m in got} == {"pkg/shapes.py"}


def test_outline_lists_public_definitions() -> None:
    text = "class A(Base):\n    '''Doc A.'''\n    def run(self, x):\n        pass\n\ndef _hidden():\n    pass\n"
    assert outline("a.py", text) == "class A(Base)  # Doc A.\n    def run(self, x)"
    assert "not available" in outline("a.js", "function f() {}")


def test_clean_summary_drops_what_was_not_asked_for() -> None:
    reply = (
        "```markdown\n## Purpose\nDoes X.\n## Main classes and functions\n- `f(a)`: returns a.\n"
        "## How to use it\n```python\n# call it\nf(1)\n```\n## Outline of the file\nclass A: ...\n```"
    )
    cleaned = clean_summary(reply)
    assert cleaned.startswith("## Purpose\nDoes X.")
    assert "# call it" in cleaned and cleaned.endswith("```")
    assert "Outline" not in cleaned and "class A" not in cleaned


# --------------------------------------------------------------------------- killed mid-write


class Killed(BaseException):
    """Stands for SIGKILL: the disk is copied at that instant, so no `finally` can tidy up."""


def _kill_after(
    monkeypatch: pytest.MonkeyPatch, name: str, snapshot: Path, before: bool = False
) -> None:
    """Copy the summaries folder just before or after ``qna.summaries.<name>`` runs, then die."""
    import qna.summaries as summaries

    real = getattr(summaries, name)
    folder = [Path()]

    def dying(target: Path, data: bytes | str) -> None:
        if Path(target).name == MANIFEST_NAME or snapshot.exists():
            return real(target, data)  # the manifest's own (atomic) saves, and after the kill
        folder[0] = Path(target).parent
        while folder[0].name != "summaries":
            folder[0] = folder[0].parent
        if not before:
            real(target, data)
        shutil.copytree(folder[0], snapshot)
        raise Killed

    monkeypatch.setattr(summaries, name, dying)


@pytest.mark.parametrize(
    ("step", "before", "resummarise"),
    [
        ("_create_exclusively", True, False),  # the manifest says "pending", no file yet
        ("_create_exclusively", False, False),  # the file is whole, the manifest not yet final
        ("write_atomically", False, True),  # a replacement done, the manifest not yet final
        ("write_atomically", True, True),  # a replacement announced, the old file still there
    ],
)
def test_a_run_killed_at_any_step_leaves_a_store_the_next_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, before: bool, resummarise: bool
) -> None:
    root = _tree(tmp_path / "proj")
    files = walk_directory(root).files
    if resummarise:
        summarise_files(SummaryStore(root), files, _fake())
    snapshot = tmp_path / "snapshot"
    _kill_after(monkeypatch, step, snapshot, before)
    with pytest.raises(Killed):
        summarise_files(SummaryStore(root), files, _fake(), resummarise=resummarise)
    monkeypatch.undo()

    store = SummaryStore(root, snapshot)  # the manifest is whole JSON, recognised as ours
    on_disk = sorted(str(p.relative_to(snapshot))[: -len(".md")] for p in snapshot.rglob("*.md"))
    assert all(store.owns(path) for path in on_disk), on_disk  # nothing looks foreign
    assert not list(snapshot.rglob("*.tmp"))
    stats = summarise_files(store, files, _fake())
    assert stats.foreign == 0
    assert sorted(SummaryStore(root, snapshot).entries) == ["calc.py", "pkg/shapes.py"]
    for path in ("calc.py", "pkg/shapes.py"):
        assert SummaryStore(root, snapshot).owns(path)
        assert (snapshot / f"{path}.md").read_text().startswith(f"# Summary of `{path}`")


def test_pending_files_names_the_work_without_calling_the_model(tmp_path: Path) -> None:
    root = _tree(tmp_path / "proj")
    files = walk_directory(root).files
    store = SummaryStore(root)
    assert [f.path for f in pending_files(store, files)] == ["calc.py", "pkg/shapes.py"]
    summarise_files(store, files, _fake(), limit=1)  # a capped run writes one
    assert [f.path for f in pending_files(SummaryStore(root), files)] == ["pkg/shapes.py"]
    assert not (root / ".qna" / "summaries" / "pkg").exists()
