"""The Rust benchmark tasks under examples/rust/, checked for shape and run with real cargo.

Each folder ``examples/rust/<task>/`` holds exactly prompt.txt, tests.rs and meta.json. Its
meta.json names the crate, the difficulty and the test style: "integration" tests live in
``tests/<task>.rs`` and ``use <crate>::...``; "unit" tests are a ``#[cfg(test)] mod tests`` block
appended to ``src/lib.rs``. The reference solution is ``benchmarks/reference/rust/<task>.rs``.

With cargo on PATH, all tasks are built once as members of one throw-away cargo workspace (so they
share one target folder), twice over: ``ref_<task>`` with the reference, which must pass every
test, and ``stub_<task>`` with the reference's ``pub fn`` bodies replaced by ``unimplemented!()``,
which must fail them, so each task's tests really test something. Cargo runs offline with a
private CARGO_HOME whose only registry is Debian's packaged crates in /usr/share/cargo/registry
(for the one task with a crate dependency, ``regex``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUST_EXAMPLES_DIR = ROOT / "examples" / "rust"
REFERENCE_DIR = ROOT / "benchmarks" / "reference" / "rust"
DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")

TASK_FILES = {"prompt.txt", "tests.rs", "meta.json"}
META_KEYS = {"crate", "difficulty", "source", "style"}
DIFFICULTIES = {"easy", "medium", "hard"}
STYLES = {"integration", "unit"}
# Debian's crates that a dependency's default features need (Debian calls them librust-<name>-dev).
DEBIAN_CRATES = {"regex": ("regex", "regex-syntax", "aho-corasick", "memchr")}
RUST_KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "type", "unsafe", "use", "where", "while", "yield", "test", "std", "core", "alloc", "proc_macro",
}
BUILD_TIMEOUT = 900  # seconds for building every task once
RUN_TIMEOUT = 300  # seconds for one task's `cargo test`


def _task_dirs() -> list[Path]:
    if not RUST_EXAMPLES_DIR.is_dir():
        return []
    return sorted(p for p in RUST_EXAMPLES_DIR.iterdir() if p.is_dir())


TASK_DIRS = _task_dirs()


def _meta(folder: Path) -> dict[str, Any]:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert isinstance(meta, dict), f"{folder.name}: meta.json is not an object"
    return meta


def _tests_source(folder: Path) -> str:
    return (folder / "tests.rs").read_text(encoding="utf-8")


def _reference_path(folder: Path) -> Path:
    return REFERENCE_DIR / f"{folder.name}.rs"


# Rust lexemes that may hold braces or words that are not code: raw strings, strings, char
# literals and comments; and the braces themselves. Lifetimes ('a) are not char literals.
_LEXEME = re.compile(
    r"""\br(?P<hashes>\#*)".*?"(?P=hashes)|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])'|//[^\n]*|/\*.*?\*/|[{}]""",
    re.DOTALL,
)


def _code_only(source: str) -> str:
    """The source with strings, char literals and comments blanked out (its length kept)."""
    return _LEXEME.sub(lambda m: m.group() if m.group() in ("{", "}") else " " * len(m.group()), source)


def _matching_brace(source: str, open_at: int) -> int:
    """The index of the "}" closing the "{" at `open_at`."""
    depth = 0
    for match in _LEXEME.finditer(source, open_at):
        if match.group() == "{":
            depth += 1
        elif match.group() == "}":
            depth -= 1
            if depth == 0:
                return match.start()
    raise ValueError(f"no closing brace for the one at {open_at}")


def stub_source(reference: str) -> str:
    """The reference with the body of every `pub fn` replaced by `unimplemented!()`."""
    code = _code_only(reference)  # same length as `reference`, so indices carry over
    parts: list[str] = []
    pos = 0
    for match in re.finditer(r"\bpub\s+fn\s+\w+", code):
        if match.start() < pos:
            continue  # inside a body already replaced
        brace, semicolon = code.find("{", match.end()), code.find(";", match.end())
        if brace < 0 or 0 <= semicolon < brace:
            continue  # a declaration without a body
        close = _matching_brace(reference, brace)
        parts += [reference[pos : brace + 1], " unimplemented!() "]
        pos = close
    parts.append(reference[pos:])
    return "".join(parts)


def _identifiers(source: str) -> set[str]:
    return set(re.findall(r"\b[A-Za-z_]\w*\b", _code_only(source)))


