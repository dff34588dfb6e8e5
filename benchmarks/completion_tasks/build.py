"""Cut the completion tasks from real code of installed packages (standard library and site-packages).

    python benchmarks/completion_tasks/build.py           # (re)write original.py, partial.py, task.json
    python benchmarks/completion_tasks/build.py --check   # every original must pass its test file

For each task below, the target function and every top-level definition and import it needs
(transitively, in source order) are copied out of the installed module into `original.py`.
`partial.py` is the same file with the function's body cut after its first `keep` statements
(the docstring does not count): the completion goes at that line, and whatever follows the
function in the slice stays after it. The test file `test_<task>.py` is written by hand; the
original must pass it (`--check`, in the project's sandbox).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from code_generation.languages.python.static_checks import check_module  # noqa: E402

# (task, module, function, statements of the body kept)
TASKS = [
    ("textwrap_dedent", "textwrap", "dedent", 2),
    ("textwrap_indent", "textwrap", "indent", 1),
    ("shlex_quote", "shlex", "quote", 1),
    ("colorsys_rgb_to_hls", "colorsys", "rgb_to_hls", 2),
    ("colorsys_hls_to_rgb", "colorsys", "hls_to_rgb", 1),
    ("colorsys_rgb_to_hsv", "colorsys", "rgb_to_hsv", 2),
    ("calendar_leapdays", "calendar", "leapdays", 1),
    ("genericpath_commonprefix", "genericpath", "commonprefix", 1),
    ("genericpath_splitext", "genericpath", "_splitext", 2),
    ("string_capwords", "string", "capwords", 0),
    ("html_escape", "html", "escape", 1),
    ("statistics_median", "statistics", "median", 2),
    ("heapq_siftdown", "heapq", "_siftdown", 1),
    ("bisect_right", "bisect", "bisect_right", 2),
    ("json_encode_ascii", "json.encoder", "py_encode_basestring_ascii", 0),
    ("ipaddress_zero_bits", "ipaddress", "_count_righthand_zero_bits", 1),
    ("glob_has_magic", "glob", "has_magic", 0),
    ("parso_split_lines", "parso.utils", "split_lines", 0),
    ("packaging_canonicalize_name", "packaging.utils", "canonicalize_name", 1),
    ("rich_escape", "rich.markup", "escape", 1),
    ("text_splitters_split_regex", "langchain_text_splitters.character", "_split_text_with_regex", 0),
]


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _uses(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def slice_source(module_source: str, name: str) -> str:
    """The function and everything at the top level it needs, in source order."""
    tree = ast.parse(module_source)
    nodes = [n for n in tree.body if _defines(n)]
    target = next(n for n in nodes if isinstance(n, ast.FunctionDef) and n.name == name)
    keep, todo = {id(target)}, set(_uses(target))
    done: set[str] = set()
    while todo:
        wanted = todo.pop()
        done.add(wanted)
        for node in nodes:
            if wanted in _defines(node) and id(node) not in keep:
                keep.add(id(node))
                todo |= _uses(node) - done
    lines = module_source.splitlines(keepends=True)
    parts = [] if "from __future__ import annotations" not in module_source else ["from __future__ import annotations\n\n"]
    for node in tree.body:
        if id(node) in keep:
            start = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]])
            parts.append("".join(lines[start - 1 : node.end_lineno]) + ("\n\n" if isinstance(node, ast.FunctionDef | ast.ClassDef) else ""))
    sliced = "".join(parts).rstrip("\n") + "\n"
    undefined = [f for f in check_module(sliced) if f.critical]
    if undefined:
        raise SystemExit(f"{name}: the slice is not self-contained: {undefined}")
    return sliced


def cut(original: str, name: str, keep: int) -> tuple[str, int | None]:
    """The original with `name`'s body cut after `keep` statements; the insertion line (None: the end)."""
    tree = ast.parse(original)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    body = func.body
    doc = 1 if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
        and isinstance(body[0].value.value, str) else 0
    kept = body[: doc + keep]
    assert len(body) > doc + keep, f"{name}: nothing left to complete"
    cut_from = body[doc + keep].lineno
    lines = original.splitlines(keepends=True)
    end = func.end_lineno or cut_from
    partial = "".join(lines[: cut_from - 1]) + "".join(lines[end:])
    after = "".join(lines[end:]).strip()
    del kept
    return partial, (cut_from if after else None)


def build() -> None:
    for task, module, function, keep in TASKS:
        source = inspect.getsource(importlib.import_module(module))
        original = slice_source(source, function)
        partial, line = cut(original, function, keep)
        folder = HERE / task
        folder.mkdir(exist_ok=True)
        (folder / "original.py").write_text(original, encoding="utf-8")
        (folder / "partial.py").write_text(partial, encoding="utf-8")
        meta = {"task": task, "module": module, "function": function, "kept_statements": keep, "line": line,
                "source": f"{module}.{function} ({importlib.import_module(module).__file__})"}
        (folder / "task.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        print(f"{task}: {len(original.splitlines())} lines, completion at {'line ' + str(line) if line else 'the end'}")


def check() -> int:
    from code_generation.sandbox.runner import run_tests

    failed = 0
    for task, *_ in TASKS:
        folder = HERE / task
        test = folder / f"test_{task}.py"
        if not test.exists():
            print(f"{task}: NO TEST FILE")
            failed += 1
            continue
        original = (folder / "original.py").read_text(encoding="utf-8")
        partial_result = run_tests((folder / "partial.py").read_text(encoding="utf-8"), task, test.read_text(), test.name)
        result = run_tests(original, task, test.read_text(), test.name)
        ok = result.success and not partial_result.success and result.tests_run >= 3
        failed += not ok
        print(f"{task}: original {result.passed}/{result.tests_run}, partial {partial_result.passed}/{partial_result.tests_run}"
              f" {'ok' if ok else 'FAIL ' + result.message[:200]}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    sys.exit(check() if parser.parse_args().check else build())
