"""Every trusted tool the product starts outside the sandbox, through one function.

Trusted means the program is ours or the system's (venv, pip, mypy, rustc, unshare): it reads
untrusted code at most, never runs it. Generated code only ever runs through runner.py's sandbox.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|^GOOGLE_|^AWS_|^OPENAI_", re.IGNORECASE)


def without_secrets() -> dict[str, str]:
    """Our environment less anything that looks like a credential."""
    return {k: v for k, v in os.environ.items() if not SECRET.search(k)}


def run_tool(argv: Sequence[str], *, timeout: float, cwd: str | Path | None = None,
             env: dict[str, str] | None = None, text: bool = True) -> subprocess.CompletedProcess:
    """Run a trusted tool to completion: no standard input, its output captured, a time limit."""
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=text, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_plain(script: Path, timeout: float = 60.0) -> tuple[int, float]:
    """``python test_x.py`` in the script's folder, with no sandbox: exit code and seconds.

    Only to measure the sandbox's overhead on trusted files (benchmarks/sandbox_overhead.py);
    generated code always goes through run_tests.
    """
    started = time.perf_counter()
    proc = run_tool([sys.executable, script.name], cwd=script.parent, timeout=timeout, text=False)
    return proc.returncode, time.perf_counter() - started
