"""Python's input checks: the output and test files are modules the sandbox imports by name.

Part of create-script's checks before any model call (code_generation/validate_input.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from code_generation.languages.base import MAX_TEST_BYTES, TestFileError
from code_generation.languages.python.testspec import analyse_test_source
from my_llm.errors import MyLLMError
from my_llm.user_input import check_output_path, has_test_file, read_user_text, utf8_name

RESERVED_PREFIX = "_sandbox_"  # the sandbox's own modules (_sandbox_harness.py, ...)


def _module_file_name(path: Path, what: str, example: str) -> None:
    """A .py file whose name is a Python module name: the sandbox imports both files by name."""
    if not utf8_name(path):
        raise MyLLMError(f"the {what} path {path} is not valid UTF-8: rename it")
    if path.stem.startswith(RESERVED_PREFIX):
        raise MyLLMError(f"{what} {path} has the name of the sandbox's own module: choose another name")
    if path.suffix != ".py" or not path.stem.isidentifier():
        raise MyLLMError(f"{what} {path} must be a .py file named like a Python module (e.g. {example})")


def check_output(output: Path) -> None:
    """The output is a module name we may later write (the folder is made only when writing)."""
    _module_file_name(output, "output file", "prime_numbers.py")
    check_output_path(output, ".py")


def check_test_file(settings: Any) -> str | None:
    """The tests' source when the file exists (read safely), else None after checking it can be written."""
    test_file = settings.resolved_test_file
    output = settings.output_file
    _module_file_name(test_file, "test file", f"test_{output.name}")
    if os.path.realpath(test_file) == os.path.realpath(output):  # also through a symlink
        raise MyLLMError(
            f"the output file and the test file are both {output}: the output is the module to "
            f"write, the tests a separate file (e.g. test_{output.name})"
        )
    if test_file.name == output.name:
        raise MyLLMError(
            f"the test file {test_file} and the output file {output} have the same name "
            f"(the sandbox puts them side by side): name the tests test_{output.name}"
        )
    if not has_test_file(test_file, settings.test_file is not None):
        return None
    source = read_user_text(test_file, "test file", MAX_TEST_BYTES)
    if "\0" in source:
        raise TestFileError(f"test file {test_file} holds NUL bytes, so it is not Python source: give the .py file of your tests")
    try:
        analyse_test_source(source, settings.module_name, str(test_file))
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        raise TestFileError(f"{test_file} cannot be parsed as Python ({exc}): fix it before generating code") from exc
    return source
