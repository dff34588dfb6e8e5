"""What a Rust test file asks of the crate under test, read from its text (never compiled here).

Two styles, told apart by the paths it uses:

* **integration** (a file for cargo's ``tests/`` folder): it names the crate, ``use mycrate::parse;``
  or ``mycrate::parse("x")``. The crate name comes from those paths.
* **unit** (a ``#[cfg(test)] mod tests { use super::*; ... }`` block): it names no crate; it is
  compiled into ``src/lib.rs`` after the module. The crate name comes from the output file
  (`crate_name`).

Tests are the ``#[test]`` functions, found at any depth of inline modules and named as libtest
names them (``tests::adds_two``). `wrap` gives each one the completion proof the sandbox checks
(rust/package.py holds the proof module); `replace_test` swaps one test function for a
corrected one (arbitration of generated tests).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

from code_generation.languages.base import TestFileError
from code_generation.languages.rust import syntax

NOT_CRATES = frozenset({"std", "core", "alloc", "crate", "self", "super", "Self", "proc_macro", "test"})
RUST_KEYWORDS = frozenset({
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
})  # fmt: skip
RESERVED_STEMS = frozenset({"lib", "main", "mod"})
MOVED_ATTRIBUTES = frozenset({"test", "should_panic", "ignore"})  # they go to the wrapper libtest runs
COPIED_ATTRIBUTES = frozenset({"cfg", "cfg_attr"})  # on both: the wrapper exists when the test does
WRAPPED_PREFIX = "__cs_t_"
PROOF_CALL = "crate::__cs_proof::run"
MAX_NESTING = 200  # braces inside braces: real tests stay far below, a 1 MB file of `mod a {` would not
PRIMITIVES = frozenset({"i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
                        "f32", "f64", "bool", "char", "str"})


@dataclass
class RustTest:
    """One ``#[test]`` function: its libtest name and what libtest needs to know of it."""

    name: str  # "tests::adds_two", or "adds_two" at the top
    function: str
    should_panic: bool
    ignored: bool
    conditional: bool  # under a cfg attribute (its own or its module's): maybe not compiled
    item: syntax.Item = field(repr=False)

    def harness_entry(self) -> dict[str, object]:
        return {"name": self.name, "should_panic": self.should_panic, "ignored": self.ignored,
                "conditional": self.conditional}


@dataclass
class RustTestFile:
    """The test file read: its style, the crate it names, its tests and the names it takes from the crate."""

    style: str  # "integration" | "unit"
    crate: str | None
    tests: list[RustTest]
    names: list[str]  # imported by name from the crate (empty for a glob or a unit-style file)

    @property
    def expected(self) -> list[str]:
        """Tests that surely exist once compiled (no cfg on the way) and run (not ``#[ignore]``, which
        libtest skips unless asked): each must report a result."""
        return [t.name for t in self.tests if not t.conditional and not t.ignored]


def _valid_crate(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)) and name not in RUST_KEYWORDS and name != "_"


def _path_crates(masked: str, local: set[str], stem: str) -> list[str]:
    """Crates a test file names only by a path (``adder::add(1, 2)``, no ``use``): a root named like
    the output file; in a file that never reaches into the crate as unit tests do (``super::``,
    ``crate::``), also any root that is not std's, a primitive, a local module or a name a ``use``
    brought in (``use std::mem;`` ... ``mem::swap``)."""
    imported = syntax.use_names(masked)
    roots = [r for r in syntax.path_roots(masked)
             if r not in NOT_CRATES and r not in PRIMITIVES and r not in local and r not in imported]
    if re.search(r"(?<![\w:])(?:super|crate)\s*::", masked):
        return [r for r in roots if r == stem]
    return roots


def crate_candidates(masked: str, available: frozenset[str] = frozenset(), stem: str = "") -> list[str]:
    """The crates a test file's ``use`` paths, ``extern crate`` lines and paths name (see
    `_path_crates`), other than std's and the ones available as dependencies (unless named like
    the output file)."""
    local = syntax.local_modules(masked)
    roots = [r for r in syntax.use_roots(masked) if r not in NOT_CRATES and r not in local]
    roots = list(dict.fromkeys([*roots, *_path_crates(masked, local, stem)]))
    # Rust takes identifiers in any script (``a¹dder``, ``données``); a crate's name is ASCII.
    return [r for r in roots if (r not in available or r == stem) and r.isascii() and _valid_crate(r)]


