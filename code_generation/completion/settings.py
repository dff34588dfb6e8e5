"""The settings of one complete-file run, apart from the code that runs it (the validator reads them too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from code_generation.completion.analyzers import DEFAULT_ANALYZERS

FALLBACK_MODULE = "completed_file"  # the module name for analysis when the file's stem is not one
AGREEMENT_CANDIDATES = 4  # candidates a round when choosing by agreement and none were asked for


@dataclass
class CompletionSettings:
    """Everything one run needs; the CLI fills it from its arguments."""

    file: Path
    line: int | None = None  # 1-based; None: the end of the file
    column: int | None = None  # 0-based, with line: an editor's cursor
    test_file: Path | None = None
    write: bool = False
    instruction: str | None = None  # what to write there, when the file does not say
    analyzers: tuple[str, ...] = DEFAULT_ANALYZERS
    model: str | None = None
    base_url: str | None = None
    max_iterations: int = 4
    candidates: int | None = None  # None: the model's profile (AGREEMENT_CANDIDATES with agreement)
    # Of the accepted candidates, the one whose results most others share; None: the model's profile
    # says (on for the embedded model, unless --candidates asks for fewer than 3).
    agreement: bool | None = None
    temperature: float = 0.2
    seed: int | None = None
    timeout: float = 30.0
    cache: bool = True
    run_dir: Path | None = None
    runs_base: Path | None = None
    verbose: bool = False
    memory: bool = True

    # The names validate_input's shared checks read.
    @property
    def output_file(self) -> Path:
        return self.file

    @property
    def resolved_test_file(self) -> Path:
        assert self.test_file is not None
        return self.test_file

    @property
    def module_name(self) -> str:
        stem = self.file.stem
        return stem if stem.isidentifier() and not stem.startswith("_sandbox_") else FALLBACK_MODULE

    @property
    def all_analyzers(self) -> tuple[str, ...]:
        return (*self.analyzers, "tests") if self.test_file and "tests" not in self.analyzers else self.analyzers
