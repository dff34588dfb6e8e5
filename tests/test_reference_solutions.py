"""Every benchmark task is solvable: a reference solution passes its task's tests in the sandbox.

The task sets, examples/ (tuning), benchmarks/validation/ and benchmarks/heldout/ (never tuned
on), are discovered the way the benchmark script discovers them (`task_folders` in benchmarks/create_script_examples.py),
and the module name is taken from the test file as the benchmark does. Each task's reference,
``benchmarks/reference/<set>/<task>/<module>.py``, was written from prompt.txt alone; it is run
against the task's test file through the real sandbox (`code_generation.sandbox.runner.run_tests`), and
every test must pass. A task without a reference, or a reference without a task, fails here.
No model is involved.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from code_generation.sandbox.runner import SandboxLimits, run_tests
from tests.test_examples import unittest_methods

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = ROOT / "benchmarks" / "reference"
TASK_SETS: dict[str, Path] = {
    "examples": ROOT / "examples",
    "validation": ROOT / "benchmarks" / "validation",
    "heldout": ROOT / "benchmarks" / "heldout",
}


def _benchmark_script() -> ModuleType:
    """benchmarks/create_script_examples.py, loaded as a module (it is a script, not a package)."""
    path = ROOT / "benchmarks" / "create_script_examples.py"
    spec = importlib.util.spec_from_file_location("_create_script_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_task_folders = _benchmark_script().task_folders


def _tasks() -> list[tuple[str, Path]]:
    """(set name, task folder) for every benchmark task of both sets."""
    return [(name, folder) for name, root in TASK_SETS.items() for folder in _task_folders(root, None)]


TASKS = _tasks()
TASK_IDS = [f"{name}/{folder.name}" for name, folder in TASKS]


def _test_file(folder: Path) -> Path:
    """The task's test file, picked as the benchmark picks it."""
    return next(folder.glob("test_*.py"))


def _module(folder: Path) -> str:
    return _test_file(folder).stem.removeprefix("test_")


def _reference(set_name: str, folder: Path) -> Path:
    return REFERENCE_DIR / set_name / folder.name / f"{_module(folder)}.py"


def test_both_task_sets_are_found() -> None:
    counts = {name: sum(1 for s, _ in TASKS if s == name) for name in TASK_SETS}
    assert counts["examples"] >= 10, counts
    assert counts["validation"] >= 15, counts
    assert counts["heldout"] >= 12, counts


@pytest.mark.parametrize(("set_name", "folder"), TASKS, ids=TASK_IDS)
def test_task_has_a_reference(set_name: str, folder: Path) -> None:
    reference = _reference(set_name, folder)
    assert reference.is_file(), f"{set_name}/{folder.name}: no reference solution at {reference.relative_to(ROOT)}"


@pytest.mark.parametrize("set_name", list(TASK_SETS))
def test_every_reference_belongs_to_a_task(set_name: str) -> None:
    tasks = {folder.name for name, folder in TASKS if name == set_name}
    root = REFERENCE_DIR / set_name
    references = {p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"} if root.is_dir() \
        else set()
    assert references <= tasks, f"references without a task in {set_name}: {sorted(references - tasks)}"


@pytest.mark.parametrize(("set_name", "folder"), TASKS, ids=TASK_IDS)
def test_reference_passes_the_task_tests_in_the_sandbox(set_name: str, folder: Path) -> None:
    reference = _reference(set_name, folder)
    if not reference.is_file():
        pytest.fail(f"{set_name}/{folder.name}: no reference solution at {reference.relative_to(ROOT)}")
    test_file = _test_file(folder)
    result = run_tests(reference.read_text(encoding="utf-8"), _module(folder),
                       test_file.read_text(encoding="utf-8"), test_file.name,
                       limits=SandboxLimits(timeout=60))
    problems = [f"{case.name}: {case.outcome}: {case.message}" for case in result.cases if case.outcome != "passed"]
    assert result.success, (f"{set_name}/{folder.name}: status {result.status} {result.message}, "
                            f"{result.passed}/{result.tests_run} passed\n" + "\n".join(problems)
                            + f"\n{result.stderr[-2000:]}")
    assert result.tests_run == len(unittest_methods(folder)), [case.name for case in result.cases]