def _imported_names(masked: str, source: str, crate: str) -> list[str]:
    """``use crate::{a, b::c}`` -> a, c; ``crate::f(...)`` -> f."""
    names: list[str] = []
    for match in re.finditer(rf"(?<![\w:])use\s+(?:::)?{re.escape(crate)}\s*::", masked):
        end = masked.find(";", match.end())
        tree = source[match.end():end if end >= 0 else len(source)]
        for part in re.split(r"[{},]", tree):
            words = [w for w in re.split(r"\s*::\s*", part.strip()) if w]
            if words and words[-1] not in {"*", "self"}:
                last = words[-1].split(" as ")[0].strip()
                if re.fullmatch(r"\w+", last):
                    names.append(last)
    names += re.findall(rf"(?<![\w:]){re.escape(crate)}\s*::\s*(\w+)", masked)
    return list(dict.fromkeys(n for n in names if n != "self"))


def _test_of(path: tuple[str, ...], item: syntax.Item, masked: str, module_cfg: bool) -> RustTest | None:
    paths = [a.path for a in item.attributes]
    if "test" not in paths:
        return None
    params = masked.find("(", item.name_at)
    if params < 0 or item.body is None:
        raise TestFileError(f"the test `{item.name}` has no body: write `#[test] fn {item.name}() {{ ... }}`")
    inner = masked[params + 1:syntax.match_bracket(masked, params) - 1]
    if inner.strip():
        raise TestFileError(f"the test `{item.name}` takes arguments: #[test] functions take none")
    return RustTest("::".join((*path, item.name)), item.name, "should_panic" in paths, "ignore" in paths,
                    module_cfg or any(p in COPIED_ATTRIBUTES for p in paths), item)


def _unconditional(attribute: syntax.Attribute) -> bool:
    """``#[cfg(test)]``, which holds whenever tests are built; any other cfg may leave the item out
    (``cfg(not(test))``, ``cfg(feature = "slow-tests")``)."""
    return re.sub(r"\s+", "", attribute.text) == "#[cfg(test)]"


def find_tests(source: str, masked: str | None = None) -> list[RustTest]:
    """Every ``#[test]`` function, at any depth of inline modules, in file order."""
    masked = syntax.mask(source) if masked is None else masked
    cfg_modules: set[tuple[str, ...]] = set()
    tests: list[RustTest] = []
    for path, item in syntax.walk(source, masked):
        unsupported = [a.path for a in item.attributes if a.path.endswith("::test") or a.path in {"bench", "tokio"}]
        if unsupported and item.kind == "fn":
            raise TestFileError(f"the test `{item.name}` uses #[{unsupported[0]}]: only plain #[test] functions "
                                "are supported (no async runtime is available offline)")
        if item.kind == "mod" and any(a.path in COPIED_ATTRIBUTES and not _unconditional(a)
                                      for a in item.attributes):
            cfg_modules.add((*path, item.name))
        if item.kind != "fn":
            continue
        module_cfg = any(path[:k] in cfg_modules for k in range(1, len(path) + 1))
        if (test := _test_of(path, item, masked, module_cfg)) is not None:
            tests.append(test)
    return tests


def _deepest(masked: str) -> int | None:
    """How deep the braces nest (a module path per level is kept for every item: deep is costly);
    None when they do not balance: one closes nothing (``fn t() // {`` then ``}``), or one stays open.
    The items would then run into each other, and each test's wrapper with them."""
    depth = deepest = 0
    for brace in re.sub(r"[^{}]", "", masked):
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return None
        deepest = max(deepest, depth)
    return deepest if depth == 0 else None


def analyse(source: str, stem: str = "", available: frozenset[str] = frozenset(),
            label: str = "the test file") -> RustTestFile:
    """The test file's style, crate, tests and imported names; a file that cannot judge is an error."""
    if "\0" in source:
        raise TestFileError(f"{label} holds NUL bytes, so it is not Rust source")
    masked = syntax.mask(source)
    depth = _deepest(masked)
    if depth is None or not syntax.delimiters_balanced(masked):
        raise TestFileError(f"{label} does not parse: its brackets or braces do not balance (fix it before "
                            "generating code)")
    if depth > MAX_NESTING:
        raise TestFileError(f"{label} nests braces {depth} deep, more than the {MAX_NESTING} a test file is read "
                            "with: flatten it")
    tests = find_tests(source, masked)
    if not tests:
        raise TestFileError(f"{label} defines no tests (no #[test] functions)")
    candidates = crate_candidates(masked, available, stem)
    if candidates:
        crate = stem if stem in candidates else candidates[0]
        return RustTestFile("integration", crate, tests, _imported_names(masked, source, crate))
    return RustTestFile("unit", None, tests, [])


