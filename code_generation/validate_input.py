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
from typing import TYPE_CHECKING

from code_generation.engine.tactics import check_tactics, parse_tactics, tactics_for
from code_generation.languages import Language, available_languages, get_language, language_for
from code_generation.run_folder import DEFAULT_RUNS_DIR
from my_llm.errors import MyLLMError
from my_llm.user_input import check_creatable, float_in, int_in, kind_of, utf8_name

if TYPE_CHECKING:
    from code_generation.script_settings import ScriptSettings

MAX_CANDIDATES = 8
MAX_ITERATIONS = 100
MAX_TIME_BUDGET = 86400.0  # seconds for a whole search: a day
MAX_TIMEOUT = 3600.0  # seconds for one test run: an hour is far beyond any unit test
MAX_TEMPERATURE = 2.0  # OpenAI's range; llama.cpp accepts it too
MAX_SEED = 2**31 - 1  # the loop adds small offsets per candidate; llama.cpp seeds are 32-bit
MAX_PROMPT_CHARS = 100_000

# argparse types: a bad number is refused while the options are parsed, before anything runs.
max_iterations_type = int_in(1, MAX_ITERATIONS)
candidates_type = int_in(1, MAX_CANDIDATES)
seed_type = int_in(0, MAX_SEED)
temperature_type = float_in(0.0, MAX_TEMPERATURE)
timeout_type = float_in(0.0, MAX_TIMEOUT, low_open=True)
time_budget_type = float_in(0.0, MAX_TIME_BUDGET)  # 0: no limit
give_up_after_type = int_in(0, MAX_ITERATIONS)  # 0: never


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
    budget = getattr(settings, "time_budget", None)  # complete-file's settings share these checks, without it
    if budget is not None:
        _number(budget, "--time-budget", 0.0, MAX_TIME_BUDGET)
    give_up = getattr(settings, "give_up_after", None)
    if give_up is not None:
        _number(give_up, "--give-up-after", 0, MAX_ITERATIONS, whole=True)
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


def check_settings(settings: ScriptSettings) -> str | None:
    """All input checks, in the order a user would fix them; returns the test source if present."""
    check_prompt(settings.prompt)
    language = check_language(settings)
    language.check_output(settings.output_file)
    check_numbers(settings)
    if settings.tactics is not None:
        check_tactics(settings.tactics)
    check_language_options(settings, language)
    language.check_environment(settings)  # e.g. cargo missing: before anything else is read or made
    test_source = language.check_test_file(settings)
    check_run_dir(settings)
    return test_source
