"""Everything about a complete-file run that can be wrong before a model is built or called.

The house rule (code_generation/validate_input.py): checked first, nothing made on disk, each
failure one line saying what is wrong and what to do. The numeric ranges, the run folder and
the test file are checked by that module's own functions, so both commands refuse the same things.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from code_generation import validate_input
from code_generation.completion.analyzers import available
from code_generation.completion.splice import Document, SpliceError, locate
from code_generation.languages.python import inputs as python_inputs
from my_llm.errors import MyLLMError
from my_llm.user_input import MB, read_user_file, utf8_name

if TYPE_CHECKING:
    from code_generation.completion.settings import CompletionSettings

MAX_FILE_BYTES = 1 * MB


@dataclass(frozen=True)
class CheckedInput:
    data: bytes
    document: Document
    test_source: str | None


def check_file(settings: CompletionSettings) -> bytes:
    """The file's bytes: a regular UTF-8 .py file of at most 1 MB, without NUL bytes."""
    path = settings.file
    if not utf8_name(path):
        raise MyLLMError(f"the file path {path} is not valid UTF-8: rename it")
    if path.suffix != ".py":
        raise MyLLMError(f"{path} is not a .py file: complete-file completes Python source")
    data = read_user_file(path, "file", MAX_FILE_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MyLLMError(f"{path} is not UTF-8 text: save it as UTF-8") from exc
    if "\0" in text:
        raise MyLLMError(f"{path} holds NUL bytes, so it is not Python source")
    if settings.write and not os.access(path, os.W_OK):
        raise MyLLMError(f"{path} is not writable, so --write cannot replace it: drop --write to see the diff")
    if settings.write and not os.access(path.parent if str(path.parent) else ".", os.W_OK | os.X_OK):
        raise MyLLMError(f"the folder of {path} is not writable, so --write cannot replace the file atomically")
    return data


def check_position(settings: CompletionSettings, data: bytes) -> Document:
    if settings.column is not None and settings.line is None:
        raise MyLLMError("--column needs --line")
    if settings.line is not None and (isinstance(settings.line, bool) or not isinstance(settings.line, int)):
        raise MyLLMError(f"--line must be a whole number, got {settings.line!r}")
    try:
        return locate(data, settings.line, settings.column)
    except SpliceError as exc:
        raise MyLLMError(f"{settings.file}: {exc}") from exc


def check_tests(settings: CompletionSettings) -> str | None:
    """The test file's source when one is given; it must exist and import the file as a module."""
    if settings.test_file is None:
        return None
    if not settings.test_file.exists():
        raise MyLLMError(f"test file {settings.test_file} does not exist: give an existing unittest file, or none")
    python_inputs.check_output(settings.file)  # the tests import it: a module name, a regular .py file
    return python_inputs.check_test_file(cast(Any, settings))


def check_analyzers(names: tuple[str, ...] | list[str]) -> None:
    unknown = [n for n in names if n not in available()]
    if unknown:
        raise MyLLMError(f"unknown analyzer {', '.join(unknown)}: choose from {', '.join(available())}")


def check_settings(settings: CompletionSettings) -> CheckedInput:
    """All input checks, in the order a user would fix them."""
    if settings.instruction is not None:
        validate_input.check_prompt(settings.instruction)
    data = check_file(settings)
    document = check_position(settings, data)
    validate_input.check_numbers(cast(Any, settings))
    check_analyzers(settings.analyzers)
    if settings.agreement is True and settings.candidates is not None and settings.candidates < 3:
        raise MyLLMError(f"--agreement compares candidates, and {settings.candidates} cannot outvote each other: "
                         "give --candidates 3 or more, or leave it out")
    test_source = check_tests(settings)
    validate_input.check_run_dir(cast(Any, settings))
    return CheckedInput(data, document, test_source)
