"""Property tests: read-repo's walk over folders that hold anything.

Whatever a folder holds (names in any script or not UTF-8 at all, spaces, newlines and glob
characters in names, links in and out and in loops, FIFOs, empty, binary, huge and non-UTF-8
files, .gitignore files with patterns git would not take, odd --ignore values), the walk ends,
raises nothing but its one-line IndexError_, never reads through a link that leaves the folder,
returns exactly the bytes each file holds, and names every file in a form a terminal can print.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from qna.walk import IndexError_, walk_directory
from tests.fuzzing import budget, refused_in_one_line, time_limit

SECRET = f"SECRET-{uuid.uuid4().hex}"  # in the files outside the folder: must never be read
names = st.one_of(
    st.sampled_from(["a.py", "b.md", "README.MD", "x.PY", "notes.txt", ".hidden.py", "-dash.py", "sp ace.py",
                     "new\nline.py", "star*.py", "[x].py", "!bang.py", "#hash.py", "back\\slash.py", "é.py",
                     "日本.md", "x" * 250 + ".py", "build", "node_modules", ".git", "__pycache__", "dist"]),
    st.text(st.characters(blacklist_characters="/\0", blacklist_categories=["Cs"]), min_size=1, max_size=12)
    .filter(lambda n: n not in {".", ".."}).map(lambda n: n + ".py"),
    st.binary(min_size=1, max_size=8).filter(lambda b: b"/" not in b and b"\0" not in b and b not in {b".", b".."})
    .map(lambda b: os.fsdecode(b + b".py")),  # not UTF-8: comes in with surrogate escapes
)
contents = st.one_of(
    st.text(max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=80),
    st.sampled_from([b"", b"  \n", b"\xef\xbb\xbfprint(1)\n", b"x = 1\0\n", "é".encode("latin-1"), b"y = 2\n" * 60]),
)
gitignore_lines = st.lists(st.one_of(
    st.sampled_from(["*.md", "!a.py", "\\", "!", "[z-a]", "a\\", "build/", "/b.md", "**/x", "[", "#c", "*.py",
                     "!*.py", "sub/", "\\!bang.py", "[[:alpha:]].py"]),
    st.text(st.characters(blacklist_characters="\n\r"), max_size=6),
), max_size=4)
entries = st.lists(st.tuples(
    st.sampled_from(["file", "file", "dir", "link_in", "link_out", "link_out_dir", "link_dangling", "link_loop",
                     "fifo", "gitignore", "link_dir_in"]),
    names, contents, gitignore_lines, st.integers(0, 3)), max_size=10)
ignores = st.lists(st.one_of(st.sampled_from(["sub", "*.md", "/abs/path", "~nobody/x", "\\", "!", "[z-a]",
                                              "a\0b", "\udcff", "", "x" * 300, "a/" * 3000]),
                             st.text(max_size=5)), max_size=3)


def _build(root: Path, outside: Path, spec: list[tuple[str, str, bytes, list[str], int]]) -> None:
    """Make the tree: entries go into the root or into one of the folders made before them."""
    folders = [root]
    (outside / "secret.py").write_text(f"KEY = '{SECRET}'\n")
    (outside / "dir").mkdir(exist_ok=True)
    (outside / "dir" / "inner.py").write_text(f"KEY = '{SECRET}'\n")
    for kind, name, data, patterns, where in spec:
        parent = folders[where % len(folders)]
        path = parent / name
        if os.path.lexists(path):
            continue
        try:
            _make(kind, path, parent, root, outside, data, patterns, folders)
        except OSError:
            continue  # a name too long for the file system, say: not the walk's business


def _make(kind: str, path: Path, parent: Path, root: Path, outside: Path, data: bytes, patterns: list[str],
          folders: list[Path]) -> None:
    if kind == "file":
        path.write_bytes(data)
    elif kind == "dir":
        path.mkdir()
        folders.append(path)
    elif kind == "gitignore":
        (parent / ".gitignore").write_text("\n".join(patterns), errors="surrogatepass")
    elif kind == "link_in":
        path.symlink_to(os.path.relpath(root, parent) if data else ".")
    elif kind == "link_dir_in":
        path.symlink_to(folders[len(data) % len(folders)])
    elif kind == "link_out":
        path.symlink_to(outside / "secret.py" if data else os.path.relpath(outside / "secret.py", parent))
    elif kind == "link_out_dir":
        path.symlink_to(outside / "dir")
    elif kind == "link_dangling":
        path.symlink_to(parent / "nowhere.py")
    elif kind == "link_loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)


@budget(3.0)
@given(entries, ignores, st.sampled_from([None, ".py,.md", "txt", ".PY"]))
@example([("gitignore", "a.py", b"", ["\\"], 0), ("file", "a.py", b"x = 1\n", [], 0)], [], None)  # pathspec refused
@example([("gitignore", "a.py", b"", ["[z-a]"], 0), ("file", "a.py", b"x = 1\n", [], 0)], [], None)  # re.error
@example([("file", "a.py", b"x = 1\n", [], 0)], ["!"], None)  # an --ignore value git would not take
@example([("file", "a.py", b"x = 1\n", [], 0)], ["a\0b"], None)  # ValueError: embedded null byte
@example([("file", "a.py", b"x = 1\n", [], 0)], ["x" * 300], None)  # OSError: file name too long
@example([], ["~0"], None)  # no user "0": expanduser raised RuntimeError
def test_the_walk_ends_reads_nothing_outside_and_returns_what_is_there(
        tmp_path_factory: Any, spec: list, ignore: list[str], exts: str | None) -> None:
    base = tmp_path_factory.mktemp("walk")
    root, outside = base / "repo", base / "outside"
    root.mkdir()
    outside.mkdir()
    _build(root, outside, spec)
    try:
        with time_limit(30):
            result = walk_directory(root, exts, ignore, max_bytes=200)
    except Exception as exc:  # noqa: BLE001 - the property is about which exceptions escape
        refused_in_one_line(exc, IndexError_)
        return
    for source in result.files:
        assert SECRET not in source.text, f"{source.path} was read through a link out of the folder"
        real = Path(os.path.realpath(root / source.path))
        assert real.is_relative_to(root.resolve()) and ".." not in Path(source.path).parts
        assert real.read_bytes().decode("utf-8-sig") == source.text
    for shown in [f.path for f in result.files] + result.skipped_paths:
        shown.encode("utf-8")  # printable: undecodable bytes come out as escapes, never as surrogates
    assert result.skipped == sum(result.skip_counts().values())
