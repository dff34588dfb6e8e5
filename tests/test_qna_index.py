"""read-repo on a real code tree nobody here wrote: the installed `requests` package, copied.

Real embeddings (the offline MiniLM) and a real Chroma on disk; the chat model is a LangChain fake.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage

from my_llm.memory.embeddings import default_embedding_function
from qna.answer import Hit, answer_question, ask, fit_context, retrieve
from qna.index import (
    CODE_KIND,
    SUMMARY_KIND,
    collection_name,
    get_client,
    index_directory,
    open_collection,
)

# Questions whose answer lives in one known file of requests.
QUESTIONS = [
    ("How is HTTP Digest authentication implemented, with the nonce and qop?", "auth.py"),
    ("What does raise_for_status do for 4xx and 5xx responses?", "models.py"),
    ("How are redirects followed and the Location header resolved?", "sessions.py"),
    ("Which dictionary keeps header names case-insensitive?", "structures.py"),
    ("How is a cookie jar created from a plain dict of cookies?", "cookies.py"),
    ("How are event hooks such as response hooks dispatched?", "hooks.py"),
    ("How are credentials read from the user's .netrc file?", "utils.py"),
    (
        "How are connection pool size and max retries configured in the transport adapter?",
        "adapters.py",
    ),
]


def _copy_requests(dest: Path, only: list[str] | None = None) -> Path:
    spec = importlib.util.find_spec("requests")
    assert spec is not None and spec.origin, "requests must be installed (chromadb depends on it)"
    src = Path(spec.origin).parent
    if only is None:
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        dest.mkdir(parents=True)
        for name in only:
            shutil.copy2(src / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def embedding() -> Any:
    return default_embedding_function()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedding: Any) -> dict[str, Any]:
    """The whole requests tree indexed once for this module (about 10 s of embedding)."""
    base = tmp_path_factory.mktemp("qna_real")
    root = _copy_requests(base / "requests")
    db = base / "db"
    client = get_client(db)
    stats = index_directory(root, client=client, embedding_function=embedding)
    return {"root": root, "db": db, "client": client, "stats": stats}


def test_full_index_counts(indexed: dict[str, Any], embedding: Any) -> None:
    stats = indexed["stats"]
    n_files = len(list(indexed["root"].glob("*.py")))
    assert stats.files_seen == n_files
    assert stats.files_indexed == n_files
    assert stats.files_unchanged == 0
    assert stats.chunks_added == stats.chunks_total > n_files
    collection = open_collection(
        indexed["root"], client=indexed["client"], embedding_function=embedding
    )
    metas = collection.get(where={"kind": CODE_KIND}, include=["metadatas"])["metadatas"]
    assert {m["path"] for m in metas} == {p.name for p in indexed["root"].glob("*.py")}
    assert all(1 <= m["start_line"] <= m["end_line"] for m in metas)


def test_no_change_reindex_embeds_nothing(indexed: dict[str, Any], embedding: Any) -> None:
    again = index_directory(indexed["root"], client=indexed["client"], embedding_function=embedding)
    assert (again.files_indexed, again.chunks_added, again.chunks_deleted) == (0, 0, 0)
    assert again.files_unchanged == indexed["stats"].files_seen
    assert again.chunks_total == indexed["stats"].chunks_total


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_questions_retrieve_their_file(
    indexed: dict[str, Any], embedding: Any, question: str, expected: str
) -> None:
    collection = open_collection(
        indexed["root"], client=indexed["client"], embedding_function=embedding
    )
    code, _ = retrieve(collection, question, k=5)
    assert expected in [hit.path for hit in code]


def test_answer_cites_retrieved_lines(indexed: dict[str, Any], embedding: Any) -> None:
    collection = open_collection(
        indexed["root"], client=indexed["client"], embedding_function=embedding
    )
    chat = FakeListChatModel(responses=["Digest auth lives in HTTPDigestAuth [1]."])
    before = collection.count()
    result = answer_question(collection, QUESTIONS[0][0], chat, k=4)
    assert result.answer == "Digest auth lives in HTTPDigestAuth [1]."
    assert 1 <= len(result.sources) <= 4
    assert "auth.py" in [s.path for s in result.sources]
    lines = (indexed["root"] / "auth.py").read_text().splitlines()
    for source in result.sources:
        assert 1 <= source.start_line <= source.end_line
        if source.path == "auth.py":
            assert source.end_line <= len(lines)
    assert collection.count() == before  # answers never enter the code index


def test_context_budget_limits_what_the_model_reads(indexed: dict[str, Any], embedding: Any) -> None:
    """A budget smaller than k chunks shows fewer, nearest first, and cites only what it showed."""
    collection = open_collection(
        indexed["root"], client=indexed["client"], embedding_function=embedding
    )
    question = QUESTIONS[0][0]
    everything = answer_question(collection, question, FakeListChatModel(responses=["a"]), k=5,
                                 context_chars=None)
    budgeted = answer_question(collection, question, FakeListChatModel(responses=["a"]), k=5,
                               context_chars=1500)
    assert len(everything.hits) == 5
    assert 1 <= len(budgeted.hits) < 5
    assert budgeted.hits[0] == everything.hits[0]  # the nearest is always shown
    starts = {(s.path, s.start_line) for s in everything.sources}  # a cut chunk ends earlier
    assert {(s.path, s.start_line) for s in budgeted.sources} <= starts
    # Earlier turns are read again with every answer, so they come out of the same budget.
    talked = answer_question(collection, question, FakeListChatModel(responses=["a"]), k=5,
                             context_chars=1500, history=[HumanMessage("y" * 1450)])
    assert talked.hits == everything.hits[:1]


def _hit(path: str, size: int, distance: float, kind: str = CODE_KIND) -> Hit:
    return Hit(path, 1, 2, "x" * size, kind=kind, distance=distance)


def test_fit_context_ranks_both_kinds_by_distance_and_skips_what_does_not_fit() -> None:
    code = [_hit("a.py", 1000, 0.3), _hit("b.py", 1400, 0.5), _hit("c.py", 300, 0.7)]
    summaries = [_hit("a.py", 2000, 0.4, SUMMARY_KIND)]  # shown cut to 900 characters
    shown_code, shown_summaries = fit_context(code, summaries, 2500)
    # 1000 + 900 fit; b.py (1400) would pass 2500 and is skipped; c.py (300) still fits.
    assert [h.path for h in shown_code] == ["a.py", "c.py"]
    assert shown_summaries == summaries
    assert fit_context(code, summaries, 10) == ([code[0]], [])  # the nearest, whatever its size
    assert fit_context(code, summaries, None) == (code, summaries)


def test_fit_context_cuts_a_chunk_to_its_first_lines_and_cites_them() -> None:
    lines = "".join(f"line {i:03}\n" for i in range(1, 101))  # 9 characters a line
    near = Hit("a.py", 1, 100, "# a.py lines 1-100\n" + lines, distance=0.1)
    far = Hit("b.py", 201, 300, "# b.py lines 201-300\n" + lines, distance=0.2)
    shown, _ = fit_context([near, far], [], 900 + 450)
    assert shown[0] == near  # the nearest, whole
    assert shown[1].start_line == 201 and shown[1].end_line == 250  # 50 whole lines in 450
    assert shown[1].text.splitlines()[0] == "# b.py lines 201-300" and shown[1].text.endswith("line 050\n")
    assert fit_context([near, far], [], 900 + 399)[0] == [near]  # too little left to be worth it


def test_incremental_edit_and_delete(tmp_path: Path, embedding: Any) -> None:
    root = _copy_requests(
        tmp_path / "req", only=["hooks.py", "structures.py", "certs.py", "api.py"]
    )
    client = get_client(tmp_path / "db")
    first = index_directory(root, client=client, embedding_function=embedding)
    assert first.files_indexed == 4
    with (root / "hooks.py").open("a") as handle:
        handle.write("\n\ndef brand_new_hook_helper():\n    return 'zebra'\n")
    (root / "certs.py").unlink()
    second = index_directory(root, client=client, embedding_function=embedding)
    assert second.changed_paths == ["hooks.py"]
    assert second.deleted_paths == ["certs.py"]
    assert (second.files_indexed, second.files_deleted, second.files_unchanged) == (1, 1, 2)
    collection = open_collection(root, client=client, embedding_function=embedding)
    remaining = collection.get(include=["metadatas"])["metadatas"]
    assert "certs.py" not in {m["path"] for m in remaining}
    hooks_chunks = [m for m in remaining if m["path"] == "hooks.py"]
    assert second.chunks_added == len(hooks_chunks)
    assert second.chunks_total == first.chunks_total - second.chunks_deleted + second.chunks_added
    hit = retrieve(collection, "brand_new_hook_helper zebra", k=1)[0][0]
    assert hit.path == "hooks.py" and "zebra" in hit.text
    # --reindex starts over: everything is embedded again.
    rebuilt = index_directory(root, client=client, embedding_function=embedding, reindex=True)
    assert rebuilt.files_indexed == 3 and rebuilt.chunks_total == second.chunks_total


def test_one_collection_per_directory(tmp_path: Path, embedding: Any) -> None:
    one = _copy_requests(tmp_path / "one", only=["hooks.py"])
    two = _copy_requests(tmp_path / "two", only=["certs.py"])
    client = get_client(tmp_path / "db")
    index_directory(one, client=client, embedding_function=embedding)
    index_directory(two, client=client, embedding_function=embedding)
    assert collection_name(one) != collection_name(two)
    assert collection_name(one) == collection_name(tmp_path / "two" / ".." / "one")
    paths = {
        m["path"]
        for m in open_collection(one, client=client, embedding_function=embedding).get(
            include=["metadatas"]
        )["metadatas"]
    }
    assert paths == {"hooks.py"}


def test_ask_indexes_first_when_no_index_exists(tmp_path: Path, embedding: Any) -> None:
    root = _copy_requests(tmp_path / "req", only=["hooks.py", "certs.py"])
    client = get_client(tmp_path / "db")
    assert open_collection(root, client=client, embedding_function=embedding, create=False) is None
    chat = FakeListChatModel(responses=["dispatch_hook calls each hook."])
    result = ask(
        root,
        "How are hooks dispatched?",
        chat=chat,
        client=client,
        embedding_function=embedding,
        update=False,
    )
    assert result.answer == "dispatch_hook calls each hook."
    assert result.sources[0].path == "hooks.py"


def test_cli_json_on_real_tree(
    indexed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from qna import read_repo

    monkeypatch.setenv("MESSAGE_HISTORY", str(indexed["db"].parent / "history"))
    monkeypatch.setattr(
        read_repo, "make_chat_model", lambda args: FakeListChatModel(responses=["Use Session."])
    )
    code = read_repo.main(
        [str(indexed["root"]), "--db", str(indexed["db"]), "--no-summaries", "--json", "-k", "3",
         "-q", QUESTIONS[2][0]]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0
    payload = json.loads(out.out)
    assert set(payload) == {"answer", "sources"}
    assert payload["answer"] == "Use Session."
    assert 1 <= len(payload["sources"]) <= 3
    for source in payload["sources"]:
        assert set(source) == {"path", "start_line", "end_line"}
        assert (indexed["root"] / source["path"]).is_file()  # relative to DIR
    assert "sessions.py" in [s["path"] for s in payload["sources"]]
    assert "0 indexed" in out.err  # nothing changed since the module's index
