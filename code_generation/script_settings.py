"""The settings of one create-script run, apart from the API that runs them, so the input checks
(`validate_input`) can read them without importing the API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from code_generation.languages import language_for

# Seconds a search may take when the user does not say: enough for the default 5 rounds on a slow
# day of a 2-core machine (the same tasks ran 1.8x slower on one day than another; solves came as
# late as round 4-5), while a run that goes nowhere ends within 10 minutes (docs/benchmarks.md).
# 0 turns the limit off.
DEFAULT_TIME_BUDGET = 600.0
# Rounds in a row without a better attempt before a search stops as going nowhere: the one stop
# rule that lost no solve on the tuning set's replays (benchmarks/stop_rules.py, docs/benchmarks.md).
# With the default 5 rounds it can only spare the last round. 0 turns it off.
DEFAULT_GIVE_UP_AFTER = 3


@dataclass
class ScriptSettings:
    """Everything one run needs; the CLI fills it from its arguments."""

    prompt: str
    output_file: Path
    test_file: Path | None = None
    model: str | None = None
    base_url: str | None = None
    max_iterations: int = 5
    # Seconds; the search stops at this or max_iterations, whichever comes first. 0 or None: no limit.
    time_budget: float | None = DEFAULT_TIME_BUDGET
    # Rounds in a row without a better attempt before the search stops as going nowhere. 0 or None: never.
    give_up_after: int | None = DEFAULT_GIVE_UP_AFTER
    temperature: float = 0.2
    timeout: float = 30.0
    seed: int | None = None
    candidates: int | None = None  # None: 2 on the embedded model (it has two slots), else 1
    static_checks: bool = False
    typecheck: bool = False  # mypy too; implies static_checks
    allow_install: bool = False  # install missing third-party packages into a per-run venv
    cache: bool = True  # answer deterministic requests (temperature 0 or a seed) from the disk cache
    yes: bool = False
    run_dir: Path | None = None
    runs_base: Path | None = None
    verbose: bool = False
    memory: bool = True
    tactics: tuple[str, ...] | None = None  # the loop's tactics by name; None: the model's default set
    conversation: str | None = None  # feedback rounds: "latest" or "append" (LoopSettings.conversation); None: the model's
    language: str | None = None  # "python" | "rust"; None: the output file's extension decides
    crate_source: str | None = None  # Rust: the offline crate folder, or "none" (code_generation/languages/rust/crates.py)

    @property
    def module_name(self) -> str:
        """The Python module's name (a Rust crate's name also depends on its tests: Language.module_name)."""
        return self.output_file.stem

    @property
    def resolved_test_file(self) -> Path:
        """The test file given, else the language's default place for it (Rust: the crate's tests/)."""
        if self.test_file is not None:
            return self.test_file
        return language_for(self.output_file, self.language).default_test_file(self.output_file)
