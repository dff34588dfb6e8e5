"""Everything about a create-script run that can be wrong before a model is built or called.

Why a module of its own: the checks used to be spread between argparse, ``check_inputs`` and
places deep in the run (a test file whose folder is missing failed when it was written, after the
model call; ``--timeout inf`` failed in the sandbox). Here they run first, make nothing on disk,
and each failure is one line saying what is wrong and what to do. The CLI uses the same ranges as
argparse types, so a bad number is refused while the options are parsed.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from code_generation.languages import Language, available_languages, get_language, language_for
from code_generation.run_folder import DEFAULT_RUNS_DIR
from code_generation.tactics import check_tactics, parse_tactics, tactics_for
from code_generation.testspec import TestFileError, analyse_test_source
from my_llm.errors import MyLLMError
from my_llm.user_input import MB, float_in, int_in, kind_of, read_user_text, utf8_name

if TYPE_CHECKING:
    from code_generation.script_settings import ScriptSettings

MAX_CANDIDATES = 8
MAX_ITERATIONS = 100
MAX_TIMEOUT = 3600.0  # seconds for one test run: an hour is far beyond any unit test
MAX_TEMPERATURE = 2.0  # OpenAI's range; llama.cpp accepts it too
MAX_SEED = 2**31 - 1  # the loop adds small offsets per candidate; llama.cpp seeds are 32-bit
MAX_TEST_BYTES = 1 * MB
MAX_PROMPT_CHARS = 100_000
RESERVED_PREFIX = "_sandbox_"  # the sandbox's own modules (_sandbox_harness.py, ...)

# argparse types: a bad number is refused while the options are parsed, before anything runs.
max_iterations_type = int_in(1, MAX_ITERATIONS)
candidates_type = int_in(1, MAX_CANDIDATES)
seed_type = int_in(0, MAX_SEED)
temperature_type = float_in(0.0, MAX_TEMPERATURE)
timeout_type = float_in(0.0, MAX_TIMEOUT, low_open=True)


def tactics_type(text: str) -> tuple[str, ...]:
    """An argparse type: a comma list of tactic names (``none`` for none), each one known."""
    try:
        return parse_tactics(text)
    except MyLLMError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def language_type(text: str) -> str:
    """An argparse type: a known language name."""
    try:
        return get_language(text).name
    except MyLLMError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(value: object, name: str, low: float, high: float, low_open: bool = False, whole: bool = False) -> None:
    """The same ranges for callers of the Python API, who skip argparse."""
    kind = "a whole number" if whole else "a number"
    ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if ok and not isinstance(value, bool) and math.isfinite(value):  # type: ignore[arg-type]
        ok = (low < value if low_open else low <= value) and value <= high  # type: ignore[operator]
    else:
        ok = False
    if not ok:
        lo, hi = (str(int(low)), str(int(high))) if whole else (f"{low:g}", f"{high:g}")
        span = f"greater than {lo} and at most {hi}" if low_open else f"from {lo} to {hi}"
        raise MyLLMError(f"{name} must be {kind} {span}, got {value!r}")


def check_numbers(settings: ScriptSettings) -> None:
    """Every numeric setting in its range: inf, nan, 0 or 10**12 would fail deep in the run."""
    _number(settings.max_iterations, "--max-iterations", 1, MAX_ITERATIONS, whole=True)
    if settings.candidates is not None:
        _number(settings.candidates, "--candidates", 1, MAX_CANDIDATES, whole=True)
    if settings.seed is not None:
        _number(settings.seed, "--seed", 0, MAX_SEED, whole=True)
    _number(settings.temperature, "--temperature", 0.0, MAX_TEMPERATURE)
    _number(settings.timeout, "--timeout", 0.0, MAX_TIMEOUT, low_open=True)


def check_prompt(prompt: object) -> None:
    """A prompt the model can be given and the run folder can record."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise MyLLMError("the prompt is empty: describe what the script should do")
    if not utf8_name(prompt):
        raise MyLLMError("the prompt holds bytes that are not UTF-8 text: retype it in a UTF-8 terminal")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise MyLLMError(
            f"the prompt is {len(prompt):,} characters, over the {MAX_PROMPT_CHARS:,} limit: "
            "describe the module in fewer words"
        )


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
    if output.is_dir():
        raise MyLLMError(f"output file {output} is a directory: give a file name ending in .py")
    if output.exists() and not stat.S_ISREG(output.stat().st_mode):
        raise MyLLMError(f"output file {output} is {kind_of(output.stat().st_mode)}: give a regular .py file path")
    check_creatable(output.parent, "output file")


def check_test_file(settings: ScriptSettings) -> str | None:
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
    if os.path.lexists(test_file) and not test_file.exists():
        raise MyLLMError(f"test file {test_file} is a broken symbolic link: fix it or remove it")
    if not test_file.exists():
        if settings.test_file is not None and not test_file.parent.is_dir():
            raise MyLLMError(
                f"the folder of test file {test_file} does not exist: create {test_file.parent} "
                "first, or give a test file in an existing folder"
            )
        check_creatable(test_file.parent, "test file")  # a generated one is written there
        return None
    source = read_user_text(test_file, "test file", MAX_TEST_BYTES)
    if "\0" in source:
        raise TestFileError(f"test file {test_file} holds NUL bytes, so it is not Python source: give the .py file of your tests")
    try:
        analyse_test_source(source, settings.module_name, str(test_file))
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        raise TestFileError(f"{test_file} cannot be parsed as Python ({exc}): fix it before generating code") from exc
    return source