def _imported_names(tests: str, crate: str) -> list[str]:
    """The names of `use <crate>::name;` and `use <crate>::{a, b};` in the tests."""
    names: list[str] = []
    for group, single in re.findall(rf"\buse\s+{crate}::(?:\{{([^}}]*)\}}|(\w+))\s*;", tests):
        names += [n.strip() for n in group.split(",") if n.strip()] if group else [single]
    return names


def _public_items(reference: str) -> tuple[set[str], set[str], set[str]]:
    """(pub fn names, pub type names, pub field names) defined in a reference solution."""
    code = _code_only(reference)
    functions = set(re.findall(r"\bpub\s+fn\s+(\w+)", code))
    types = set(re.findall(r"\bpub\s+(?:struct|enum|trait|type)\s+(\w+)", code))
    fields = set(re.findall(r"\bpub\s+(\w+)\s*:", code)) - RUST_KEYWORDS
    return functions, types, fields


def _count_tests(tests: str) -> tuple[int, int]:
    """(number of #[test] functions, number of them marked #[should_panic])."""
    code = _code_only(tests)
    return len(re.findall(r"#\[test\]", code)), len(re.findall(r"#\[should_panic\b", code))


def _missing_debian_crates(meta: dict[str, Any]) -> list[str]:
    missing: list[str] = []
    for dependency in meta.get("dependencies", {}):
        for crate in DEBIAN_CRATES.get(dependency, (dependency,)):
            if not any(DEBIAN_REGISTRY.glob(f"{crate}-[0-9]*/Cargo.toml")):
                missing.append(crate)
    return missing


# --- shape of the task set --------------------------------------------------------------------


def test_task_set_has_the_intended_mix() -> None:
    metas = {folder.name: _meta(folder) for folder in TASK_DIRS}
    assert len(metas) >= 12, f"only {len(metas)} Rust tasks under {RUST_EXAMPLES_DIR}"
    difficulties = Counter(meta["difficulty"] for meta in metas.values())
    assert difficulties["easy"] >= 4 and difficulties["medium"] >= 4 and difficulties["hard"] >= 2
    styles = Counter(meta["style"] for meta in metas.values())
    assert styles["integration"] >= 8 and styles["unit"] >= 2, styles
    with_dependencies = [name for name, meta in metas.items() if "dependencies" in meta]
    assert len(with_dependencies) == 1, f"expected one task with dependencies: {with_dependencies}"
    assert set(metas[with_dependencies[0]]["dependencies"]) == {"regex"}
    assert any(
        "#[should_panic" in _tests_source(folder) or "Err(" in _tests_source(folder)
        for folder in TASK_DIRS
    ), "no task tests a panic or an Err"
    crates = [meta["crate"] for meta in metas.values()]
    assert len(set(crates)) == len(crates), "two tasks share a crate name"


@pytest.mark.parametrize("folder", TASK_DIRS, ids=lambda p: p.name)
class TestRustTaskFolder:
    def test_holds_exactly_the_task_files(self, folder: Path) -> None:
        assert {p.name for p in folder.iterdir()} == TASK_FILES

    def test_meta_json(self, folder: Path) -> None:
        meta = _meta(folder)
        assert META_KEYS <= set(meta) <= META_KEYS | {"dependencies"}, sorted(meta)
        crate = meta["crate"]
        assert isinstance(crate, str) and crate.isidentifier() and crate.isascii(), crate
        assert crate not in RUST_KEYWORDS
        assert meta["difficulty"] in DIFFICULTIES
        assert meta["source"] == "new Rust example"
        assert meta["style"] in STYLES
        if "dependencies" in meta:
            dependencies = meta["dependencies"]
            assert isinstance(dependencies, dict) and dependencies
            assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in dependencies.items())

    def test_tests_rs_matches_its_style(self, folder: Path) -> None:
        meta, tests = _meta(folder), _tests_source(folder)
        n_tests, _ = _count_tests(tests)
        assert 3 <= n_tests <= 6, f"{folder.name}: {n_tests} tests"
        if meta["style"] == "integration":
            assert _imported_names(tests, meta["crate"]), f"tests.rs never does `use {meta['crate']}::...`"
            assert "mod tests" not in tests
        else:
            assert tests.lstrip().startswith("#[cfg(test)]\nmod tests {")
            assert "use super::*;" in tests
            assert f"use {meta['crate']}::" not in tests
            assert not re.search(r"^\s*#!\[", tests, re.MULTILINE), "inner attributes cannot be appended"
        for dependency in meta.get("dependencies", {}):
            assert f"use {dependency}::" in tests

    def test_prompt_is_one_paragraph_naming_what_the_tests_use(self, folder: Path) -> None:
        meta = _meta(folder)
        prompt = (folder / "prompt.txt").read_text(encoding="utf-8").strip()
        assert prompt and "\n" not in prompt, "prompt.txt should be one non-empty paragraph"
        tests = _tests_source(folder)
        used = _identifiers(tests)
        functions, types, fields = _public_items(_reference_path(folder).read_text(encoding="utf-8"))
        missing = [name for name in _imported_names(tests, meta["crate"]) if name not in prompt]
        missing += [f"fn {name}(" for name in sorted(functions & used) if f"fn {name}(" not in prompt]
        missing += [name for name in sorted((types | fields) & used) if not re.search(rf"\b{name}\b", prompt)]
        # enum variants and associated functions the tests spell as Type::Name
        for owner, name in re.findall(r"\b(\w+)::(\w+)", _code_only(tests)):
            if owner in types and not re.search(rf"\b{name}\b", prompt):
                missing.append(f"{owner}::{name}")
        missing += [dependency for dependency in meta.get("dependencies", {}) if dependency not in prompt]
        assert not missing, f"{folder.name}: prompt.txt does not mention {missing}"

    def test_reference_exists_and_a_stub_can_be_made(self, folder: Path) -> None:
        reference = _reference_path(folder).read_text(encoding="utf-8")
        assert "#[cfg(test)]" not in reference, "the reference must not carry the tests"
        stub = stub_source(reference)
        assert stub.count("unimplemented!()") == len(_public_items(reference)[0]) > 0
        assert "unimplemented!()" not in reference


