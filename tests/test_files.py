"""my_llm.files: the one atomic writer and the one locked JSONL appender, on real files."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from my_llm import files
from my_llm.files import append_lines, write_atomically
from my_llm.memory.message_log import iter_records

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("my_llm", "qna", "code_generation", "benchmarks", "tests")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_files_imports_nothing_from_the_project() -> None:
    """Anything may use it, so it may use nothing of ours (no layer can end up below it)."""
    tree = ast.parse((ROOT / "my_llm" / "files.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported and not imported & set(PROJECT)


def test_a_new_file_gets_the_given_mode_and_exact_bytes(tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    write_atomically(target, "één\r\ntwee\n", new_mode=0o640)
    assert target.read_bytes() == "één\r\ntwee\n".encode()  # UTF-8, no newline translation
    assert _mode(target) == 0o640  # exactly, whatever the umask; not mkstemp's 0600
    write_atomically(tmp_path / "default.bin", b"\x00\x01")
    assert _mode(tmp_path / "default.bin") == 0o644
    assert _leftovers(tmp_path) == []


def test_replacing_keeps_the_files_mode(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo old\n")
    script.chmod(0o750)
    write_atomically(script, "echo new\n", new_mode=0o600)  # new_mode is for new files only
    assert script.read_text() == "echo new\n"
    assert _mode(script) == 0o750


def test_a_failed_replace_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_text('{"old": true}')

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, '{"new": true}')
    assert target.read_text() == '{"old": true}'
    assert _leftovers(tmp_path) == []


def test_the_file_then_the_folder_are_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsync of the data before the rename, and of the folder after it (the rename is durable)."""
    target = tmp_path / "cursor.json"
    target.write_text("old")
    real_fsync = os.fsync
    synced: list[tuple[bool, str]] = []

    def spy(fd: int) -> None:
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), target.read_text()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_atomically(target, "new")
    assert synced == [(False, "old"), (True, "new")]


def test_appended_lines_survive_a_torn_last_line(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    append_lines(log, [json.dumps({"id": "a", "role": "human"})])
    with open(log, "ab") as handle:  # a writer died mid-line
        handle.write(b'{"id": "torn", "ro')
    append_lines(log, [json.dumps({"id": "b", "role": "ai"}), json.dumps({"id": "c", "role": "ai"})])
    lines = log.read_bytes().split(b"\n")
    assert lines[1] == b'{"id": "torn", "ro'  # fenced off on a line of its own
    assert [r["id"] for r in iter_records(log)] == ["a", "b", "c"]


def test_a_line_holding_a_newline_is_refused_and_nothing_written(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    append_lines(log, ["first\n"])
    with pytest.raises(ValueError, match="holds a newline"):
        append_lines(log, ["ok", "two\nlines"])
    assert log.read_text() == "first\n"


def test_an_archived_log_gets_no_more_lines(tmp_path: Path) -> None:
    log = tmp_path / "memory.jsonl"
    append_lines(log, ["1"])
    with files.locked_append_fd(log):
        os.rename(log, tmp_path / "memory-old.jsonl")  # as MessageLog.archive does, locked
    append_lines(log, ["2"])
    assert (tmp_path / "memory-old.jsonl").read_text() == "1\n"
    assert log.read_text() == "2\n"
    assert _mode(log) == 0o644


WRITER = """
import json, sys
from my_llm.files import append_lines
path, writer = sys.argv[1], int(sys.argv[2])
for batch in range(40):
    append_lines(path, [json.dumps({"w": writer, "n": batch * 3 + i, "pad": "x" * 3000})
                        for i in range(3)])
"""


def test_concurrent_writer_processes_never_interleave(tmp_path: Path) -> None:
    """Four processes append batches bigger than a pipe buffer: every line whole, none lost."""
    log = tmp_path / "results.jsonl"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(w)], cwd=ROOT)
        for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 4 * 40 * 3
    for writer in range(4):
        assert [r["n"] for r in rows if r["w"] == writer] == list(range(120))  # in order
