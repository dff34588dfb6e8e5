"""What one sandboxed run may use: time, memory, processes, files, network."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one sandboxed test run. The defaults suit small generated modules."""

    timeout: float = 30.0  # wall clock seconds for the whole test run
    memory_mb: int = 1024  # RLIMIT_AS
    cpu_seconds: int | None = None  # RLIMIT_CPU; default derived from timeout
    max_processes: int = 64
    max_file_mb: int = 64  # RLIMIT_FSIZE
    max_output_bytes: int = 200_000  # stdout/stderr captured beyond this are cut
    network: bool = False  # False = new network namespace where possible
    python: str | None = None  # the interpreter to run the tests with (a per-run venv's); default ours

    def __post_init__(self) -> None:
        # Checked here, before any folder or cgroup exists: inf or nan would fail halfway through.
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"the sandbox's timeout must be a finite number of seconds above 0, got {self.timeout}")

    @property
    def effective_cpu_seconds(self) -> int:
        """CPU limit a little above the wall clock one, so the wall clock normally wins."""
        if self.cpu_seconds is not None:
            return max(1, int(self.cpu_seconds))
        return max(1, math.ceil(self.timeout)) + 2