def test_stub_source_replaces_pub_fn_bodies_only() -> None:
    reference = (
        "pub struct S { pub x: u8 }\n"
        "fn helper() -> char { '{' }\n"
        "impl S {\n"
        "    pub fn new() -> S { let _ = \"}\"; S { x: 1 } }\n"
        "    pub fn get<'a>(&'a self) -> &'a u8 { &self.x } // }\n"
        "}\n"
    )
    assert stub_source(reference) == (
        "pub struct S { pub x: u8 }\n"
        "fn helper() -> char { '{' }\n"
        "impl S {\n"
        "    pub fn new() -> S { unimplemented!() }\n"
        "    pub fn get<'a>(&'a self) -> &'a u8 { unimplemented!() } // }\n"
        "}\n"
    )


# --- running the tests with cargo -------------------------------------------------------------


@dataclass
class CargoWorkspace:
    """One cargo workspace holding every task twice: ``ref_<task>`` and ``stub_<task>``."""

    root: Path
    env: dict[str, str]
    skipped: dict[str, str] = field(default_factory=dict)  # task -> reason
    build_output: str = ""

    def cargo_test(self, package: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["cargo", "test", "--offline", "-q", "-p", package],
            cwd=self.root, env=self.env, capture_output=True, text=True,
            timeout=RUN_TIMEOUT, check=False,
        )