def crate_name(tests: RustTestFile | None, output: Path) -> str:
    """The crate's name: the test file's (integration style), else the output file's stem, else its
    package folder's (``proj/src/lib.rs`` -> proj), else ``solution``."""
    if tests is not None and tests.crate:
        return tests.crate
    stem = output.stem
    if _valid_crate(stem) and stem not in RESERVED_STEMS and stem.isascii():
        return stem
    folder = output.parent.parent if output.parent.name == "src" else output.parent
    name = re.sub(r"[^A-Za-z0-9_]", "_", folder.resolve().name)
    return name if _valid_crate(name) and not name[0].isdigit() and not keyword.iskeyword(name) else "solution"


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _return_type(masked: str, item: syntax.Item) -> str:
    """``-> Result<(), String>`` or nothing, from the masked text: a comment before the body's
    brace (``fn t() // why``) would swallow the wrapper's body."""
    params = masked.find("(", item.name_at)
    close = syntax.match_bracket(masked, params)
    assert item.body is not None
    return " ".join(masked[close:item.body[0]].split())


def wrap(source: str, tests: list[RustTest]) -> str:
    """The test file with every test wrapped: libtest runs a new ``#[test] fn name`` that calls the
    proof module with the original body, renamed ``__cs_t_name`` and no longer a test.

    Line numbers stay as they were (the wrapper goes on the line of the test's first attribute),
    so panics and compiler messages point at the user's lines.
    """
    masked = syntax.mask(source)
    out = source
    for test in sorted(tests, key=lambda t: t.item.start, reverse=True):
        item = test.item
        moved = [a for a in item.attributes if a.path in MOVED_ATTRIBUTES]
        copied = [a.text for a in item.attributes if a.path in COPIED_ATTRIBUTES]
        ret = _return_type(masked, item)
        name = item.name
        parts = ["#[test]", *[a.text for a in moved if a.path != "test"], *copied, f"fn {name}()", ret,
                 f"{{ {PROOF_CALL}({WRAPPED_PREFIX}{name}) }} "]
        wrapper = " ".join(p for p in parts if p)
        out = out[:item.name_at] + WRAPPED_PREFIX + name + out[item.name_at + len(name):]
        for attribute in sorted(moved, key=lambda a: a.start, reverse=True):
            out = out[:attribute.start] + _blank(attribute.text) + out[attribute.end:]
        out = out[:item.start] + wrapper + out[item.start:]
    return out


def test_function(source: str, name: str) -> syntax.Item | None:
    """The function item of the test called `name`: its libtest name (``large::t``), else a bare
    function name that only one test has (``t`` of ``small::t`` and ``large::t`` is ambiguous)."""
    tests = find_tests(source)
    exact = next((t.item for t in tests if t.name == name), None)
    if exact is not None or "::" in name:
        return exact
    named = [t.item for t in tests if t.function == name]
    return named[0] if len(named) == 1 else None


def replace_test(source: str, name: str, new_function: str) -> str | None:
    """The test file with the test `name`'s function (from ``fn`` on; its attributes stay) replaced
    by `new_function` (whose own attributes are dropped); None when either has no such function."""
    old = test_function(source, name)
    if old is None:
        return None
    masked = syntax.mask(new_function)
    replacement = next((i for _, i in syntax.walk(new_function, masked)
                        if i.kind == "fn" and i.name == old.name and i.body is not None), None)
    if replacement is None:
        return None
    text = new_function[replacement.keyword_at:replacement.end]
    indent = re.match(r"[ \t]*", source[source.rfind("\n", 0, old.keyword_at) + 1:]).group(0)  # type: ignore[union-attr]
    lines = text.splitlines()
    base = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()), default=0)
    body = [lines[0].strip()] + [indent + line[base:].rstrip() if line.strip() else "" for line in lines[1:]]
    return source[:old.keyword_at] + "\n".join(body) + source[old.end:]
