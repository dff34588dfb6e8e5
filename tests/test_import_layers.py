"""The project's shape: no import circle (TYPE_CHECKING and function-level imports included), so
the modules form layers, each importing only modules below it; and no function over 100 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("code_generation", "my_llm", "qna", "benchmarks")
MAX_FUNCTION_LINES = 100
MAX_FILE_LINES = 650  # "about 600": the house rule, with room for a docstring


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if package == "benchmarks" and len(parts) > 2:  # task fixtures, not the project's code
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in modules:  # `from package import submodule`
                        graph[name].add(full)
                    elif node.module in modules:
                        graph[name].add(node.module)
        graph[name].discard(name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_checker_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_project() -> None:
    graph = import_graph()
    assert "code_generation.engine.loop" in graph and "my_llm.standards" in graph
    assert circles(graph) == []


def test_the_engine_vocabulary_sits_below_the_engine() -> None:
    graph = import_graph()
    for module in ("code_generation.console", "code_generation.evaluation.tasks", "code_generation.languages.python.testgen",
                   "code_generation.languages.python.feedback", "code_generation.types", "code_generation.engine.loop_state"):
        assert "code_generation.engine.loop" not in graph[module], module
    assert "my_llm.memory.history" not in graph["my_llm.standards"]


def test_no_function_over_100_lines() -> None:
    long = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if (node.end_lineno or start) - start + 1 > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long == []


def _imports_of(graph: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
    """Each module under `prefix` -> the project modules it imports."""
    return {m: deps for m, deps in graph.items() if m == prefix or m.startswith(prefix + ".")}


def _reaches(deps: set[str], prefix: str) -> set[str]:
    return {d for d in deps if d == prefix or d.startswith(prefix + ".")}


def test_the_engine_speaks_to_a_language_only_through_its_interface() -> None:
    graph = import_graph()
    engine = _imports_of(graph, "code_generation.engine")
    assert "code_generation.engine.loop" in engine and "code_generation.engine.tactics.rounds" in engine
    for module, deps in engine.items():
        for language in ("code_generation.languages.python", "code_generation.languages.rust"):
            assert not _reaches(deps, language), f"{module} imports {sorted(_reaches(deps, language))}"


def test_python_and_rust_are_peers() -> None:
    graph = import_graph()
    pairs = (("code_generation.languages.python", "code_generation.languages.rust"),
             ("code_generation.languages.rust", "code_generation.languages.python"))
    for one, other in pairs:
        modules = _imports_of(graph, one)
        assert len(modules) > 5, one
        for module, deps in modules.items():
            assert not _reaches(deps, other), f"{module} imports {sorted(_reaches(deps, other))}"


def test_the_sandbox_and_the_vocabulary_stand_on_nothing_above_them() -> None:
    graph = import_graph()
    for module, deps in _imports_of(graph, "code_generation.sandbox").items():
        outside = {d for d in deps if not d.startswith("code_generation.sandbox")}
        assert not outside, f"{module} imports {sorted(outside)}"
    above = ("code_generation.engine", "code_generation.languages", "code_generation.evaluation",
             "code_generation.completion", "code_generation.api")
    for module in ("code_generation.types", "code_generation.model_calls", "code_generation.run_folder",
                   "code_generation.plugins", "code_generation.languages.base", "code_generation.languages.blocks"):
        bad = {d for d in graph[module] if d.startswith(above)
               and d not in {"code_generation.languages.base", "code_generation.languages.blocks"}}
        assert not bad, f"{module} imports {sorted(bad)}"


def test_the_built_in_plug_ins_exist_and_register_their_parts() -> None:
    from code_generation import plugins
    from code_generation.engine.tactics import available_tactics, tactics_for
    from code_generation.languages import available_languages, get_language

    modules = _modules()
    assert all(name in modules for name in plugins.BUILTIN)
    assert available_languages() == ["python", "rust"]
    assert {"focus", "skeleton", "trace", "compiler_fixes", "restart"} <= set(available_tactics())
    assert "focus" in tactics_for(get_language("python")) and "focus" not in tactics_for(get_language("rust"))
    assert "compiler_fixes" in tactics_for(get_language("rust"))
    assert "compiler_fixes" not in tactics_for(get_language("python"))


def test_no_file_over_about_600_lines() -> None:
    long = [f"{path.relative_to(ROOT)}: {n}" for path in _modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES]
    assert long == []