def _write_package(root: Path, package: str, folder: Path, library: str) -> None:
    meta = _meta(folder)
    unit = meta["style"] == "unit"
    tests = _tests_source(folder)
    package_dir = root / package
    (package_dir / "src").mkdir(parents=True)
    manifest = [
        "[package]", f'name = "{package}"', 'version = "0.1.0"', 'edition = "2021"',
        "publish = false", "",
        "[lib]", f'name = "{meta["crate"]}"', 'path = "src/lib.rs"', "doctest = false",
        f"test = {'true' if unit else 'false'}", "",
        "[dependencies]",
    ]
    manifest += [f"{name} = {json.dumps(req)}" for name, req in meta.get("dependencies", {}).items()]
    (package_dir / "Cargo.toml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    if unit:
        (package_dir / "src" / "lib.rs").write_text(library.rstrip() + "\n\n" + tests, encoding="utf-8")
    else:
        (package_dir / "src" / "lib.rs").write_text(library, encoding="utf-8")
        (package_dir / "tests").mkdir()
        (package_dir / "tests" / f"{folder.name}.rs").write_text(tests, encoding="utf-8")


@pytest.fixture(scope="session")
def cargo_workspace(tmp_path_factory: pytest.TempPathFactory) -> CargoWorkspace:
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not on PATH: the Rust tasks are not built (install a Rust toolchain)")
    base = tmp_path_factory.mktemp("rust_examples")
    cargo_home = base / "cargo_home"
    cargo_home.mkdir()
    (cargo_home / "config.toml").write_text(
        "[source.crates-io]\n"
        'replace-with = "debian"\n\n'
        "[source.debian]\n"
        f'directory = "{DEBIAN_REGISTRY}"\n\n'
        "[net]\n"
        "offline = true\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env.update(
        CARGO_HOME=str(cargo_home),
        CARGO_TARGET_DIR=str(base / "target"),
        CARGO_TERM_COLOR="never",
        CARGO_INCREMENTAL="0",
    )
    if "RUSTUP_HOME" not in env and (Path.home() / ".rustup").is_dir():
        env["RUSTUP_HOME"] = str(Path.home() / ".rustup")  # rustup's default, lest it follow CARGO_HOME
    root = base / "workspace"
    root.mkdir()
    workspace = CargoWorkspace(root=root, env=env)
    members: list[str] = []
    for folder in TASK_DIRS:
        missing = _missing_debian_crates(_meta(folder))
        if missing:
            packages = " ".join(f"librust-{crate}-dev" for crate in missing)
            workspace.skipped[folder.name] = (
                f"needs Debian's packaged crates {missing} in {DEBIAN_REGISTRY}: "
                f"apt-get install {packages}"
            )
            continue
        reference = _reference_path(folder).read_text(encoding="utf-8")
        _write_package(root, f"ref_{folder.name}", folder, reference)
        _write_package(root, f"stub_{folder.name}", folder, stub_source(reference))
        members += [f"ref_{folder.name}", f"stub_{folder.name}"]
    (root / "Cargo.toml").write_text(
        '[workspace]\nresolver = "2"\nmembers = [\n'
        + "".join(f'    "{member}",\n' for member in members)
        + "]\n",
        encoding="utf-8",
    )
    # Build everything once; a task that fails to build shows its errors in its own test below.
    built = subprocess.run(
        ["cargo", "test", "--offline", "-q", "--workspace", "--no-run"],
        cwd=root, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )
    workspace.build_output = built.stdout + built.stderr
    return workspace


def _results(output: str) -> tuple[int, int]:
    """(passed, failed) summed over the `test result:` lines of cargo test's output."""
    passed = failed = 0
    for p, f in re.findall(r"test result: \w+\. (\d+) passed; (\d+) failed", output):
        passed, failed = passed + int(p), failed + int(f)
    return passed, failed


@pytest.mark.parametrize("folder", TASK_DIRS, ids=lambda p: p.name)
def test_reference_passes_its_tests(folder: Path, cargo_workspace: CargoWorkspace) -> None:
    if folder.name in cargo_workspace.skipped:
        pytest.skip(cargo_workspace.skipped[folder.name])
    done = cargo_workspace.cargo_test(f"ref_{folder.name}")
    output = done.stdout + done.stderr
    n_tests, _ = _count_tests(_tests_source(folder))
    assert done.returncode == 0, f"{folder.name}: the reference fails its tests:\n{output[-6000:]}"
    assert _results(output) == (n_tests, 0), f"{folder.name}: expected {n_tests} passed:\n{output[-3000:]}"


@pytest.mark.parametrize("folder", TASK_DIRS, ids=lambda p: p.name)
def test_stub_fails_its_tests(folder: Path, cargo_workspace: CargoWorkspace) -> None:
    if folder.name in cargo_workspace.skipped:
        pytest.skip(cargo_workspace.skipped[folder.name])
    done = cargo_workspace.cargo_test(f"stub_{folder.name}")
    output = done.stdout + done.stderr
    n_tests, n_should_panic = _count_tests(_tests_source(folder))
    passed, failed = _results(output)
    assert done.returncode != 0, f"{folder.name}: the unimplemented!() stub passes the tests"
    # Each test must call the code: all fail, except #[should_panic] ones that any panic satisfies.
    assert passed + failed == n_tests, f"{folder.name}: the stub did not build or run:\n{output[-3000:]}"
    assert failed >= n_tests - n_should_panic, f"{folder.name}: only {failed} tests fail:\n{output[-3000:]}"


def test_benchmark_script_finds_each_rust_task_and_its_output_name() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench", ROOT / "benchmarks" / "create_script_examples.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folders = bench.task_folders(RUST_EXAMPLES_DIR, None)
    assert folders == _task_dirs()
    for folder in folders:
        test_file, output = bench.task_files(folder, "rust")
        assert test_file == folder / "tests.rs" and output == f"{_meta(folder)['crate']}.rs"
