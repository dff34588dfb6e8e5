"""Reading what a user points the tools at, and parsing their options, without surprises.

A path on the command line can name a FIFO (opening it blocks until a writer comes), a device
(``/dev/zero`` never ends), a directory or a huge file. Every file a CLI reads goes through
``read_user_file``: it opens without blocking, checks that it holds a regular file, and reads at
most a stated number of bytes, so bad input is one clear line instead of a hang or an exhausted
memory. ``OneLineParser`` makes argparse's own errors one line too, as every CLI promises.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from my_llm.errors import MyLLMError

MB = 1024 * 1024


class UserInputError(MyLLMError):
    """A file or option the user gave cannot be used; the message says what to do."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words a user recognises."""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def size_text(size: int) -> str:
    """Bytes as a short human figure (``1 MB``, ``1.05 MB``, ``300 KB``)."""
    unit, name = (MB, "MB") if size >= MB else (1024, "KB")
    return f"{size / unit:.2f}".rstrip("0").rstrip(".") + f" {name}"


def utf8_name(path: str | Path) -> bool:
    """True when the path can be written as UTF-8 (undecodable bytes come in as surrogates)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_user_file(path: str | Path, what: str, max_bytes: int, follow_links: bool = True) -> bytes:
    """The bytes of a regular file, at most ``max_bytes`` of them; anything else is one clear error.

    Opened with O_NONBLOCK so a FIFO cannot hang us, then checked with fstat (no race between the
    check and the read); only then read, and never more than ``max_bytes`` + 1 bytes.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise UserInputError(f"{what} {path} does not exist: check the path") from exc
    except IsADirectoryError as exc:
        raise UserInputError(f"{what} {path} is a directory: give a file") from exc
    except OSError as exc:
        raise UserInputError(f"cannot open {what} {path}: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserInputError(f"{what} {path} is {kind_of(info.st_mode)}: give a regular file")
        if info.st_size > max_bytes:
            raise UserInputError(
                f"{what} {path} is {size_text(info.st_size)}, over the {size_text(max_bytes)} limit: "
                "give a smaller file"
            )
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(MB, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise UserInputError(f"cannot read {what} {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if total > max_bytes:  # it grew after the size check
        raise UserInputError(
            f"{what} {path} is over the {size_text(max_bytes)} limit: give a smaller file"
        )
    return b"".join(chunks)


def read_user_text(path: str | Path, what: str, max_bytes: int) -> str:
    """``read_user_file`` decoded as UTF-8 (a BOM is dropped); other encodings are one clear error."""
    data = read_user_file(path, what, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"{what} {path} is not UTF-8 text: save it as UTF-8") from exc


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2 (the house rule for bad input)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_common_flags(parser: argparse.ArgumentParser, verbose_help: str = "tracebacks and more detail") -> None:
    """The flags every command has, spelled the same everywhere: --version, -v/--verbose, -q/--quiet."""
    from my_llm import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output: only results and errors")


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, checked when the options are parsed."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number: give one from {low} to {high}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: give a whole number from {low} to {high}"
            )
        return value

    return parse


def float_in(low: float, high: float, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high] (or (low, high] when ``low_open``)."""
    span = f"greater than {low:g} and at most {high:g}" if low_open else f"from {low:g} to {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number: give one {span}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number: give one {span}")
        if value > high or value < low or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"{value:g} is out of range: give a number {span}")
        return value

    return parse


def check_creatable(folder: Path, what: str) -> None:
    """The folder exists or can be made later: its nearest existing ancestor is a writable folder.

    Nothing is created here, so a run refused later leaves no empty folders behind.
    """
    probe = Path(os.path.abspath(folder))
    while not os.path.lexists(probe):
        probe = probe.parent
    if not probe.exists():
        raise MyLLMError(f"{probe} is a broken symbolic link, so {folder} cannot hold the {what}: fix the link or choose another path")
    if not probe.is_dir():
        raise MyLLMError(f"{probe} is {kind_of(probe.stat().st_mode)}, not a folder, so it cannot hold the {what}: choose another path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise MyLLMError(f"folder {probe} is not writable: choose another path for the {what}")


def check_output_path(output: Path, suffix: str) -> None:
    """An output file we may later write: not a folder nor a special file, its folder creatable."""
    if output.is_dir():
        raise MyLLMError(f"output file {output} is a directory: give a file name ending in {suffix}")
    if output.exists() and not stat.S_ISREG(output.stat().st_mode):
        raise MyLLMError(f"output file {output} is {kind_of(output.stat().st_mode)}: give a regular {suffix} file path")
    check_creatable(output.parent, "output file")


def has_test_file(test_file: Path, named: bool) -> bool:
    """True when the test file is there to read; False once a new one can be written there
    (`named`: the user gave its path, so its folder must exist already)."""
    if os.path.lexists(test_file) and not test_file.exists():
        raise MyLLMError(f"test file {test_file} is a broken symbolic link: fix it or remove it")
    if test_file.exists():
        return True
    if named and not test_file.parent.is_dir():
        raise MyLLMError(f"the folder of test file {test_file} does not exist: create {test_file.parent} "
                         "first, or give a test file in an existing folder")
    check_creatable(test_file.parent, "test file")  # a generated one is written there
    return False

