"""Shape checks for the validation task set under benchmarks/validation/.

examples/ is the set the tool is tuned on; benchmarks/validation/ holds different tasks of the
same kind and difficulty, to measure on problems that were not tuned for. Each folder gets the
same checks as an example folder (`TaskFolderChecks` from tests/test_examples.py), plus: a
meta.json marking it as a validation task, 3 to 6 tests, and a module name of its own (not an
example's module, not a standard-library or installed module, not shared with another task).
That each task can be solved from its prompt alone is checked by tests/test_reference_solutions.py
(a reference solution per task, written from the prompt, run through the sandbox).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.test_examples import (
    DIFFICULTIES,
    EXAMPLE_DIRS,
    TaskFolderChecks,
    _meta,
    module_name,
    task_dirs,
    unittest_methods,
)

VALIDATION_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "validation"
VALIDATION_DIRS = task_dirs(VALIDATION_DIR)


def test_there_are_enough_validation_tasks():
    assert len(VALIDATION_DIRS) >= 15
    assert {p.name for p in VALIDATION_DIRS}.isdisjoint(p.name for p in EXAMPLE_DIRS)


def test_validation_modules_are_distinct_from_the_examples_and_each_other():
    modules = [module_name(folder) for folder in VALIDATION_DIRS]
    assert len(set(modules)) == len(modules), modules
    clashes = set(modules) & {module_name(folder) for folder in EXAMPLE_DIRS}
    assert not clashes, f"validation tasks reuse example module names: {sorted(clashes)}"


def test_difficulties_are_spread():
    difficulties = [(_meta(folder) or {}).get("difficulty") for folder in VALIDATION_DIRS]
    assert set(difficulties) == DIFFICULTIES
    assert difficulties.count("hard") < difficulties.count("medium")


def test_the_harness_loads_the_validation_set():
    from code_generation.evaluation.tasks import load_tasks

    tasks = load_tasks(VALIDATION_DIR)
    assert [t.id for t in tasks] == [p.name for p in VALIDATION_DIRS]
    assert [t.task.module_name for t in tasks] == [module_name(p) for p in VALIDATION_DIRS]
    assert all(t.meta.get("set") == "validation" for t in tasks)


@pytest.mark.parametrize("folder", VALIDATION_DIRS, ids=lambda p: p.name)
class TestValidationFolder(TaskFolderChecks):
    def test_meta_marks_a_validation_task(self, folder: Path):
        meta = _meta(folder)
        assert meta is not None, f"{folder.name}: validation tasks need a meta.json"
        assert meta.get("set") == "validation"
        assert meta.get("difficulty") in DIFFICULTIES

    def test_three_to_six_tests(self, folder: Path):
        assert 3 <= len(unittest_methods(folder)) <= 6

    def test_module_name_is_free(self, folder: Path):
        module = module_name(folder)
        assert module not in sys.stdlib_module_names
        assert importlib.util.find_spec(module) is None, f"{module} is an installed module"
