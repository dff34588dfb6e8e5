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
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from qna import read_repo
from qna.summaries import MANIFEST_NAME

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
    # The answer is the first model call now; the summaries follow it (issue 31).
    _fake_model(monkeypatch, "Tax is added.", "## Purpose\nInvoice maths.", "## Purpose\nParcels.")
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


# --------------------------------------------------------------------------- answer first (issue 31)

PRINT_ANSWER = read_repo._print_answer


class CallLog(BaseCallbackHandler):
    """Records each model call as "summary" or "answer" in one event list (a LangChain callback);
    ``interrupt_at`` raises Ctrl-C at that summary call, as a user stopping the run would."""

    raise_error = True  # so the KeyboardInterrupt reaches the command, as a real Ctrl-C does

    def __init__(self, events: list[str], interrupt_at: int | None = None) -> None:
        self.events = events
        self.interrupt_at = interrupt_at
        self.prompts: list[str] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        text = "\n".join(str(m.content) for m in messages[0])
        kind = "summary" if "Summarise the file" in text else "answer"
        if kind == "summary" and self.events.count("summary") + 1 == self.interrupt_at:
            raise KeyboardInterrupt
        self.events.append(kind)
        self.prompts.append(text)


def _logged_model(
    monkeypatch: pytest.MonkeyPatch, events: list[str], interrupt_at: int | None = None
) -> CallLog:
    """A fake that answers "The answer." and summarises; calls and printed answers go to events."""
    log = CallLog(events, interrupt_at)
    responses = ["The answer.", "## Purpose\nSummary one.", "## Purpose\nSummary two."]

    def make(args: Any) -> FakeListChatModel:
        return FakeListChatModel(responses=responses, callbacks=[log])

    def print_answer(result: Any, as_json: bool, streamed: bool = False) -> None:
        PRINT_ANSWER(result, as_json, streamed)
        events.append("printed")

    monkeypatch.setattr(read_repo, "make_chat_model", make)
    monkeypatch.setattr(read_repo, "_print_answer", print_answer)
    return log


def test_the_first_answer_is_printed_before_any_summary_is_asked_for(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[str] = []
    _logged_model(monkeypatch, events)
    assert read_repo.main([str(shop), "How is tax added?", "--timings"]) == 0
    assert events == ["answer", "printed", "summary", "summary"]
    out, err = capsys.readouterr()
    assert "The answer." in out
    assert "Summarising 2 code files for later questions" in err
    assert "summaries: 2 written" in err
    first = next(line for line in err.splitlines() if line.startswith("time to the first answer"))
    assert "index" in first and "answer" in first and "summaries" not in first
    assert "summaries" in next(line for line in err.splitlines() if line.startswith("time: "))
    manifest = json.loads((shop / ".qna" / "summaries" / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == {"billing/invoice.py", "shipping/parcel.py"}


def test_a_later_run_reuses_the_summaries_and_calls_the_model_once(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[str] = []
    _logged_model(monkeypatch, events)
    assert read_repo.main([str(shop), "How is tax added?"]) == 0
    capsys.readouterr()
    events.clear()
    log = _logged_model(monkeypatch, events)
    assert read_repo.main([str(shop), "How is value added tax added to an invoice?"]) == 0
    assert events == ["answer", "printed"]  # no summary call: they are all current
    assert "summary of billing/invoice.py" in log.prompts[0]  # and the answer is shown them
    assert "Summarising" not in capsys.readouterr().err


def test_summaries_first_keeps_the_old_order(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[str] = []
    log = _logged_model(monkeypatch, events)
    monkeypatch.setattr(
        read_repo,
        "make_chat_model",
        lambda args: FakeListChatModel(
            responses=["## Purpose\nOne.", "## Purpose\nTwo.", "The answer."], callbacks=[log]
        ),
    )
    assert read_repo.main([str(shop), "How is tax added?", "--summaries-first"]) == 0
    assert events == ["summary", "summary", "answer", "printed"]
    assert "summary of" in log.prompts[-1]


def test_ctrl_c_while_summarising_keeps_the_answer_and_a_consistent_store(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from qna.index import SUMMARY_KIND, get_client, open_collection
    from qna.summaries import SummaryStore

    events: list[str] = []
    _logged_model(monkeypatch, events, interrupt_at=2)
    assert read_repo.main([str(shop), "How is tax added?"]) == 130
    out, err = capsys.readouterr()
    assert "The answer." in out and "stopped: summaries: 1 written" in err
    assert events == ["answer", "printed", "summary"]
    store = SummaryStore(shop)  # the manifest on disk loads, and names exactly the finished one
    assert list(store.entries) == ["billing/invoice.py"] and store.owns("billing/invoice.py")
    assert not (shop / ".qna" / "summaries" / "shipping" / "parcel.py.md").exists()
    collection = open_collection(shop, client=get_client(env / "db"))
    indexed = collection.get(where={"kind": SUMMARY_KIND}, include=["metadatas"])["metadatas"]
    assert [m["path"] for m in indexed] == ["billing/invoice.py"]  # indexed as soon as written

    events.clear()
    _logged_model(monkeypatch, events)
    assert read_repo.main([str(shop), "And parcels?"]) == 0
    assert events == ["answer", "printed", "summary"]  # only the missing one is asked for
    assert "summaries: 1 written, 1 kept" in capsys.readouterr().err


class Screen(BaseCallbackHandler):
    """What stdout held as each new piece of the answer arrived (a LangChain callback)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.seen.append(sys.stdout.getvalue())  # type: ignore[attr-defined] - capsys's buffer


def _streaming_model(monkeypatch: pytest.MonkeyPatch, text: str, screen: Screen) -> None:
    monkeypatch.setattr(read_repo, "make_chat_model", lambda args: GenericFakeChatModel(
        messages=iter([AIMessage(text)]), callbacks=[screen]))


def test_a_terminal_sees_the_answer_word_by_word_then_the_sources(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text, argv = "  Tax is added\nto the invoice total. \n", [str(shop), "How is tax added?", "--no-summaries"]
    printed = Screen()
    _streaming_model(monkeypatch, text, printed)
    assert read_repo.main(argv) == 0  # not a terminal: printed whole, as before
    whole = capsys.readouterr().out
    assert printed.seen == []  # and the model was not streamed

    screen = Screen()
    _streaming_model(monkeypatch, text, screen)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert read_repo.main([*argv, "--timings"]) == 0
    out, err = capsys.readouterr()
    while_writing = screen.seen[-1]  # the screen when the model sent its last piece
    assert "Tax is added\nto the invoice" in while_writing and "Sources:" not in while_writing
    assert out == whole  # the same screen in the end: the answer, then the sources
    assert out.index("to the invoice total.") < out.index("Sources:") < out.index("billing/invoice.py")
    assert "first words after" in err and "first token" in err


def test_json_on_a_terminal_is_unchanged_and_not_streamed(
    env: Path, shop: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    screen = Screen()
    _streaming_model(monkeypatch, " Tax is added. ", screen)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert read_repo.main([str(shop), "How is tax added?", "--no-summaries", "--json", "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {"answer": "Tax is added.", "sources": [
        {"path": "billing/invoice.py", "start_line": 1, "end_line": 3}]}
    assert out.count("\n") == 1 and screen.seen == []
