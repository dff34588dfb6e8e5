"""The `my-llm` command line, run in-process and once as the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

import my_llm.models
from my_llm import cli

FIXTURE = Path(__file__).parent / "fixtures" / "chatgpt_export" / "conversations.json"


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeListChatModel:
    chat = FakeListChatModel(responses=["The animal was an elefant.", "A summary."])
    monkeypatch.setattr(my_llm.models, "get_chat_model", lambda *a, **k: chat)
    return chat


def test_import_log_search_json_ask_summarise_reindex(
    memory_env: Path, capsys: pytest.CaptureFixture[str], fake_model: FakeListChatModel
) -> None:
    assert cli.main(["import-chatgpt", str(FIXTURE), "--namespace", "cli_ns"]) == 0
    out = capsys.readouterr().out
    assert "imported 8 messages from 2 conversations" in out and "indexed 8" in out

    assert cli.main(["log", "--namespace", "cli_ns", "--json", "--search", "ELEFANT"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and all("elefant" in r["content"].lower() for r in rows)

    assert cli.main(["log", "--namespace", "cli_ns", "--limit", "1"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert len(plain) == 1 and "ANIMAL: elefant" in plain[0] and "[chatgpt_import]" in plain[0]

    assert cli.main(["ask", "Which animal in Danish?", "--namespace", "cli_ns", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The animal was an elefant.") and "== Sources:" in out

    assert cli.main(["summarise", "--namespace", "cli_ns", "-n", "4"]) == 0
    assert capsys.readouterr().out.strip() == "A summary."

    assert cli.main(["reindex", "--namespace", "cli_ns"]) == 0
    assert "cli_ns: indexed 9 messages" in capsys.readouterr().out  # 8 imported + the summary
    assert cli.main(["reindex"]) == 0  # every namespace
    assert "cli_ns: indexed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["log", "--namespace", "no such"], "bad memory namespace"),
        (["log", "--namespace", "never_written"], "no messages in namespace 'never_written'"),
        (["import-chatgpt", "/nonexistent/conversations.json"], "ChatGPT export not found"),
        (["summarise", "-n", "0"], "-n must be at least 1"),
        (["reindex"], "no message logs under"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(
    memory_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("my-llm: error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)


def test_verbose_shows_the_traceback(memory_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--verbose", "log", "--namespace", "never_written"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_console_script_is_installed(memory_env: Path) -> None:
    exe = str(Path(sys.executable).parent / "my-llm")
    if not Path(exe).exists():
        pytest.skip("my-llm console script not installed in this environment")
    done = subprocess.run(
        [exe, "log", "--namespace", "nothing_here"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip().endswith("no messages in namespace 'nothing_here' "
                                        f"({memory_env / 'nothing_here' / 'memory.jsonl'})")  # fmt: skip
