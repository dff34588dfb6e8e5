"""Static checks of generated code before its tests run (LLMcoder's analysers).

pyflakes reads the syntax tree only, so nothing of the untrusted code runs in our process. A
critical finding (the code does not parse, or uses a name that is defined nowhere) would fail at
import or at the first call anyway: the loop then skips the sandbox and feeds the findings back.
mypy (``--typecheck``) runs as a separate process; its findings are advice, never critical,
because code with a wrong annotation can still pass its tests.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from pyflakes import checker, messages

from code_generation.sandbox.isolation import scrubbed_env
from code_generation.sandbox.tools import run_tool
from code_generation.types import Finding

# Findings that make the module fail when it runs; the rest (unused imports, ...) are advice.
_CRITICAL = (messages.UndefinedName, messages.UndefinedLocal, messages.ReturnOutsideFunction,
             messages.YieldOutsideFunction, messages.ContinueOutsideLoop, messages.BreakOutsideLoop)  # fmt: skip


def check_module(code: str, filename: str = "module.py") -> list[Finding]:
    """Syntax errors, undefined names, unused imports and the like, in line order."""
    try:
        tree = ast.parse(code, filename=filename)
    except SyntaxError as exc:
        return [Finding(exc.lineno or 0, f"syntax error: {exc.msg}", True)]
    found = checker.Checker(tree, filename=filename)
    return sorted(
        (Finding(m.lineno, m.message % m.message_args, isinstance(m, _CRITICAL)) for m in found.messages),
        key=lambda f: (f.line, f.message),
    )


def run_mypy(module_source: str, module_name: str, timeout: float = 120.0) -> tuple[int, str]:
    """mypy's exit code and report for one module, checked alone in a private temporary directory.

    mypy reads the code and never runs it, so this needs no sandbox; it still gets a scrubbed
    environment, a time limit, and no cache shared between runs (the code is someone else's).
    """
    if not module_name.isidentifier():
        raise ValueError(f"module_name must be a Python identifier: {module_name!r}")
    with tempfile.TemporaryDirectory(prefix="create-script-mypy-") as folder:
        path = Path(folder) / f"{module_name}.py"
        path.write_text(module_source, encoding="utf-8")
        proc = run_tool(
            [sys.executable, "-m", "mypy", "--no-error-summary", "--no-color-output", "--hide-error-context",
             "--show-error-codes", "--ignore-missing-imports", "--follow-imports=silent",
             "--check-untyped-defs", "--cache-dir", str(Path(folder) / ".mypy_cache"), path.name],
            cwd=folder, timeout=timeout, env=scrubbed_env(folder),
        )
    return proc.returncode, proc.stdout + proc.stderr


# "shop.py:12: error: Unsupported operand types ...  [operator]"; notes only explain errors.
_MYPY_ERROR = re.compile(r"^[^:\n]+\.py:(\d+):(?:\d+:)? error: (.+)$", re.MULTILINE)


def typecheck(code: str, module_name: str) -> list[Finding]:
    """mypy's errors for the module alone; none when mypy itself fails or runs too long."""
    try:
        status, report = run_mypy(code, module_name)
    except (OSError, subprocess.SubprocessError):
        return []
    if status not in (0, 1):  # 2: mypy could not check (a crash or a bad option), not the code's fault
        return []
    return [Finding(int(m[1]), m[2].strip(), False, "mypy") for m in _MYPY_ERROR.finditer(report)]


def render(findings: list[Finding]) -> str:
    """The findings as feedback lines."""
    return "Static checks:\n" + "\n".join(f"- {f}" for f in findings)
