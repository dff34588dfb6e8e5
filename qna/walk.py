"""Which files of a directory are read for the index: ignores, extensions, sizes, encodings.

gitignore rules (nested .gitignore files too) and fixed patterns (.git, virtualenvs, caches,
build folders) leave folders out before they are entered. Binary, huge, non-UTF-8, unreadable and
empty files, names that are not UTF-8, links that leave the directory, and FIFOs or devices are
skipped and counted by reason, so the user hears why a file is missing from the answers.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from my_llm.errors import MyLLMError
from my_llm.user_input import read_user_file, utf8_name
from qna.chunks import file_hash

__all__ = [
    "DEFAULT_EXTS",
    "DEFAULT_IGNORES",
    "MAX_FILE_BYTES",
    "IndexError_",
    "SkipCounts",
    "SourceFile",
    "WalkResult",
    "check_directory",
    "parse_exts",
    "walk_directory",
]

DEFAULT_EXTS: tuple[str, ...] = (".py", ".md")
MAX_FILE_BYTES = 1_000_000

DEFAULT_IGNORES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".qna/",
    ".venv/",
    "venv/",
    "env/",
    ".env/",
    "ENV/",
    "virtualenv/",
    "site-packages/",
    "node_modules/",
    "bower_components/",
    "__pycache__/",
    "*.py[cod]",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    ".cache/",
    ".ipynb_checkpoints/",
    "build/",
    "dist/",
    "*.egg-info/",
    ".eggs/",
    ".idea/",
    ".vscode/",
    ".DS_Store",
)


class IndexError_(Exception):  # noqa: N801 - avoid shadowing the builtin IndexError
    """A problem the user can fix (bad directory, nothing to index); the message is one line."""



@dataclass
class SourceFile:
    """A file that passed every filter, with its text and content hash."""

    path: str  # relative to the root, POSIX separators
    text: str
    sha256: str


@dataclass
class SkipCounts:
    """Files left out of the index, by reason; the walk and the index stats both carry them."""

    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_non_utf8: int = 0
    skipped_unreadable: int = 0
    skipped_empty: int = 0
    skipped_bad_name: int = 0  # a file or folder name that is not UTF-8
    skipped_outside: int = 0  # a symbolic link that leads out of the directory
    skipped_special: int = 0  # a FIFO, device or socket: never opened

    @property
    def skipped(self) -> int:
        return sum(getattr(self, f.name) for f in dataclasses.fields(SkipCounts))

    def skip_counts(self) -> dict[str, int]:
        """The counts alone, to carry from a walk into the index stats."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(SkipCounts)}


@dataclass
class WalkResult(SkipCounts):
    """The files to index and how many were left out, and why."""

    files: list[SourceFile] = field(default_factory=list)
    skipped_paths: list[str] = field(default_factory=list)


_EXT_RE = re.compile(r"^\.[a-z0-9_+-]+(\.[a-z0-9_+-]+)*$")


def parse_exts(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Normalise "--ext .py,md" into (".py", ".md"); None gives the defaults.

    Anything that is not an extension ("*", "src/x", an empty list) is a one-line error, since
    it would silently match no file at all.
    """
    if value is None:
        return DEFAULT_EXTS
    items = value.split(",") if isinstance(value, str) else list(value)
    exts = []
    for item in items:
        item = item.strip().lower()
        if not item:
            continue
        ext = item if item.startswith(".") else "." + item
        if not _EXT_RE.match(ext):
            raise IndexError_(
                f"--ext {item!r} is not a file extension: give a list such as .py,.md"
            )
        exts.append(ext)
    if not exts:
        raise IndexError_("--ext names no extension: give a list such as .py,.md")
    return tuple(dict.fromkeys(exts))


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    """The lines as gitignore rules; a pattern git would not take (``\\``, ``!``, ``[z-a]``) is
    left out, as git leaves it (pathspec raises on it, which would end the walk)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re's FutureWarning on a "[[" in a pattern
        try:
            return pathspec.GitIgnoreSpec.from_lines(lines)
        except (ValueError, re.error):
            return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _valid_pattern(line)])


def _expanded(path: str | Path) -> Path:
    """``~`` and ``~user`` expanded; a user that does not exist leaves the path as it is (Path
    raises RuntimeError, which is no one-line error)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


def _exists(path: Path) -> bool:
    """Path.exists, False for a name the file system refuses (too long, say) instead of raising."""
    try:
        return path.exists()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _valid_pattern(line: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (ValueError, re.error):
        return False
    return True


def _ignore_lines(root: Path, ignore: Sequence[str]) -> list[str]:
    """Turn --ignore values (paths, absolute or relative, or globs) into gitignore lines; a value
    that is neither (a NUL, a pattern git would not take) is a one-line error."""
    lines = []
    for raw in ignore:
        item = raw.strip()
        if not item or not utf8_name(item):
            continue  # not UTF-8: names like that are never read anyway
        if "\0" in item:
            raise IndexError_(f"--ignore {item!r} holds a NUL character: give a path or a glob such as *.md")
        candidate = _expanded(item)
        if candidate.is_absolute():
            try:
                rel = candidate.resolve().relative_to(root)
            except ValueError:
                continue  # outside the directory: nothing of it is walked anyway
            item = "/" + rel.as_posix() + ("/" if _is_dir(candidate) else "")
        elif _exists(root / item) and not any(ch in item for ch in "*?["):
            item = "/" + Path(item).as_posix().strip("/") + ("/" if _is_dir(root / item) else "")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not _valid_pattern(item):
                raise IndexError_(f"--ignore {item!r} is not a pattern git takes: give a path or a glob such as *.md")
        lines.append(item)
    return lines


class _Ignorer:
    """gitignore semantics: nested .gitignore files, deeper ones win, plus fixed patterns."""

    def __init__(self, root: Path, extra: Sequence[str]) -> None:
        self.root = root
        self.fixed = _spec([*DEFAULT_IGNORES, *extra])
        self.specs: dict[str, pathspec.GitIgnoreSpec] = {}

    def load(self, rel_dir: str) -> None:
        gitignore = self.root / rel_dir / ".gitignore"
        if gitignore.is_file() and not gitignore.is_symlink():
            try:  # a regular file, and a bounded read: a .gitignore is never megabytes
                data = read_user_file(gitignore, ".gitignore", MAX_FILE_BYTES)
            except MyLLMError:
                return
            lines = data.decode("utf-8", errors="replace").splitlines()
            self.specs[rel_dir] = _spec(lines)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        probe = rel + "/" if is_dir else rel
        if self.fixed.match_file(probe):
            return True
        verdict = False
        parts = rel.split("/")
        for depth in range(len(parts)):  # root first, so deeper .gitignore files override
            base = "/".join(parts[:depth])
            spec = self.specs.get(base)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub)
            if result.include is not None:
                verdict = bool(result.include)
        return verdict


def _printable(rel: str) -> str:
    """A path with undecodable bytes shown as escapes, safe to print and log."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _leaves(root: Path, path: Path) -> bool:
    """True when a symbolic link resolves to somewhere outside ``root`` (e.g. ~/.ssh/id_rsa)."""
    target = os.path.realpath(path)
    return os.path.commonpath([str(root), target]) != str(root)


