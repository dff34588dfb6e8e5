"""The sandbox for Rust, with real cargo: builds, failures, compile errors as results, forged
passes, a hostile build script, crates from an offline directory source and missing crates.

The tests share one build folder (the `cargo_sandbox` fixture), as the attempts of one run do.
Without the Rust toolchain they skip, and under CI they fail (tests/conftest.py).
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest

from code_generation.languages.rust import crates
from code_generation.languages.rust import feedback as rust_feedback
from code_generation.languages.rust.cargo_runner import CargoSandbox
from code_generation.languages.rust.diagnostics import CargoResult
from code_generation.sandbox.runner import SandboxLimits
from tests.test_rust_syntax import make_crate

LIMITS = SandboxLimits(timeout=20)

TESTS = '''use adder::add;

#[test]
fn adds() {
    assert_eq!(add(1, 2), 3);
}

#[test]
fn adds_negative() {
    assert_eq!(add(-4, 1), -3);
}
'''

GOOD = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"

UNIT_TESTS = '''#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }

    #[test]
    #[should_panic(expected = "overflow")]
    fn overflows() {
        add(i32::MAX, 1);
    }

    #[test]
    fn as_result() -> Result<(), String> {
        if add(2, 2) == 4 { Ok(()) } else { Err("2 + 2 is not 4".to_string()) }
    }

    #[test]
    #[ignore]
    fn slow() {}
}
'''


def run(sandbox: CargoSandbox, code: str, tests: str = TESTS, limits: SandboxLimits = LIMITS,
        **extra: str) -> CargoResult:
    return sandbox(code, "adder", tests, "tests.rs", limits, extra_files=extra or None)


def test_a_passing_function_passes_every_test_in_the_sandbox(cargo_sandbox: CargoSandbox) -> None:
    result = run(cargo_sandbox, GOOD)
    assert result.success and (result.passed, result.tests_run) == (2, 2), result
    assert any("user: cargo, rustc, build scripts and the tests run as" in n for n in result.isolation) \
        or os.geteuid() != 0
    assert any(n.startswith("network: new namespace") for n in result.isolation)


def test_a_failing_test_reports_its_assertion_and_the_test_files_own_line(cargo_sandbox: CargoSandbox) -> None:
    result = run(cargo_sandbox, GOOD.replace("a + b", "a - b"))
    assert result.status == "ok" and not result.success
    failed = {c.name: c for c in result.cases}
    assert failed["adds"].outcome == "failed"
    assert failed["adds"].message == ("thread 'adds' panicked at tests.rs:5:5:\nassertion `left == right` failed\n"
                                      "  left: -1\n right: 3")
    assert "FAIL: adds_negative" in rust_feedback.details(result)


def test_a_compile_error_is_a_result_with_the_compilers_diagnostics(cargo_sandbox: CargoSandbox) -> None:
    result = run(cargo_sandbox, "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn name() -> String {\n    5\n}\n")
    assert result.status == "compile_error" and result.tests_run == 0 and not result.success
    (error,) = result.diagnostics
    assert (error.code, error.message, error.where) == ("E0308", "mismatched types", "src/lib.rs:6:5")
    assert error.source_line.strip() == "5"
    assert [f.replacement for n in error.notes for f in n.fixes] == [".to_string()"]
    assert "error[E0308]: mismatched types" in result.message


def test_unit_style_tests_run_inside_the_crate_with_should_panic_results_and_ignore(
        cargo_sandbox: CargoSandbox) -> None:
    good = "pub fn add(a: i32, b: i32) -> i32 {\n    a.checked_add(b).expect(\"overflow\")\n}\n"
    result = run(cargo_sandbox, good, UNIT_TESTS)
    outcomes = {c.name: c.outcome for c in result.cases}
    # `#[ignore]` (tests::slow) is not run, as `cargo test` does not run it: every other test passed
    assert outcomes == {"tests::adds": "passed", "tests::overflows": "passed", "tests::as_result": "passed"}, result
    assert result.success and rust_feedback.verdict(result) == "passes every test"
    wrong = run(cargo_sandbox, good.replace("checked_add(b).expect(\"overflow\")", "wrapping_sub(b)"), UNIT_TESTS)
    messages = {c.name: (c.outcome, c.message) for c in wrong.cases}
    assert messages["tests::adds"][1].startswith("thread 'tests::adds' panicked at tests.rs:7:9:")
    assert messages["tests::overflows"][0] == "failed" and "did not panic" in messages["tests::overflows"][1]
    assert messages["tests::as_result"][0] == "error" and "2 + 2 is not 4" in messages["tests::as_result"][1]


FORGERIES = {
    # Prints libtest's own words, then ends the process with a success code before the test returns.
    "fake_summary_exit": 'pub fn add(a: i32, b: i32) -> i32 {\n    println!("test adds ... ok\\n\\ntest result: ok. '
                         '1 passed; 0 failed");\n    std::process::exit(0)\n}\n',
    "abort": "pub fn add(a: i32, b: i32) -> i32 {\n    std::process::abort()\n}\n",
    # A child process: the test binary itself, asked to run the test again, then exit(0).
    "spawn_itself": '''pub fn add(a: i32, b: i32) -> i32 {
    let me = std::env::current_exe().unwrap();
    let _ = std::process::Command::new(me).args(["--exact", "adds", "--test-threads=1"]).status();
    std::process::exit(0)
}
''',
    # A process left behind to outlive the test (killed before the next test starts).
    "daemon": '''pub fn add(a: i32, b: i32) -> i32 {
    let _ = std::process::Command::new("sh").args(["-c", "sleep 60 &"]).status();
    a - b
}
''',
    # Reads the nonce pipe again (already empty) and writes a "proof" of its own.
    "replay_proof": '''pub fn add(a: i32, b: i32) -> i32 {
    use std::io::{Read, Write};
    let fds = std::env::var("CREATE_SCRIPT_PROOF_FDS").unwrap_or_default();
    let mut fd = fds.split(',');
    let (nonce_fd, proof_fd) = (fd.next().unwrap_or("0"), fd.next().unwrap_or("1"));
    let mut nonce = String::new();
    let _ = std::fs::File::open(format!("/proc/self/fd/{nonce_fd}")).and_then(|mut f| f.read_to_string(&mut nonce));
    let _ = std::fs::OpenOptions::new().write(true).open(format!("/proc/self/fd/{proof_fd}"))
        .and_then(|mut f| f.write_all(format!("{nonce} returned\\n").as_bytes()));
    std::process::exit(0)
}
''',
    "unsafe_code": "pub fn add(a: i32, b: i32) -> i32 {\n    unsafe { std::hint::unreachable_unchecked() }\n}\n",
    "code_before_main": '''#[used]
#[link_section = ".init_array"]
static EARLY: extern "C" fn() = early;
extern "C" fn early() {}
pub fn add(a: i32, b: i32) -> i32 { a - b }
''',
    "equal_to_everything": '''#[derive(Debug)]
pub struct Anything;
impl PartialEq<i32> for Anything {
    fn eq(&self, _other: &i32) -> bool { true }
}
pub fn add(a: i32, b: i32) -> Anything { let _ = (a, b); Anything }
''',
}


@pytest.mark.parametrize("attack", list(FORGERIES))
def test_a_forged_pass_is_a_failure_or_tampering_never_a_pass(cargo_sandbox: CargoSandbox, attack: str) -> None:
    result = run(cargo_sandbox, FORGERIES[attack], limits=SandboxLimits(timeout=10))
    assert not result.success and result.passed == 0, result
    assert result.status in {"ok", "compile_error", "tampered"}
    if attack in {"fake_summary_exit", "spawn_itself"}:
        assert all("exited with code 0 before the test returned" in c.message for c in result.cases), result.cases
    if attack == "abort":
        assert all("killed by SIGABRT" in c.message for c in result.cases)
    if attack == "replay_proof":
        assert result.status == "tampered" and "proof channel" in result.message
    if attack in {"unsafe_code", "code_before_main"}:
        assert result.status == "compile_error" and "unsafe" in rust_feedback.details(result).lower()
    if attack == "equal_to_everything":
        assert result.status == "tampered" and "always returns true" in result.message


def test_a_test_that_never_ends_is_stopped_at_the_time_limit(cargo_sandbox: CargoSandbox) -> None:
    result = run(cargo_sandbox, "pub fn add(a: i32, b: i32) -> i32 {\n    loop {}\n}\n", limits=SandboxLimits(timeout=2))
    assert result.status == "timeout" and result.message == "timed out after 2 s while running adds"


def test_a_hostile_build_script_is_contained(rust_toolchain: object, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-key")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        reader = f'''fn main() {{
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_else(|_| "no key".into());
    let file = std::fs::read_to_string("{secret}").unwrap_or_else(|_| "no file".into());
    let net = std::net::TcpStream::connect("127.0.0.1:{port}").is_ok();
    panic!("saw: {{key}} / {{file}} / network {{net}}");
}}
'''
        looping = 'fn main() {\n    let _ = std::process::Command::new("sleep").arg("600").spawn();\n    loop {}\n}\n'
        with CargoSandbox(build_timeout=6) as sandbox:
            read = run(sandbox, GOOD, **{"build.rs": reader})
            loops = run(sandbox, GOOD, **{"build.rs": looping})
    assert read.status == "compile_error"
    assert "saw: no key / no file / network false" in read.message
    assert "the-secret" not in read.message + read.cargo_errors and "sk-the-key" not in read.message
    assert loops.status == "timeout" and loops.message == "the build did not finish in 6 s"


def test_a_crate_from_a_local_directory_source_is_found_and_built(rust_toolchain: object, tmp_path: Path) -> None:
    make_crate(tmp_path / "vendor", "tiny-math", "0.1.0")
    code = "use tiny_math::triple;\n\npub fn add(a: i32, b: i32) -> i32 {\n    (triple(a as i64) / 3) as i32 + b\n}\n"
    with CargoSandbox(crates.read_source(tmp_path / "vendor")) as sandbox:
        result = run(sandbox, code)
    assert result.success, result
    assert (result.crates_added, result.crates_missing) == (["tiny_math"], [])
    assert any(str(tmp_path / "vendor") in n for n in result.isolation)  # shown read-only in the private root


def test_a_crate_the_offline_source_lacks_becomes_feedback(cargo_sandbox: CargoSandbox) -> None:
    result = run(cargo_sandbox, "use serde::Serialize;\n\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")
    assert result.status == "compile_error" and result.crates_missing == ["serde"]
    assert rust_feedback.missing_crate(result) == "serde"
    assert "cargo add" not in rust_feedback.details(result)


@pytest.mark.skipif(not (crates.DEBIAN_REGISTRY / "regex-1.7.1").is_dir(), reason="Debian's librust-regex-dev is not installed")
def test_debians_packaged_regex_is_used_as_a_directory_source(rust_toolchain: object) -> None:
    code = 'use regex::Regex;\n\npub fn add(a: i32, b: i32) -> i32 {\n    let n = Regex::new(r"\\d").unwrap().find_iter("a1b2").count() as i32;\n    a + b + n - 2\n}\n'
    with CargoSandbox(crates.read_source(crates.DEBIAN_REGISTRY), build_timeout=600) as sandbox:
        result = run(sandbox, code, limits=SandboxLimits(timeout=30))
    assert result.success, result
    assert result.crates_added == ["regex"]


# --------------------------------------------------------------------------- the module against the tests

SHADOWED_UNIT_TESTS = '''#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }

    #[test]
    fn adds_big() {
        assert!(add(40, 2) == 42, "40 + 2");
    }

    #[test]
    fn as_result() -> Result<(), String> {
        if add(2, 2) == 4 { Ok(()) } else { Err("2 + 2 is not 4".to_string()) }
    }
}
'''
WRONG = "pub fn add(a: i32, b: i32) -> i32 {\n    a * b + 1000\n}\n"
SHADOWING = {
    # macro_rules! reaches everything after it in src/lib.rs: the unit tests' asserts would check nothing.
    "own_asserts": WRONG + "macro_rules! assert_eq { ($($t:tt)*) => { () }; }\n"
                           "macro_rules! r#assert { ($($t:tt)*) => { () }; }\n",
    # ... and the proof module after the tests: its `format!` would write "returned" for a panic.
    "forged_proof": WRONG + r'''
macro_rules! format {
    ($s:literal) => {{
        let line = std::format!($s).replace(" panicked", " returned");
        let mut proof = std::fs::OpenOptions::new().write(true).open(channel(1)).unwrap();
        std::io::Write::write_all(&mut proof, line.as_bytes()).unwrap();
        std::process::exit(0);
        #[allow(unreachable_code)]
        line
    }};
    ($($t:tt)*) => { std::format!($($t)*) };
}
''',
    "renamed_import": WRONG + "mod quiet { macro_rules! nothing { ($($t:tt)*) => { () }; } pub(crate) use nothing; }\n"
                              "use quiet::nothing as assert_eq;\n",
    # A Result of its own (glob-imported by the tests) whose Termination says every test passed.
    "own_termination": WRONG + '''pub enum Result<T, E> { Ok(T), Err(E) }
pub use Result::*;
impl<T, E> std::process::Termination for Result<T, E> {
    fn report(self) -> std::process::ExitCode { std::process::ExitCode::SUCCESS }
}
''',
}


@pytest.mark.parametrize("attack", list(SHADOWING))
def test_a_module_that_stands_in_for_the_standard_library_is_tampering(cargo_sandbox: CargoSandbox,
                                                                       attack: str) -> None:
    result = run(cargo_sandbox, SHADOWING[attack], SHADOWED_UNIT_TESTS)
    assert result.status == "tampered" and not result.success and result.passed == 0, result
    reason = {"own_asserts": "defines its own `assert_eq!` (line 4)", "forged_proof": "defines its own `format!`",
              "renamed_import": "imports something as `assert_eq` (line 5)",
              "own_termination": "names `Termination`"}[attack]
    assert reason in result.message and reason in rust_feedback.details(result)  # the model is told why


def test_the_proof_module_is_out_of_reach_of_the_modules_macros(cargo_sandbox: CargoSandbox,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("code_generation.languages.rust.cargo_runner.tampering", lambda _source: None)  # the text check off
    result = run(cargo_sandbox, SHADOWING["forged_proof"], SHADOWED_UNIT_TESTS)
    assert result.status == "ok" and result.passed == 0, result  # ::std::format! is not the module's format!
    assert {c.name: c.outcome for c in result.cases}["tests::adds"] == "failed"


def test_a_module_with_macros_of_its_own_names_passes(cargo_sandbox: CargoSandbox) -> None:
    honest = '''// not macro_rules! assert_eq: a comment
macro_rules! sum_of { ($a:expr, $b:expr) => { $a + $b }; }

/// Says "macro_rules! format" and "use x as assert" in a string only.
pub const NOTE: &str = "macro_rules! format { } use x as assert;";

pub fn add(a: i32, b: i32) -> i32 {
    assert!(NOTE.len() > 0);
    sum_of!(a, b)
}
'''
    result = run(cargo_sandbox, honest, SHADOWED_UNIT_TESTS)
    assert result.success and result.tests_run == 3, result


CORRECT_CODE_PASSES = {
    # names the crate by a path only (no `use adder::...`): an integration test
    "path_only": "#[test]\nfn adds() { assert_eq!(adder::add(1, 2), 3); }\n",
    # a module under a cfg other than cfg(test) is not compiled: its test is not missing
    "cfg_feature_module": '''#[cfg(test)]
mod tests {
    use super::*;
    #[test] fn a() { assert_eq!(add(1, 2), 3); }
    #[cfg(feature = "slow-tests")]
    mod slow { use super::*; #[test] fn b() { assert_eq!(add(2, 2), 4); } }
    #[cfg(not(test))]
    mod never { #[test] fn c() {} }
}
''',
    # ignored through cfg_attr: libtest skips it, so the harness does not run it
    "cfg_attr_ignore": '''use adder::add;
#[test]
#[cfg_attr(not(feature = "slow"), ignore)]
fn slow_adds() { assert_eq!(add(1, 2), 3); }
#[test]
fn adds() { assert_eq!(add(1, 2), 3); }
''',
    "comment_before_the_body": "use adder::add;\n\n#[test]\nfn adds() // one plus two\n{\n    assert_eq!(add(1, 2), 3);\n}\n",
    "ignored": "use adder::add;\n#[test]\nfn adds() { assert_eq!(add(1, 2), 3); }\n#[test]\n#[ignore]\n"
               "fn slow() { assert_eq!(add(1000, 2000), 3001); }\n",
}


@pytest.mark.parametrize("case", list(CORRECT_CODE_PASSES))
def test_correct_code_passes_whatever_the_shape_of_the_test_file(cargo_sandbox: CargoSandbox, case: str) -> None:
    result = run(cargo_sandbox, GOOD, CORRECT_CODE_PASSES[case])
    assert result.success, result
    ran = {"cfg_feature_module": ["tests::a"], "cfg_attr_ignore": ["adds"]}.get(case, ["adds"])
    assert [c.name for c in result.cases] == ran
    assert rust_feedback.verdict(result) == "passes every test"


def test_a_crate_named_only_by_a_path_that_the_source_lacks_becomes_feedback(cargo_sandbox: CargoSandbox) -> None:
    result = run(cargo_sandbox, "pub fn add(a: i32, b: i32) -> i32 {\n    a + b + rand::random::<i32>() * 0\n}\n")
    assert result.status == "compile_error" and result.crates_unknown == ["rand"], result
    assert rust_feedback.missing_crate(result) == "rand"


def harness() -> ModuleType:
    """The harness's cargo mode, imported here (it puts its own folder on sys.path: undone)."""
    saved = list(sys.path)
    try:
        return importlib.import_module("code_generation.sandbox.child._sandbox_cargo")
    finally:
        sys.path[:] = saved


def test_the_harness_runs_neither_ignored_tests_nor_conditional_ones_libtest_skips() -> None:
    tests = [{"name": "plain", "ignored": False, "conditional": False},
             {"name": "marked", "ignored": True, "conditional": False},
             {"name": "cfg_attr_ignored", "ignored": False, "conditional": True},
             {"name": "cfg_attr_run", "ignored": False, "conditional": True},
             {"name": "cfg_left_out", "ignored": False, "conditional": True}]
    listed = {"plain", "marked", "cfg_attr_ignored", "cfg_attr_run"}
    ignored = {"marked", "cfg_attr_ignored", "plain"}  # only a conditional test may be dropped as ignored
    assert [t["name"] for t in harness().to_run(tests, listed, ignored)] == ["plain", "cfg_attr_run"]
    assert [t["name"] for t in harness().to_run(tests, None, set())] == [
        "plain", "cfg_attr_ignored", "cfg_attr_run", "cfg_left_out"]
