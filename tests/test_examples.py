"""Shape checks for the example tasks under examples/.

Each folder with a prompt.txt is one task for ``create-script``: the prompt, exactly one
``test_<module>.py`` unittest file that imports from ``<module>``, and an optional meta.json.
The solutions are not run here; only the folder layout and the test file's imports are checked.
The checks live in `TaskFolderChecks`, which tests/test_validation_set.py reuses for the
validation set under benchmarks/validation/.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
ALLOWED_FILES = {"prompt.txt", "meta.json"}
DIFFICULTIES = {"easy", "medium", "hard"}


def task_dirs(root: Path) -> list[Path]:
    """The task folders (those with a prompt.txt) directly under `root`, sorted by name."""
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob("*/prompt.txt"))


EXAMPLE_DIRS = task_dirs(EXAMPLES_DIR)


def _test_file(folder: Path) -> Path:
    test_files = sorted(folder.glob("test_*.py"))
    assert len(test_files) == 1, f"{folder.name}: expected exactly one test_*.py, got {test_files}"
    return test_files[0]


def _imports_from(tree: ast.Module, module: str) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
            names.extend(alias.name for alias in node.names)
    return names


def _meta(folder: Path) -> dict | None:
    path = folder / "meta.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def module_name(folder: Path) -> str:
    """The module a task folder's test file imports: ``test_<module>.py`` -> ``<module>``."""
    return _test_file(folder).stem.removeprefix("test_")


def unittest_methods(folder: Path) -> list[str]:
    """The test methods of the unittest classes in a task folder's test file."""
    tree = ast.parse(_test_file(folder).read_text(encoding="utf-8"))
    return [
        f.name
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        for f in cls.body
        if isinstance(f, ast.FunctionDef) and f.name.startswith("test")
    ]


def test_there_are_enough_examples():
    assert len(EXAMPLE_DIRS) >= 10
    names = {p.name for p in EXAMPLE_DIRS}
    assert {"primes", "primes_100"} <= names


class TaskFolderChecks:
    """Checks for one task folder; a `Test...` subclass parametrizes ``folder`` over a task set."""

    def test_prompt_is_not_empty(self, folder: Path):
        assert (folder / "prompt.txt").read_text(encoding="utf-8").strip()

    def test_only_expected_files(self, folder: Path):
        test_file = _test_file(folder)
        files = {p.name for p in folder.iterdir() if p.name != "__pycache__"}
        assert files - ALLOWED_FILES == {test_file.name}

    def test_test_file_parses_and_imports_its_module(self, folder: Path):
        test_file = _test_file(folder)
        module = test_file.stem.removeprefix("test_")
        assert module.isidentifier()
        tree = ast.parse(test_file.read_text(encoding="utf-8"), filename=str(test_file))
        names = _imports_from(tree, module)
        assert names, f"{test_file.name} never does 'from {module} import ...'"
        assert "*" not in names

    def test_test_file_is_a_runnable_unittest(self, folder: Path):
        source = _test_file(folder).read_text(encoding="utf-8")
        tree = ast.parse(source)
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "unittest" in imported
        assert 2 <= len(unittest_methods(folder)) <= 6
        assert "if __name__ == '__main__'" in source or 'if __name__ == "__main__"' in source
        assert "unittest.main()" in source

    def test_imported_names_are_in_prompt(self, folder: Path):
        meta = _meta(folder) or {}
        if meta.get("verbatim_prompt"):
            pytest.skip("prompt kept verbatim from the old project; names come from the test file")
        test_file = _test_file(folder)
        module = test_file.stem.removeprefix("test_")
        prompt = (folder / "prompt.txt").read_text(encoding="utf-8")
        names = _imports_from(ast.parse(test_file.read_text(encoding="utf-8")), module)
        missing = [name for name in names if name not in prompt]
        assert not missing, f"{folder.name}: prompt.txt does not mention {missing}"

    def test_meta_json(self, folder: Path):
        if not (folder / "meta.json").exists():
            pytest.skip("no meta.json")
        meta = _meta(folder)
        assert isinstance(meta, dict)
        module = _test_file(folder).stem.removeprefix("test_")
        assert meta.get("module") == module
        if "difficulty" in meta:
            assert meta["difficulty"] in DIFFICULTIES
        if "source" in meta:
            assert isinstance(meta["source"], str)


@pytest.mark.parametrize("folder", EXAMPLE_DIRS, ids=lambda p: p.name)
class TestExampleFolder(TaskFolderChecks):
    pass


def test_benchmark_results_are_compared_as_a_table_and_a_plot(tmp_path: Path) -> None:
    import subprocess
    import sys

    rows = [{"task": "primes", "solved": True, "tests": "4/4"}, {"task": "fizzbuzz", "solved": False, "tests": "1/3"}]
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"rows": rows[1:]}))
    new.write_text(json.dumps({"rows": rows}))
    script = EXAMPLES_DIR.parent / "benchmarks" / "create_script_examples.py"
    plot = tmp_path / "compare.png"
    done = subprocess.run([sys.executable, str(script), "--compare", str(old), str(new), "--plot", str(plot)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "0/1" in done.stdout and "1/2" in done.stdout  # solved per file
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