def _iter_paths(
    root: Path, ignorer: _Ignorer, exts: tuple[str, ...], result: WalkResult
) -> Iterator[str]:
    """Yield relative POSIX paths of candidate files, pruning ignored folders early.

    Names that are not UTF-8 cannot be stored or shown, and folder links are never followed
    (they may lead outside or loop): both are skipped, counted in ``result``.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        ignorer.load(rel_dir)
        keep = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            full = Path(dirpath) / name
            if not utf8_name(name):
                result.skipped_bad_name += 1
                result.skipped_paths.append(_printable(rel) + "/")
                continue
            if full.is_symlink():
                if _leaves(root, full) and not ignorer.ignored(rel, is_dir=True):
                    result.skipped_outside += 1
                    result.skipped_paths.append(rel + "/")
                continue
            if (full / "pyvenv.cfg").exists():  # virtualenvs by any name
                continue
            if not ignorer.ignored(rel, is_dir=True):
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            if not name.lower().endswith(exts):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not utf8_name(name):
                result.skipped_bad_name += 1
                result.skipped_paths.append(_printable(rel))
            elif not ignorer.ignored(rel, is_dir=False):
                yield rel



def _read_source(root: Path, rel: str, max_bytes: int, result: WalkResult) -> bytes | None:
    """The bytes of one candidate, or None after counting why it is left out.

    Checked with lstat before anything is opened: a link that leaves the directory is never
    read (its target could be a key or a password file that would go to the index and the
    model), and a FIFO or device is never opened (a FIFO blocks, /dev/zero never ends).
    """
    full = root / rel
    try:
        info = full.lstat()
        if stat.S_ISLNK(info.st_mode):
            if _leaves(root, full):
                result.skipped_outside += 1
                result.skipped_paths.append(rel)
                return None
            info = full.stat()
        if not stat.S_ISREG(info.st_mode):
            result.skipped_special += 1
            result.skipped_paths.append(rel)
            return None
        if info.st_size > max_bytes:
            result.skipped_large += 1
            result.skipped_paths.append(rel)
            return None
        return read_user_file(os.path.realpath(full), "file", max_bytes)
    except (OSError, MyLLMError):  # vanished, no permission, or changed under us
        result.skipped_unreadable += 1
        result.skipped_paths.append(rel)
        return None


def walk_directory(
    root: str | Path,
    exts: Sequence[str] | str | None = None,
    ignore: Sequence[str] = (),
    max_bytes: int = MAX_FILE_BYTES,
) -> WalkResult:
    """Read every indexable file under root; the files left out are counted by reason.

    Binary, huge, non-UTF-8, unreadable and empty files, names that are not UTF-8, links that
    leave the directory, and FIFOs or devices are each skipped and counted.
    """
    root = _expanded(root).resolve()
    chosen = parse_exts(exts)
    result = WalkResult()
    ignorer = _Ignorer(root, _ignore_lines(root, ignore))
    for rel in _iter_paths(root, ignorer, chosen, result):
        data = _read_source(root, rel, max_bytes, result)
        if data is None:
            continue
        if b"\0" in data[:8192]:
            result.skipped_binary += 1
            result.skipped_paths.append(rel)
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            result.skipped_non_utf8 += 1
            result.skipped_paths.append(rel)
            continue
        if not text.strip():
            result.skipped_empty += 1
            continue
        result.files.append(SourceFile(rel, text, file_hash(data)))
    return result


def check_directory(directory: str | Path) -> Path:
    """Resolve DIR, or raise a one-line error if it is missing or not a directory."""
    root = _expanded(directory)
    if not utf8_name(root):
        raise IndexError_(f"{_printable(str(directory))}: the path is not valid UTF-8: rename it")
    if not root.exists():
        raise IndexError_(f"{directory}: no such directory")  # test_qna_cli matches it exactly
    if not root.is_dir():
        raise IndexError_(f"{directory}: not a directory: give the folder that holds the code")
    root = root.resolve()
    try:
        next(root.iterdir(), None)
    except OSError as exc:
        raise IndexError_(f"{directory}: cannot read it ({exc.strerror})") from exc
    if not any(root.iterdir()):
        raise IndexError_(f"{directory}: the directory is empty, nothing to index")
    return root
