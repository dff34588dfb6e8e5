"""The throw-away cargo package of one attempt: every file format of it, in one place.

::

    Cargo.toml          the crate, its dependencies from the offline source, unsafe code forbidden
    src/lib.rs          the module (unit-style tests: the module, a blank line, the wrapped tests)
    tests/<name>.rs     integration-style tests, wrapped (see rust/testfile.py: wrap)

The wrapped tests end with the proof module (`PROOF_MODULE`): each test reads its nonce from a
pipe before it runs any code of the module, and writes ``<nonce> returned`` or ``<nonce>
panicked`` to a second pipe once the test function has come back (see _sandbox_cargo.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from code_generation.languages.rust.testfile import RustTestFile, wrap

EDITION = "2021"
PACKAGE_ROOT = "/cargo/package"  # where the package appears inside the sandbox, the same every attempt
CACHE_ROOT = "/cargo/cache"  # the run's shared build folder (target/ and cargo's home) inside the sandbox

CARGO_TOML = """[package]
name = {name}
version = "0.1.0"
edition = "{edition}"
publish = false
autobins = false
autoexamples = false
autobenches = false
autotests = false

[lib]
path = "src/lib.rs"
doctest = false
{test_target}
[dependencies]
{dependencies}
[lints.rust]
unsafe_code = "forbid"

[profile.dev]
debug = 0
"""

INTEGRATION_TARGET = """
[[test]]
name = {name}
path = {path}
"""

# Safe code only (the crate forbids unsafe code): it reaches the pipes through /proc/self/fd. Every
# path is absolute (`::std::...`, macros too): a unit-style module shares src/lib.rs with it, and a
# `macro_rules! format` or `mod std` of the module's must not reach it.
PROOF_MODULE = """

#[allow(dead_code)]
mod __cs_proof {
    //! create-script's sandbox: proves that a test function came back (code_generation/sandbox/child/_sandbox_cargo.py).
    use ::std::io::{Read as _, Write as _};

    fn channel(index: usize) -> ::std::string::String {
        let fds = ::std::env::var("CREATE_SCRIPT_PROOF_FDS").unwrap_or_default();
        ::std::format!("/proc/self/fd/{}", fds.split(',').nth(index).unwrap_or("-"))
    }

    pub fn run<T>(body: fn() -> T) -> T {
        let mut nonce = ::std::string::String::new();
        let taken = ::std::fs::File::open(channel(0)).and_then(|mut pipe| pipe.read_to_string(&mut nonce));
        if taken.is_err() || nonce.is_empty() {
            ::std::panic!("create-script: this test runs only in the create-script sandbox");
        }
        let outcome = ::std::panic::catch_unwind(body);
        let kind = if outcome.is_ok() { "returned" } else { "panicked" };
        let mut proof = ::std::fs::OpenOptions::new().write(true).open(channel(1)).expect("the proof channel");
        proof.write_all(::std::format!("{nonce} {kind}\\n").as_bytes()).expect("the proof channel");
        ::std::mem::drop(proof);
        match outcome {
            ::std::result::Result::Ok(value) => value,
            ::std::result::Result::Err(payload) => ::std::panic::resume_unwind(payload),
        }
    }
}
"""


def _toml(text: str) -> str:
    return json.dumps(text)  # a TOML basic string accepts JSON's escapes


def test_target_name(test_filename: str) -> str:
    """The integration test's cargo target name, from the user's file name (``tests.rs`` -> tests)."""
    stem = test_filename.rsplit("/", 1)[-1].removesuffix(".rs")
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "tests"
    return name if not name[0].isdigit() else f"t_{name}"


def cargo_toml(crate: str, packages: dict[str, str], test_target: str | None) -> str:
    dependencies = "".join(f"{_toml(name)} = {_toml(version)}\n" for name, version in sorted(packages.items()))
    target = INTEGRATION_TARGET.format(name=_toml(test_target), path=_toml(f"tests/{test_target}.rs")) \
        if test_target else ""
    return CARGO_TOML.format(name=_toml(crate), edition=EDITION, test_target=target, dependencies=dependencies)


@dataclass
class Package:
    """The files of one attempt's package and how to build and read its tests."""

    files: dict[str, str]
    crate: str
    style: str  # "integration" | "unit"
    test_path: str  # the file the tests are in: "tests/<name>.rs" or "src/lib.rs"
    test_target: str  # cargo's target whose test executable runs the tests
    target_args: list[str]  # cargo test ... --test <name> | --lib
    test_offset: int  # the test file's line 1 is line 1 + test_offset of test_path
    module_lines: int
    tests: list[dict[str, object]] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)


def build_package(module_source: str, crate: str, test_source: str, test_filename: str, tests: RustTestFile,
                  packages: dict[str, str], extra_files: dict[str, str] | None = None) -> Package:
    """The package for one attempt: the module as src/lib.rs, the tests wrapped where their style puts them."""
    wrapped = wrap(test_source, tests.tests).rstrip("\n") + "\n" + PROOF_MODULE
    module = module_source.rstrip("\n")
    module_lines = module.count("\n") + 1
    if tests.style == "integration":
        target = test_target_name(test_filename)
        path = f"tests/{target}.rs"
        files = {"src/lib.rs": module + "\n", path: wrapped}
        args, offset, toml_target = ["--test", target], 0, target
    else:
        path, target = "src/lib.rs", crate
        files = {path: module + "\n\n" + wrapped}
        args, offset, toml_target = ["--lib"], module_lines + 1, None
    files["Cargo.toml"] = cargo_toml(crate, packages, toml_target)
    for rel, content in (extra_files or {}).items():
        if rel in files:
            raise ValueError(f"extra file {rel!r} would replace a file of the package")
        files[rel] = content
    return Package(files, crate, tests.style, path, target, args, offset, module_lines,
                   [t.harness_entry() for t in tests.tests], tests.expected)
