"""The read-repo command line: bad input, the loop, script mode, history and a team Chroma server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from qna import read_repo

REPO_ROOT = Path(__file__).resolve().parents[1]

TREE = {
    "billing/invoice.py": (
        "def total_with_tax(amount: float, rate: float) -> float:\n"
        '    """Return the invoice total including value added tax."""\n'
        "    return amount * (1 + rate)\n"
    ),
    "shipping/parcel.py": (
        "class Parcel:\n"
        '    """A parcel with a weight in kilograms and a postage price."""\n\n'
        "    def postage(self, kilograms: float) -> float:\n"
        "        return 4.5 + 1.2 * kilograms\n"
    ),
    "README.md": "# Shop\n\nInvoices and parcels.\n",
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private history, readline state and Chroma folders; no Pub/Sub, no team server."""
    monkeypatch.setenv("MESSAGE_HISTORY", str(tmp_path / "history"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CHROMA_DB_PATH", str(tmp_path / "db"))
    for name in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    for rel, text in TREE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _fake_model(monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
    chat = FakeListChatModel(responses=list(answers) or ["An answer."])
    monkeypatch.setattr(read_repo, "make_chat_model", lambda args: chat)


def _inputs(monkeypatch: pytest.MonkeyPatch, lines: list[str], end: type[BaseException]) -> None:
    """Feed the loop's input() from a list, then raise EOFError or KeyboardInterrupt."""
    feed: Iterator[str] = iter(lines)

    def fake_input(prompt: str = "") -> str:
        try:
            return next(feed)
        except StopIteration:
            raise end from None

    monkeypatch.setattr("builtins.input", fake_input)


def _bad_target(tmp: Path, kind: str) -> Path:
    """A DIR argument that must be refused: missing, a file, empty, or without .py/.md files."""
    if kind == "file":
        (tmp / "file.py").write_text("x = 1\n")
        return tmp / "file.py"
    if kind == "empty":
        (tmp / "empty").mkdir()
        return tmp / "empty"
    if kind == "no-match":
        (tmp / "docs").mkdir()
        (tmp / "docs" / "a.txt").write_text("text")
        return tmp / "docs"
    return tmp / "missing"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "no such directory"),
        ("file", "not a directory"),
        ("empty", "the directory is empty"),
        ("no-match", "no files with extensions .py, .md"),
    ],
)
def test_bad_directory_is_one_line_exit_2(
    env: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    assert read_repo.main([str(_bad_target(env, kind)), "-q", "anything"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_bad_k_is_exit_2(env: Path, shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert read_repo.main([str(shop), "-k", "0", "-q", "x"]) == 2
    assert "-k must be at least 1" in capsys.readouterr().err


def test_question_before_any_index_indexes_first_and_cites(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_model(monkeypatch, "## Purpose\nInvoice maths.", "## Purpose\nParcels.", "Tax is added.")
    code = read_repo.main(
        [str(shop), "-q", "How is value added tax added to an invoice?", "-k", "2"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "3 files, 3 indexed" in err  # the two code files and the README
    assert "summaries: 2 written" in err
    assert "Tax is added." in out
    sources = out.split("Sources:")[1].split()
    assert "billing/invoice.py:1-3" in sources  # the code chunk, with its line range
    assert (shop / ".qna" / "summaries" / "billing" / "invoice.py.md").is_file()


def test_interactive_loop_logs_history_and_exits_0_on_ctrl_d_and_130_on_ctrl_c(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_model(monkeypatch, "First answer.", "Second answer.")
    _inputs(monkeypatch, ["What does a parcel cost?", "", "And invoices?"], EOFError)
    assert read_repo.main([str(shop), "--no-summaries", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [item["answer"] for item in lines] == ["First answer.", "Second answer."]
    assert lines[0]["sources"][0]["path"] == "shipping/parcel.py"

    log = env / "history" / "qna_shop" / "memory.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["content"].split("\n")[0] for r in records] == [
        "What does a parcel cost?",
        "First answer.",
        "And invoices?",
        "Second answer.",
    ]

    _fake_model(monkeypatch, "Third answer.")
    _inputs(monkeypatch, ["Anything?"], KeyboardInterrupt)
    assert read_repo.main([str(shop), "--no-summaries"]) == 130  # Ctrl-C: 130, as every command
    assert "Third answer." in capsys.readouterr().out
    assert (env / "state" / "tdd-scriptgen" / "read_repo_history").is_file()  # readline history kept


def test_runs_as_a_script_and_as_a_console_script(env: Path, shop: Path) -> None:
    script = subprocess.run(
        [sys.executable, str(REPO_ROOT / "qna" / "read_repo.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=180,  # a safety net: imports take seconds, far longer on a loaded machine
    )
    assert script.returncode == 0 and "--resummarise" in script.stdout
    console = Path(sys.executable).parent / "read-repo"
    missing = subprocess.run(
        [str(console), str(shop / "nope")], capture_output=True, text=True, timeout=180,
        env={**os.environ, "CHROMA_DB_PATH": str(env / "db")},
    )  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"read-repo: error: {shop / 'nope'}: no such directory"


def test_chroma_url_uses_the_team_server(
    env: Path, shop: Path, chroma_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chromadb

    from qna.index import collection_name

    monkeypatch.setenv("CHROMA_URL", chroma_server.url)
    _fake_model(monkeypatch, "Served.")
    assert read_repo.main([str(shop), "--no-summaries", "-q", "parcel postage"]) == 0
    port = int(chroma_server.url.rsplit(":", 1)[1])
    remote = chromadb.HttpClient(host="127.0.0.1", port=port)
    names = [c.name for c in remote.list_collections()]
    assert any(name.startswith("qna-shop-") for name in names)
    assert not (env / "db").exists()  # nothing went to the local folder
    assert collection_name(shop).startswith("qna-shop-")
