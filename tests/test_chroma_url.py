"""One Chroma client factory: CHROMA_URL spelled host:port or http(s)://host:port works for
my-llm and read-repo alike, against a real `chroma run` server; a bad value is refused by both
with the same line, exit 2, before any model is called."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import chromadb
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage

from my_llm.langchain_class import PubSubChatMessageHistory
from my_llm.memory.chroma_client import (
    ChromaServer,
    ChromaURLError,
    chroma_target,
    parse_chroma_url,
)
from my_llm.memory.message_log import MemoryStoreError
from my_llm.memory.vectorstore import MemoryIndex
from my_llm.memory.vectorstore import collection_name as memory_collection
from qna import read_repo
from qna.index import get_client, open_collection

ROOT = Path(__file__).resolve().parent.parent
DEAD_MODEL = ["--model", "openai:x", "--base-url", "http://127.0.0.1:9"]
BAD = "ftp://chroma.example:8000"
BAD_LINE = f"bad CHROMA_URL {BAD!r}: use host:port or http(s)://host:port, e.g. localhost:8000"


def _spelled(server: Any, spelling: str) -> str:
    return f"127.0.0.1:{server.port}" if spelling == "host:port" else server.url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("chroma.internal:8000", ChromaServer("chroma.internal", 8000, ssl=False)),
        ("http://chroma.internal:8000", ChromaServer("chroma.internal", 8000, ssl=False)),
        (" http://chroma.internal:8000/ ", ChromaServer("chroma.internal", 8000, ssl=False)),
        ("chroma.internal", ChromaServer("chroma.internal", 8000, ssl=False)),
        ("https://chroma.internal", ChromaServer("chroma.internal", 443, ssl=True)),
        ("HTTPS://chroma.internal:9443", ChromaServer("chroma.internal", 9443, ssl=True)),
        ("[::1]:8001", ChromaServer("::1", 8001, ssl=False)),
    ],
)
def test_both_spellings_name_one_server(value: str, expected: ChromaServer) -> None:
    assert parse_chroma_url(value) == expected


def test_both_spellings_are_one_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One target means one shared client and one index cursor, however it was spelled."""
    monkeypatch.setenv("CHROMA_URL", "chroma.internal:8000")
    short = chroma_target(tmp_path)
    monkeypatch.setenv("CHROMA_URL", "http://chroma.internal:8000/")
    assert chroma_target(tmp_path) == short == "http://chroma.internal:8000"
    monkeypatch.delenv("CHROMA_URL")
    assert chroma_target(tmp_path) == str(tmp_path)  # no server: the embedded folder


@pytest.mark.parametrize(
    "value",
    ["ftp://h:1", "h:port", "h:99999", "http://h:8000/api", "http://", "u:p@h:1", "a b:1",
     "/var/lib/chroma", "http://h:1?x=1", " "],
)  # fmt: skip
def test_bad_values_are_one_line_that_says_what_to_do(value: str) -> None:
    with pytest.raises(ChromaURLError) as caught:
        parse_chroma_url(value)
    assert str(caught.value) == (
        f"bad CHROMA_URL {value!r}: use host:port or http(s)://host:port, e.g. localhost:8000"
    )


def test_library_paths_refuse_a_bad_value_with_the_same_line(
    memory_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMA_URL", BAD)
    with pytest.raises(ChromaURLError) as qna_error:
        get_client()
    with pytest.raises(MemoryStoreError) as memory_error:
        MemoryIndex("ns", memory_env).collection()
    assert str(qna_error.value) == str(memory_error.value) == BAD_LINE
    assert get_client(tmp_path / "db") is not None  # --db names a folder: CHROMA_URL unused
    memory = PubSubChatMessageHistory("bad_url")
    memory.add_user_message("kept")
    memory.clear()  # the log is archived; the unusable index is only a warning
    assert not memory.log.path.exists()


@pytest.mark.parametrize("spelling", ["host:port", "http://host:port"])
def test_my_llm_uses_the_server_either_way(
    spelling: str, chroma_server: Any, memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_URL", _spelled(chroma_server, spelling))
    namespace = "spelled_" + spelling.replace(":", "").replace("/", "")
    memory = PubSubChatMessageHistory(namespace)
    memory.add_messages([HumanMessage("Where do capybaras live?"), AIMessage("South America.")])
    assert memory.index() == 2
    remote = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    assert remote.get_collection(memory_collection(namespace)).count() == 2
    assert not (memory_env / "chroma").exists()  # nothing embedded locally
    other = "http://host:port" if spelling == "host:port" else "host:port"
    monkeypatch.setenv("CHROMA_URL", _spelled(chroma_server, other))
    again = PubSubChatMessageHistory(namespace)
    assert again.index() == 0  # the same target: its cursor says everything is indexed


@pytest.mark.parametrize("spelling", ["host:port", "http://host:port"])
def test_read_repo_uses_the_server_either_way(
    spelling: str, chroma_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "parcel.py").write_text("def postage(kg: float) -> float:\n    return 4.5 + kg\n")
    monkeypatch.setenv("MESSAGE_HISTORY", str(tmp_path / "history"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CHROMA_DB_PATH", str(tmp_path / "db"))
    monkeypatch.setenv("CHROMA_URL", _spelled(chroma_server, spelling))
    for name in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    chat = FakeListChatModel(responses=["Served."])
    monkeypatch.setattr(read_repo, "make_chat_model", lambda args: chat)
    assert read_repo.main([str(shop), "--no-summaries", "-q", "postage"]) == 0
    remote = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    collection = open_collection(shop, client=remote, create=False)
    assert collection is not None and collection.count() >= 1
    assert not (tmp_path / "db").exists()  # nothing went to the local folder


def _run(tmp_path: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("OPENAI_", "MY_LLM_", "PUBSUB_", "GOOGLE_", "GCLOUD_", "CHROMA_"))}  # fmt: skip
    clean.update(
        HOME=str(tmp_path / "home"),
        MESSAGE_HISTORY=str(tmp_path / "history"),
        CHROMA_DB_PATH=str(tmp_path / "db"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, env=clean, cwd=ROOT,
        timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _only_line(proc: subprocess.CompletedProcess[str], prefix: str) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    return lines[0].removeprefix(prefix)


def test_both_commands_refuse_a_bad_value_with_the_same_line(tmp_path: Path) -> None:
    """A model at a closed port: had either command called it first, stderr would say so."""
    (tmp_path / "home").mkdir()
    code = tmp_path / "code"
    code.mkdir()
    (code / "a.py").write_text("x = 1\n")
    ask = _run(tmp_path, ["my_llm.cli", "ask", "anything?", *DEAD_MODEL], CHROMA_URL=BAD)
    repo = _run(tmp_path, ["qna.read_repo", str(code), "-q", "anything?", *DEAD_MODEL],
                CHROMA_URL=BAD)  # fmt: skip
    assert _only_line(ask, "my-llm: error: ") == _only_line(repo, "read-repo: error: ") == BAD_LINE
    flag = _run(tmp_path, ["my_llm.cli", "--chroma-url", "h:port", "log"])
    assert _only_line(flag, "my-llm: error: ") == (
        "bad --chroma-url 'h:port': use host:port or http(s)://host:port, e.g. localhost:8000"
    )
    assert not (tmp_path / "history").exists() and not (tmp_path / "db").exists()
