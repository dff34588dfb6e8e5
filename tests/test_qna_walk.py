"""Walking and chunking for read-repo: fast tests, no embeddings, no model."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from pathlib import Path

import pytest

from qna import walk
from qna.chunks import chunk_text
from qna.index import IndexStats
from qna.walk import IndexError_, check_directory, parse_exts, walk_directory
from tests.helpers import fails_if_blocked


def _write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _paths(root: Path, **kwargs: object) -> set[str]:
    return {f.path for f in walk_directory(root, **kwargs).files}  # type: ignore[arg-type]




def test_default_ignores_and_extensions(tmp_path: Path) -> None:
    _write(tmp_path, "pkg/mod.py", "x = 1\n")
    _write(tmp_path, "README.md", "# Title\n")
    _write(tmp_path, "notes.txt", "not by default\n")
    for rel in [
        ".git/hooks/pre.py",
        "node_modules/lib/index.py",
        "pkg/__pycache__/mod.py",
        "build/lib/mod.py",
        "dist/x.py",
        ".venv/lib/site.py",
        ".pytest_cache/v.py",
        "x.egg-info/top.md",
    ]:
        _write(tmp_path, rel, "y = 2\n")
    # A virtualenv with an unusual name is recognised by its pyvenv.cfg.
    _write(tmp_path, "myenv/pyvenv.cfg", "home = /usr\n")
    _write(tmp_path, "myenv/lib/thing.py", "z = 3\n")

    assert _paths(tmp_path) == {"pkg/mod.py", "README.md"}
    assert _paths(tmp_path, exts=".txt") == {"notes.txt"}
    assert _paths(tmp_path, exts="py,.TXT") == {"pkg/mod.py", "notes.txt"}


def test_gitignore_nested_and_negated(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "generated/\n*_secret.py\n")
    _write(tmp_path, "generated/out.py", "a = 1\n")
    _write(tmp_path, "app/db_secret.py", "a = 1\n")
    _write(tmp_path, "app/.gitignore", "scratch.py\n!keep_secret.py\n")
    _write(tmp_path, "app/scratch.py", "a = 1\n")
    _write(tmp_path, "app/keep_secret.py", "a = 1\n")
    _write(tmp_path, "app/main.py", "a = 1\n")
    _write(tmp_path, "scratch.py", "a = 1\n")  # only app/.gitignore names it: kept at the top

    assert _paths(tmp_path) == {"app/main.py", "app/keep_secret.py", "scratch.py"}


def test_ignore_option_takes_paths_and_globs(tmp_path: Path) -> None:
    _write(tmp_path, "src/a.py", "a = 1\n")
    _write(tmp_path, "src/vendor/b.py", "b = 1\n")
    _write(tmp_path, "tests/test_a.py", "c = 1\n")
    _write(tmp_path, "docs/guide.md", "# d\n")

    assert _paths(tmp_path, ignore=["src/vendor"]) == {
        "src/a.py",
        "tests/test_a.py",
        "docs/guide.md",
    }
    assert _paths(tmp_path, ignore=["test_*.py", str(tmp_path / "docs")]) == {
        "src/a.py",
        "src/vendor/b.py",
    }


def test_binary_large_non_utf8_unreadable_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "ok.py", "print('hi')\n")
    _write(tmp_path, "blob.py", b"\x00\x01\x02binary")
    _write(tmp_path, "latin.py", "caf\xe9 = 1\n".encode("latin-1"))
    _write(tmp_path, "huge.py", "x = 1\n" * 50_000)
    _write(tmp_path, "empty.py", "\n\n")
    locked = _write(tmp_path, "locked.py", "y = 2\n")

    real_read = walk.read_user_file

    def read_user_file(path: str | Path, what: str, max_bytes: int) -> bytes:
        # Root ignores file modes, so an unreadable file is simulated at the read itself.
        if Path(path) == locked.resolve():
            raise PermissionError(13, "Permission denied")
        return real_read(path, what, max_bytes)

    monkeypatch.setattr(walk, "read_user_file", read_user_file)
    result = walk_directory(tmp_path, max_bytes=100_000)
    assert [f.path for f in result.files] == ["ok.py"]
    assert (result.skipped_binary, result.skipped_non_utf8, result.skipped_large) == (1, 1, 1)
    assert (result.skipped_unreadable, result.skipped_empty) == (1, 1)
    assert result.skipped == 5


def test_check_directory_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="no such directory"):
        check_directory(tmp_path / "missing")
    _write(tmp_path, "file.py", "a = 1\n")
    with pytest.raises(IndexError_, match="not a directory"):
        check_directory(tmp_path / "file.py")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexError_, match="empty"):
        check_directory(tmp_path / "empty")


def test_parse_exts() -> None:
    assert parse_exts(None) == (".py", ".md")
    assert parse_exts(" py, .MD,,txt ") == (".py", ".md", ".txt")
    assert parse_exts("tar.gz,c++") == (".tar.gz", ".c++")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("", "names no extension"),
        (" , ,", "names no extension"),
        ("*", "'\\*' is not a file extension"),
        ("py,src/x", "'src/x' is not a file extension"),
        ("..", "'..' is not a file extension"),
    ],
)
def test_parse_exts_refuses_what_is_not_an_extension(value: str, match: str) -> None:
    with pytest.raises(IndexError_, match=match):
        parse_exts(value)


def test_names_that_are_not_utf8_are_skipped_and_counted(tmp_path: Path) -> None:
    _write(tmp_path, "ok.py", "a = 1\n")
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, b"caf\xe9.py"), "wb") as handle:
        handle.write(b"b = 2\n")
    os.mkdir(os.path.join(root, b"d\xff"))
    with open(os.path.join(root, b"d\xff", b"inner.py"), "wb") as handle:
        handle.write(b"c = 3\n")
    result = walk_directory(tmp_path)
    assert [f.path for f in result.files] == ["ok.py"]
    assert result.skipped_bad_name == 2 and result.skipped == 2
    assert "caf\\xe9.py" in result.skipped_paths  # printable, not a lone surrogate
    for path in result.skipped_paths:
        path.encode("utf-8")


def test_links_that_leave_the_folder_are_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "home"
    _write(outside, ".ssh/id_rsa.py", "PRIVATE = 'KEY'\n")
    repo = tmp_path / "repo"
    _write(repo, "main.py", "a = 1\n")
    (repo / "same.py").symlink_to("main.py")  # inside the folder: read
    (repo / "key.py").symlink_to(outside / ".ssh" / "id_rsa.py")
    (repo / "up.py").symlink_to("../home/.ssh/id_rsa.py")
    (repo / "ssh").symlink_to(outside / ".ssh")  # a folder link that leaves
    result = walk_directory(repo)
    assert sorted(f.path for f in result.files) == ["main.py", "same.py"]
    assert all("PRIVATE" not in f.text for f in result.files)
    assert result.skipped_outside == 3
    assert sorted(result.skipped_paths) == ["key.py", "ssh/", "up.py"]


def test_fifos_and_devices_are_never_opened(tmp_path: Path) -> None:
    _write(tmp_path, "ok.py", "a = 1\n")
    os.mkfifo(tmp_path / "pipe.py")  # opening it for reading would block
    os.mkfifo(tmp_path / ".gitignore")  # so would this one
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "null.py").symlink_to("/dev/null")
    with fails_if_blocked():
        result = walk_directory(tmp_path)  # returns: nothing blocked
    assert [f.path for f in result.files] == ["ok.py"]
    assert result.skipped_special == 1 and result.skipped_outside == 1
    assert "1 not regular files" in IndexStats(**result.skip_counts()).summary_line()


SAMPLE = textwrap.dedent(
    '''\
    """Module docstring."""

    import os

    CONSTANT = 3


    # A comment that belongs to the function below.
    @decorator
    def first(a, b):
        """Add."""
        return a + b


    class Big:
        """A class too large for one chunk."""

    '''
) + "".join(
    f"    def method_{i}(self):\n        value = {i}\n"
    + "        value += 1\n" * 12
    + "        return value\n\n"
    for i in range(12)
)


def test_python_is_split_along_functions_and_classes() -> None:
    chunks = chunk_text("pkg/sample.py", SAMPLE, max_chars=600)
    lines = SAMPLE.splitlines(keepends=True)
    for chunk in chunks:  # every chunk's text is exactly its line range
        assert chunk.text == "".join(lines[chunk.start_line - 1 : chunk.end_line])
        assert chunk.path == "pkg/sample.py"
    first = next(c for c in chunks if "def first" in c.text)
    # Small neighbours may be packed together, but a def keeps its comment and decorator.
    assert "# A comment" in first.text and "@decorator" in first.text
    assert "return a + b" in first.text
    methods = [c for c in chunks if "def method_" in c.text]
    assert len(methods) >= 6  # the class was split into its methods
    assert all(c.context == "class Big" for c in methods)
    method_3 = next(c for c in chunks if "def method_3(" in c.text)
    assert lines[method_3.start_line - 1].strip() == "def method_3(self):"
    assert "class Big" in method_3.document()
    assert method_3.document().startswith("# pkg/sample.py lines ")


def test_markdown_and_invalid_python_use_the_text_splitter() -> None:
    md = "# Title\n\nIntro.\n\n" + "".join(
        f"## Part {i}\n\n" + "word " * 80 + "\n\n" for i in range(6)
    )
    chunks = chunk_text("README.md", md, max_chars=500)
    assert len(chunks) > 3
    lines = md.splitlines()
    for chunk in chunks:
        assert lines[chunk.start_line - 1].strip() == chunk.text.splitlines()[0].strip()
        assert chunk.end_line - chunk.start_line == chunk.text.rstrip("\n").count("\n")
    broken = "def ok():\n    return 1\n\nprint 'python 2'\n"
    assert chunk_text("old.py", broken)[0].start_line == 1


def test_real_tree_chunks_cover_every_definition() -> None:
    spec = importlib.util.find_spec("requests")
    assert spec is not None and spec.origin
    root = Path(spec.origin).parent
    walked = walk_directory(root)
    assert len(walked.files) >= 10
    for f in walked.files:
        chunks = chunk_text(f.path, f.text)
        starts = [c.start_line for c in chunks]
        assert starts == sorted(starts), f.path
        text_lines = f.text.splitlines()
        for n, line in enumerate(text_lines, 1):
            if line.startswith(("def ", "class ")):  # each top-level def lies inside one chunk
                assert any(c.start_line <= n <= c.end_line for c in chunks), (f.path, n)