def check_run_dir(settings: ScriptSettings) -> None:
    """The run folder can be made fresh: an existing --run-dir must be an empty folder."""
    if settings.run_dir is None:
        check_creatable(settings.runs_base or DEFAULT_RUNS_DIR, "run folders")
        return
    run_dir = settings.run_dir
    if not utf8_name(run_dir):
        raise MyLLMError(f"--run-dir {run_dir} is not valid UTF-8: choose another name")
    if run_dir.exists():
        if not run_dir.is_dir():
            raise MyLLMError(f"--run-dir {run_dir} is {kind_of(run_dir.stat().st_mode)}: name a new or empty folder")
        if any(run_dir.iterdir()):
            raise MyLLMError(f"run folder {run_dir} is not empty: choose a new --run-dir")
    check_creatable(run_dir, "run folder")


def check_language(settings: ScriptSettings) -> Language:
    """The run's language: --lang, else the output's extension; the two must agree."""
    language = language_for(settings.output_file, settings.language)
    suffix = settings.output_file.suffix.lower()
    owner = next((get_language(n) for n in available_languages() if suffix in get_language(n).extensions), None)
    if settings.language and owner is not None and owner is not language:
        raise MyLLMError(f"output file {settings.output_file} is a {owner.name} file but --lang is "
                         f"{language.name}: give a {language.extensions[0]} output file")
    return language


def check_language_options(settings: ScriptSettings, language: Language) -> None:
    """Options of the Python path only, refused for another language; tactics that do not apply too."""
    if settings.tactics is not None:
        applicable = tactics_for(language)
        wrong = [t for t in settings.tactics if t not in applicable]
        if wrong:
            raise MyLLMError(f"tactic {wrong[0]!r} does not apply to {language.name}: choose from "
                             f"{', '.join(sorted(applicable))}")
    if language.name == "python":
        return
    for flag, on in (("--static-checks", settings.static_checks), ("--typecheck", settings.typecheck),
                     ("--allow-install", settings.allow_install)):
        if on:
            raise MyLLMError(f"{flag} is for Python output; a {language.name} run is checked by its compiler"
                             + (" and gets crates from the offline source (--crate-source)"
                                if flag == "--allow-install" else ""))


def _rust_file(path: Path, what: str, example: str) -> None:
    if not utf8_name(path):
        raise MyLLMError(f"the {what} path {path} is not valid UTF-8: rename it")
    if path.suffix != ".rs":
        raise MyLLMError(f"{what} {path} must be a .rs file for Rust output (e.g. {example})")


def check_rust_output(output: Path) -> None:
    """A .rs output we may later write."""
    _rust_file(output, "output file", "src/lib.rs")
    if output.is_dir():
        raise MyLLMError(f"output file {output} is a directory: give a file name ending in .rs")
    if output.exists() and not stat.S_ISREG(output.stat().st_mode):
        raise MyLLMError(f"output file {output} is {kind_of(output.stat().st_mode)}: give a regular .rs file path")
    check_creatable(output.parent, "output file")


def check_rust_test_file(settings: ScriptSettings, language: Language) -> str | None:
    """The Rust tests' source when the file exists, else None after checking it can be written."""
    test_file, output = settings.resolved_test_file, settings.output_file
    _rust_file(test_file, "test file", "tests.rs")
    if os.path.realpath(test_file) == os.path.realpath(output):
        raise MyLLMError(f"the output file and the test file are both {output}: the tests go in a separate file "
                         "(e.g. tests.rs)")
    if os.path.lexists(test_file) and not test_file.exists():
        raise MyLLMError(f"test file {test_file} is a broken symbolic link: fix it or remove it")
    if not test_file.exists():
        if settings.test_file is not None and not test_file.parent.is_dir():
            raise MyLLMError(f"the folder of test file {test_file} does not exist: create {test_file.parent} "
                             "first, or give a test file in an existing folder")
        check_creatable(test_file.parent, "test file")
        return None
    source = read_user_text(test_file, "test file", MAX_TEST_BYTES)
    crate = language.module_name(output, source, settings, str(test_file))  # TestFileError when it cannot judge
    language.analyse_tests(source, crate, str(test_file))
    return source


def check_settings(settings: ScriptSettings) -> str | None:
    """All input checks, in the order a user would fix them; returns the test source if present."""
    check_prompt(settings.prompt)
    language = check_language(settings)
    if language.name == "python":
        check_output(settings.output_file)
    else:
        check_rust_output(settings.output_file)
    check_numbers(settings)
    if settings.tactics is not None:
        check_tactics(settings.tactics)
    check_language_options(settings, language)
    language.check_environment(settings)  # e.g. cargo missing: before anything else is read or made
    test_source = check_test_file(settings) if language.name == "python" else check_rust_test_file(settings, language)
    check_run_dir(settings)
    return test_source
