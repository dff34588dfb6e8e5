"""Rust's input checks: .rs files, and a test file the crate's tests can be read from.

Part of create-script's checks before any model call (code_generation/validate_input.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from code_generation.languages.base import MAX_TEST_BYTES
from my_llm.errors import MyLLMError
from my_llm.user_input import check_output_path, has_test_file, read_user_text, utf8_name

if TYPE_CHECKING:
    from code_generation.languages.base import Language


def _rust_file(path: Path, what: str, example: str) -> None:
    if not utf8_name(path):
        raise MyLLMError(f"the {what} path {path} is not valid UTF-8: rename it")
    if path.suffix != ".rs":
        raise MyLLMError(f"{what} {path} must be a .rs file for Rust output (e.g. {example})")


def check_output(output: Path) -> None:
    """A .rs output we may later write."""
    _rust_file(output, "output file", "src/lib.rs")
    check_output_path(output, ".rs")


def check_test_file(settings: Any, language: Language) -> str | None:
    """The Rust tests' source when the file exists, else None after checking it can be written."""
    test_file, output = settings.resolved_test_file, settings.output_file
    _rust_file(test_file, "test file", "tests.rs")
    if os.path.realpath(test_file) == os.path.realpath(output):
        raise MyLLMError(f"the output file and the test file are both {output}: the tests go in a separate file "
                         "(e.g. tests.rs)")
    if not has_test_file(test_file, settings.test_file is not None):
        return None
    source = read_user_text(test_file, "test file", MAX_TEST_BYTES)
    crate = language.module_name(output, source, settings, str(test_file))  # TestFileError when it cannot judge
    language.analyse_tests(source, crate, str(test_file))
    return source
