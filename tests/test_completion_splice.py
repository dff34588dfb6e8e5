"""The insertion point and the byte-for-byte splice (CRLF, tabs, BOM), and completions out of replies."""

from __future__ import annotations

import codecs

import pytest

from code_generation.completion.reply import completion_from_reply
from code_generation.completion.splice import SpliceError, locate, unified_diff
from my_llm.files import write_atomically

CRLF_TABS_BOM = codecs.BOM_UTF8 + (
    b"import os\r\n"
    b"\r\n"
    b"def size(path):\r\n"
    b'\t"""Bytes in the file \xc3\xa9."""\r\n'
    b"\t# TODO: return the size\r\n"
    b"\r\n"
    b"def after():\r\n"
    b"\treturn 1  \r\n"
)


def test_todo_line_is_replaced_and_every_other_byte_kept() -> None:
    doc = locate(CRLF_TABS_BOM, line=5)
    assert doc.todo == "# TODO: return the size"
    assert doc.newline == "\r\n" and doc.tabs and doc.bom
    out = doc.splice("    st = os.stat(path)\n    return st.st_size\n")
    head = CRLF_TABS_BOM[: CRLF_TABS_BOM.index(b"\t# TODO")]
    tail = CRLF_TABS_BOM[CRLF_TABS_BOM.index(b"\r\n\r\ndef after") + 2 :]
    assert out == head + b"\tst = os.stat(path)\r\n\treturn st.st_size\r\n" + tail
    assert out.startswith(codecs.BOM_UTF8)  # the BOM stays, once
    assert out.count(codecs.BOM_UTF8) == 1
    assert b"\treturn 1  \r\n" in out  # trailing whitespace of the user's code untouched


def test_end_of_file_keeps_the_whole_file_as_prefix() -> None:
    data = b"def f(x):\r\n\treturn"  # no final newline, stops mid-line
    doc = locate(data)
    assert doc.prefix == "def f(x):\r\n\treturn" and doc.suffix == ""
    out = doc.splice(" x + 1")
    assert out == data + b" x + 1"


def test_line_insert_before_code_keeps_the_line() -> None:
    data = b"a = 1\nb = 2\n"
    doc = locate(data, line=2)
    assert doc.splice("c = 3") == b"a = 1\nc = 3\nb = 2\n"  # a newline is added so b stays on its line


def test_column_insertion_is_an_editor_cursor() -> None:
    data = "x = ééé(1)\n".encode()
    doc = locate(data, line=1, column=4)
    assert doc.prefix == "x = "
    assert doc.splice("f") == "x = fééé(1)\n".encode()


def test_completion_lines_are_where_the_completion_is() -> None:
    doc = locate(b"import os\n\ndef f():\n    # TODO\n\nx = 1\n", line=4)
    assert doc.completion_lines("    a = 1\n    return a\n") == (4, 5)
    assert doc.lines_added("    a = 1\n    return a\n") == 2


@pytest.mark.parametrize(("line", "column"), [(0, None), (10, None), (1, 99)])
def test_positions_outside_the_file_are_refused(line: int, column: int | None) -> None:
    with pytest.raises(SpliceError):
        locate(b"a = 1\nb = 2\n", line=line, column=column)


def test_lines_split_like_python_not_like_str_splitlines() -> None:
    data = b"s = 'a\x0cb'\nt = 1\n"  # a form feed is not a line break for Python
    doc = locate(data, line=2)
    assert doc.prefix == "s = 'a\x0cb'\n"


def test_write_atomically_keeps_the_mode(tmp_path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomically(path, b"new\r\n")
    assert path.read_bytes() == b"new\r\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_diff_shows_only_the_completion() -> None:
    old = CRLF_TABS_BOM
    new = locate(old, line=5).splice("    return os.stat(path).st_size\n")
    diff = unified_diff(old, new, "m.py")
    assert "-\t# TODO: return the size" in diff and "+\treturn os.stat(path).st_size" in diff
    assert diff.count("\n-") == 1 and diff.count("\n+") == 2  # header +++ and one added line


PREFIX = 'import os\n\n\ndef size(path):\n    """Bytes in the file."""\n'


def test_prefilled_reply_is_the_continuation_up_to_the_fence() -> None:
    prefill = f"```python\n{PREFIX}"
    assert completion_from_reply(prefill + "    return os.stat(path).st_size\n```\nDone.", PREFIX, "", prefill) == \
        "    return os.stat(path).st_size\n"
    # A backend that returns only the continuation.
    assert completion_from_reply("    return 1\n```", PREFIX, "", prefill) == "    return 1\n"


def test_whole_file_reply_gives_only_the_new_code() -> None:
    reply = f"Here you go:\n```python\n{PREFIX}    return os.stat(path).st_size\n```"
    assert completion_from_reply(reply, PREFIX, "") == "    return os.stat(path).st_size\n"


def test_reply_from_the_def_line_on_drops_the_repeated_lines() -> None:
    reply = '```python\ndef size(path):\n    """Bytes in the file."""\n    return 3\n```'
    assert completion_from_reply(reply, PREFIX, "") == "    return 3\n"


def test_insertion_only_reply_is_indented_into_the_body() -> None:
    assert completion_from_reply("```python\nreturn 3\n```", PREFIX, "") == "    return 3\n"


def test_repeated_suffix_and_example_calls_are_cut() -> None:
    suffix = "\ndef other():\n    return 2\n"
    reply = "```python\n    return 3\n\ndef other():\n    return 2\n```"
    assert completion_from_reply(reply, PREFIX, suffix) == "    return 3\n"
    reply = "```python\n    return 3\n\nprint(size('x'))\n```"
    assert completion_from_reply(reply, PREFIX, "") == "    return 3\n"


def test_a_reply_without_code_gives_none() -> None:
    assert completion_from_reply("```python\n```", PREFIX, "") is None


def test_after_the_function_only_the_helpers_it_uses_are_kept() -> None:
    # Seen with the 1.5B model: a right function, then a main() with input() and a bug of its own.
    prefill = f"```python\n{PREFIX}"
    reply = (prefill + "    return helper(path)\n\n\n@staticmethod\ndef helper(p):\n    return os.stat(p).st_size\n\n\n"
             "def main():\n    size = size(input())\n\n\nmain()\n```")
    assert completion_from_reply(reply, PREFIX, "", prefill) == (
        "    return helper(path)\n\n\n@staticmethod\ndef helper(p):\n    return os.stat(p).st_size\n")
