"""The Rust path's text handling, without cargo: masking and items, the test file's style, crate and
tests, the proof wrappers, extraction of a module from a reply, the offline crate source, the
feedback's rendering and the language plug-in. (tests/test_rust_sandbox.py runs real cargo.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from code_generation.engine.loop_state import DEFAULT_TACTICS
from code_generation.engine.tactics import tactic_names
from code_generation.languages import get_language, language_for
from code_generation.languages.base import TestFileError
from code_generation.languages.rust import crates, extract, feedback, prompts, syntax, testfile
from code_generation.languages.rust.diagnostics import CargoResult, Diagnostic, Fix, Note, Paths
from code_generation.languages.rust.package import build_package
from code_generation.languages.rust.safety import lying_equality, shadowed_std, tampering
from code_generation.types import CodeTask, LoopSettings
from my_llm.errors import MyLLMError
from my_llm.models.model_tiers import ModelProfile

INTEGRATION = '''use fizz::{fizzbuzz, other as renamed};

#[test]
fn three() {
    assert_eq!(fizzbuzz(3), "Fizz");
}

#[test]
#[should_panic(expected = "zero }")]
fn zero() { fizz::fizzbuzz(0); }

mod more {
    use super::*;

    #[test]
    #[ignore]
    fn big() -> Result<(), String> {
        Ok(())
    }

    #[cfg(feature = "slow")]
    #[test]
    fn slow() {}
}
'''

UNIT = '''#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }
}
'''


# --------------------------------------------------------------------------- syntax


def test_mask_blanks_comments_strings_and_chars_but_keeps_lifetimes_and_lines() -> None:
    source = 'fn f<\'a>(x: &\'a str) -> char { /* { */ let s = "}"; let r = r#"a"}"#; let c = \'{\'; // }\n c }'
    masked = syntax.mask(source)
    assert len(masked) == len(source) and masked.count("\n") == source.count("\n")
    assert masked.count("{") == masked.count("}") == 1
    assert "'a" in masked  # a lifetime is code, not a char literal


def test_items_end_at_their_body_or_semicolon_and_walk_into_modules() -> None:
    source = ('const C: [u8; 3] = [1, 2, 3];\nstatic S: &str = "}";\nimpl<T> X for Y<T> where T: Clone { fn g() {} }\n'
              'macro_rules! m { ($x:expr) => { $x }; }\npub(crate) mod a { #[test] fn t() {} }\n')
    found = [(path, item.kind, item.name) for path, item in syntax.walk(source)]
    assert found == [((), "const", "C"), ((), "static", "S"), ((), "impl", ""), ((), "macro_rules", "m"),
                     ((), "mod", "a"), (("a",), "fn", "t")]


# --------------------------------------------------------------------------- the test file


def test_an_integration_test_names_its_crate_and_the_items_it_uses() -> None:
    tests = testfile.analyse(INTEGRATION, stem="lib")
    assert (tests.style, tests.crate) == ("integration", "fizz")
    assert tests.names == ["fizzbuzz", "other"]
    assert [(t.name, t.should_panic, t.ignored, t.conditional) for t in tests.tests] == [
        ("three", False, False, False), ("zero", True, False, False), ("more::big", False, True, False),
        ("more::slow", False, False, True)]
    assert tests.expected == ["three", "zero"]  # a cfg'd test may not be compiled, an ignored one is not run


def test_a_crate_available_offline_is_not_taken_for_the_crate_under_test() -> None:
    source = "use regex::Regex;\nuse words::count;\n#[test]\nfn t() { assert_eq!(count(\"a\"), 1); }\n"
    assert testfile.analyse(source, available=frozenset({"regex"})).crate == "words"
    assert testfile.analyse(source, stem="regex", available=frozenset({"regex"})).crate == "regex"


def test_a_unit_test_module_names_no_crate_and_the_output_gives_it() -> None:
    tests = testfile.analyse(UNIT)
    assert (tests.style, tests.crate, [t.name for t in tests.tests]) == ("unit", None, ["tests::adds"])
    assert testfile.crate_name(tests, Path("/w/adder.rs")) == "adder"
    assert testfile.crate_name(tests, Path("/w/my-proj/src/lib.rs")) == "my_proj"
    assert testfile.crate_name(tests, Path("/w/123/main.rs")) == "solution"
    assert testfile.crate_name(testfile.analyse(INTEGRATION), Path("/w/adder.rs")) == "fizz"


@pytest.mark.parametrize(("source", "message"), [
    ("fn helper() {}\n", "defines no tests"),
    ("#[tokio::test]\nasync fn t() {}\n", r"only plain #\[test\] functions"),
    ("#[test]\nfn t(x: u8) {}\n", "takes arguments"),
    ("#[test]\nfn t() {\n", "braces do not balance"),
])
def test_a_test_file_that_cannot_judge_is_refused(source: str, message: str) -> None:
    with pytest.raises(TestFileError, match=message):
        testfile.analyse(source)


def test_wrapping_keeps_every_line_where_it_was_and_moves_libtest_attributes_to_the_wrapper() -> None:
    tests = testfile.analyse(INTEGRATION)
    wrapped = testfile.wrap(INTEGRATION, tests.tests)
    assert len(wrapped.splitlines()) == len(INTEGRATION.splitlines())
    lines = wrapped.splitlines()
    assert lines[2].rstrip() == "#[test] fn three() { crate::__cs_proof::run(__cs_t_three) }"
    assert lines[3] == "fn __cs_t_three() {"
    assert lines[7].startswith('#[test] #[should_panic(expected = "zero }")] fn zero() { crate::__cs_proof::run(__cs_t_zero) }')
    assert lines[8].strip() == ""  # the attribute moved to the wrapper
    assert lines[9] == "fn __cs_t_zero() { fizz::fizzbuzz(0); }"
    assert "fn big() -> Result<(), String> { crate::__cs_proof::run(__cs_t_big) }" in wrapped
    assert '#[test] #[cfg(feature = "slow")] fn slow()' in wrapped and '#[cfg(feature = "slow")]\n' in wrapped


def test_a_package_puts_unit_tests_after_the_module_and_maps_their_lines_back() -> None:
    module = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    tests = testfile.analyse(UNIT)
    package = build_package(module, "adder", UNIT, "tests.rs", tests, {"regex": "1.7.1"})
    assert package.target_args == ["--lib"] and package.test_path == "src/lib.rs"
    lib = package.files["src/lib.rs"].splitlines()
    assert lib[package.test_offset:package.test_offset + 3] == UNIT.splitlines()[:3]
    assert '"regex" = "1.7.1"' in package.files["Cargo.toml"] and 'unsafe_code = "forbid"' in package.files["Cargo.toml"]
    paths = Paths(package.test_path, "tests.rs", package.test_offset)
    assert paths.text(f"panicked at src/lib.rs:{package.test_offset + 7}:9") == "panicked at tests.rs:7:9"
    assert paths.text("at src/lib.rs:2:5") == "at src/lib.rs:2:5"
    integration = build_package(module, "fizz", INTEGRATION, "fizz_tests.rs", testfile.analyse(INTEGRATION), {})
    assert integration.target_args == ["--test", "fizz_tests"] and "tests/fizz_tests.rs" in integration.files


def test_a_corrected_test_replaces_only_that_function() -> None:
    new = "#[test]\nfn three() {\n        assert_eq!(fizzbuzz(3), \"Fizz!\");\n    }"
    revised = testfile.replace_test(INTEGRATION, "three", new)
    assert revised is not None
    assert 'assert_eq!(fizzbuzz(3), "Fizz!");' in revised and revised.count("#[test]") == 4
    assert revised.replace('"Fizz!"', '"Fizz"') == INTEGRATION
    assert testfile.replace_test(INTEGRATION, "missing", new) is None


PATH_ONLY = '#[test]\nfn two_words() {\n    assert_eq!(initials::initials("Ada Lovelace"), "AL");\n}\n'


def test_a_test_that_names_the_crate_only_by_a_path_is_an_integration_test() -> None:
    tests = testfile.analyse(PATH_ONLY, "solver")
    assert (tests.style, tests.crate, tests.names) == ("integration", "initials", ["initials"])
    assert get_language("rust").module_name(Path("out/solver.rs"), PATH_ONLY) == "initials"
    assert testfile.analyse(PATH_ONLY.replace("initials::", "solver::"), "solver").crate == "solver"


@pytest.mark.parametrize("source", [
    # paths through a name a `use` brought in, or a primitive: std's, not a crate
    "use std::mem;\n#[test]\nfn t() { let (mut a, mut b) = (1, 2); mem::swap(&mut a, &mut b); assert_eq!(i32::MAX, a); }\n",
    # unit tests reach the module through super: only a root named like the output file is the crate
    "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn t() { assert_eq!(helpers::f(), parse::<u8>(\"1\")); }\n}\n",
])
def test_paths_of_std_names_and_of_the_modules_own_modules_name_no_crate(source: str) -> None:
    assert (testfile.analyse(source, "adder").style, testfile.analyse(source, "adder").crate) == ("unit", None)


def test_only_cfg_test_leaves_a_module_of_tests_unconditional() -> None:
    source = '''#[cfg(test)]
mod tests {
    use super::*;
    #[test] fn a() { assert_eq!(f(), 1); }
    #[cfg(feature = "slow-tests")]
    mod slow { use super::*; #[test] fn b() { assert_eq!(f(), 1); } }
    #[cfg(not(test))]
    mod never { #[test] fn c() {} }
    #[cfg( test )]
    mod spaced { #[test] fn d() {} }
}
'''
    tests = testfile.analyse(source)
    assert [(t.name, t.conditional) for t in tests.tests] == [
        ("tests::a", False), ("tests::slow::b", True), ("tests::never::c", True), ("tests::spaced::d", False)]
    assert tests.expected == ["tests::a", "tests::spaced::d"]


def test_a_comment_before_a_tests_body_stays_out_of_its_wrapper() -> None:
    source = "use adder::add;\n\n#[test]\nfn adds() // one plus two\n{\n    assert_eq!(add(1, 2), 3);\n}\n"
    typed = "use adder::add;\n#[test]\nfn typed() /* why */ -> Result<(), String> // ok\n{ Ok(()) }\n"
    wrapped = testfile.wrap(source, testfile.analyse(source).tests).splitlines()
    assert wrapped[2].rstrip() == "#[test] fn adds() { crate::__cs_proof::run(__cs_t_adds) }"
    assert wrapped[3] == "fn __cs_t_adds() // one plus two"
    assert "#[test] fn typed() -> Result<(), String> { crate::__cs_proof::run(__cs_t_typed) }" in \
        testfile.wrap(typed, testfile.analyse(typed).tests)


def test_a_test_is_found_by_its_full_name_before_its_function_name() -> None:
    source = (
        "use adder::add;\nmod small { use super::*; #[test] fn t() { assert_eq!(add(1, 1), 2); } }\n"
        "mod large { use super::*; #[test] fn t() { assert_eq!(add(100, 100), 201); } }\n#[test]\nfn u() {}\n")
    item = testfile.test_function(source, "large::t")
    assert item is not None and "201" in source[item.start:item.end]
    assert testfile.test_function(source, "t") is None  # two tests are called t: no guess
    assert testfile.test_function(source, "other::u") is None
    assert testfile.test_function(source, "u") is not None
    revised = testfile.replace_test(source, "large::t", "fn t() { assert_eq!(add(100, 100), 200); }")
    assert revised == source.replace("201", "200")


def test_a_unit_test_file_using_a_crate_of_the_offline_source_stays_unit_style(tmp_path: Path) -> None:
    make_crate(tmp_path, "regex", "1.7.1")
    source = '''#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn finds_words() {
        let re = Regex::new(r"\\w+").unwrap();
        assert_eq!(count_words(&re, "a b c"), 3);
    }
}
'''
    rust, chosen = get_language("rust"), LoopSettings(crate_source=str(tmp_path))
    name = rust.module_name(Path("words/src/lib.rs"), source, chosen)
    spec = rust.analyse_tests(source, name, "tests.rs")
    assert (name, spec.imported_names) == ("words", [])
    (message,) = rust.opening(CodeTask("Count words.", name, source, "tests.rs", language="rust"), spec, chosen)[0]
    assert "`#[cfg(test)]` module" in str(message.content) and "`regex`" in str(message.content)
    reply = "```rust\nuse regex::Regex;\npub fn count_words(re: &Regex, s: &str) -> usize { re.find_iter(s).count() }\n```"
    assert extract.extract_module(reply, name, spec.imported_names).code is not None


# --------------------------------------------------------------------------- extraction


def test_extraction_cuts_main_tests_and_self_imports_with_their_comments() -> None:
    reply = ("Sure:\n```rust\nuse adder::add;\n\n/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n"
             "/// Example usage\nfn main() {\n    println!(\"{}\", add(1, 2));\n}\n\n#[cfg(test)]\nmod tests {\n"
             "    #[test]\n    fn t() {}\n}\n```\nDone.")
    found = extract.extract_module(reply, "adder", ["add"])
    assert found.code == "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    assert found.notes == ["removed an import of `adder` from itself", "removed `fn main` (example usage)",
                           "removed the test module `tests` from the module"]
    assert extract.extract_module("I cannot help.", "adder", ["add"]).code is None
    split = extract.extract_module("```rust\npub mod error;\nmod inline { pub fn f() {} }\npub fn add() {}\n```",
                                   "adder", ["add"])
    assert split.code == "mod inline { pub fn f() {} }\npub fn add() {}\n"
    assert split.notes == ["removed `mod error;` (the crate is this one file: no other files to load)"]
    assert "does not define `add`" in extract.extract_module("```rust\npub fn sub() {}\n```", "adder", ["add"]).notes[-1]


def test_extraction_cuts_an_item_from_its_start_and_keeps_blank_lines_inside_literals() -> None:
    one_line = extract.clean_module("pub fn add(a: i32, b: i32) -> i32 { a + b } fn main() { println!(\"{}\", add(1, 2)); }\n",
                                    "adder")
    assert (one_line.code, one_line.notes) == ("pub fn add(a: i32, b: i32) -> i32 { a + b }\n",
                                               ["removed `fn main` (example usage)"])
    banner = 'pub const BANNER: &str = r"top\n\n\n\nbottom";\n\n\n\nfn main() {}\n\n\n\npub fn f() {}\n'
    assert extract.clean_module(banner, "adder").code == 'pub const BANNER: &str = r"top\n\n\n\nbottom";\n\npub fn f() {}\n'


def test_stubs_reach_functions_in_inline_modules_and_trait_default_methods() -> None:
    code = ("mod imp {\n    pub fn add(a: i32, b: i32) -> i32 { a + b }\n    impl super::S { fn g(&self) -> i32 { 1 } }\n}\n"
            "pub use imp::add;\npub struct S;\npub trait Shape { fn area(&self) -> f64 { 2.0 * 3.0 } fn name(&self);"
            " }\n")
    assert extract.stubbed(code) == (
        "mod imp {\n    pub fn add(a: i32, b: i32) -> i32 { todo!() }\n    impl super::S { fn g(&self) -> i32 { todo!() } }\n}\n"
        "pub use imp::add;\npub struct S;\npub trait Shape { fn area(&self) -> f64 { todo!() } fn name(&self); }\n")


def test_stubs_keep_every_signature_and_compute_nothing() -> None:
    code = "pub struct S { v: Vec<i32> }\nimpl S {\n    pub fn new() -> Self { S { v: vec![] } }\n}\npub fn add(a: i32) -> i32 { a }\n"
    assert extract.stubbed(code) == ("pub struct S { v: Vec<i32> }\nimpl S {\n    pub fn new() -> Self { todo!() }\n}\n"
                                     "pub fn add(a: i32) -> i32 { todo!() }\n")


def test_a_partial_eq_that_says_equal_to_everything_is_named() -> None:
    assert "always returns true" in (lying_equality("impl PartialEq<i32> for X { fn eq(&self, _: &i32) -> bool { true } }") or "")
    assert lying_equality("impl PartialEq for X { fn eq(&self, o: &X) -> bool { self.0 == o.0 } }") is None


@pytest.mark.parametrize(("module", "reason"), [
    ("macro_rules! assert_eq { ($($t:tt)*) => { () }; }", "defines its own `assert_eq!` (line 1)"),
    ("\n#[macro_export]\nmacro_rules! r#panic { ($($t:tt)*) => {}; }", "defines its own `panic!` (line 3)"),
    ("macro_rules! make { ($n:ident) => { macro_rules! $n { () => {} } }; }", "whose name is a name its caller gives"),
    ("pub(crate) use quiet::nothing as debug_assert;", "imports something as `debug_assert`"),
    ("use helpers::{a, b as r#format};", "imports something as `format`"),
    ("extern crate core as std;", "imports something as `std`"),
    ("pub mod std { pub fn f() {} }", "defines a module named `std`"),
    ("impl std::process::Termination for Out { fn report(self) -> std::process::ExitCode { todo!() } }",
     "names `Termination`"),
])
def test_a_module_that_takes_a_name_of_the_standard_library_is_named(module: str, reason: str) -> None:
    found = shadowed_std(module)
    assert found is not None and reason in found
    assert tampering(module) == found


def test_std_names_in_comments_strings_casts_and_plain_imports_are_not_tampering() -> None:
    honest = '''// macro_rules! assert_eq { } and use x as vec;
use std::panic;
use std::fmt::Write as _;
use std::io::{self, Read as IoRead};
macro_rules! my_assert { ($e:expr) => { assert!($e) }; }
/// "mod std", `impl Termination`
pub fn f(x: i64) -> u8 { let s = "macro_rules! format"; my_assert!(s.len() > 0); x as u8 }
pub mod std_utils {}
'''
    assert shadowed_std(honest) is None and tampering(honest) is None


def test_use_names_are_the_last_segments_or_their_new_names() -> None:
    masked = syntax.mask("use std::{mem, fmt::Write as W};\nuse a::b::c;\nuse super::*;\nuse x::{self, y::{z, r#w}};\n")
    assert syntax.use_names(masked) == {"mem", "W", "c", "z", "w"}


# --------------------------------------------------------------------------- the offline source


def make_crate(root: Path, name: str, version: str, body: str = "pub fn triple(x: i64) -> i64 { x * 3 }\n") -> Path:
    """A crate folder as a directory source holds it (cargo vendor's layout)."""
    folder = root / f"{name}-{version}"
    (folder / "src").mkdir(parents=True)
    (folder / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n')
    (folder / "src" / "lib.rs").write_text(body)
    (folder / ".cargo-checksum.json").write_text(json.dumps({"files": {}, "package": None}))
    return folder


def test_a_directory_source_lists_the_newest_version_of_each_crate(tmp_path: Path) -> None:
    make_crate(tmp_path, "tiny-math", "0.1.0")
    make_crate(tmp_path, "tiny-math", "0.10.2")
    (tmp_path / "not-a-crate").mkdir()
    source = crates.read_source(tmp_path)
    assert (source.kind, source.crates) == ("directory", {"tiny_math": ("tiny-math", "0.10.2")})
    assert f'source.create-script-offline.directory="{tmp_path}"' in source.config_args()


def test_a_local_registry_is_read_from_its_index(tmp_path: Path) -> None:
    (tmp_path / "index" / "ti" / "ny").mkdir(parents=True)
    (tmp_path / "index" / "ti" / "ny" / "tiny").write_text(
        '{"name": "tiny", "vers": "1.0.0"}\n{"name": "tiny", "vers": "1.2.0", "yanked": true}\n')
    source = crates.read_source(tmp_path)
    assert (source.kind, source.crates) == ("local-registry", {"tiny": ("tiny", "1.0.0")})


def test_the_crates_a_module_uses_are_added_or_reported(tmp_path: Path) -> None:
    make_crate(tmp_path, "tiny", "0.1.0")
    source = crates.read_source(tmp_path)
    code = "use std::fmt;\nuse serde::Serialize;\nmod helpers { }\npub fn f() -> i64 { tiny::triple(i64::MAX) + helpers::x() }"
    deps = crates.dependencies(code, "use mine::f;\n", "mine", source)
    assert (deps.packages, deps.added, deps.missing) == ({"tiny": "0.1.0"}, ["tiny"], ["serde"])
    assert crates.dependencies(code, "", "mine", None).missing == ["serde"]


def test_the_source_is_the_setting_then_the_environment_then_none(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make_crate(tmp_path, "tiny", "0.1.0")
    monkeypatch.setenv(crates.ENV, str(tmp_path))
    assert crates.offline_source() is not None and crates.offline_source().path == tmp_path.resolve()  # type: ignore[union-attr]
    assert crates.offline_source("none") is None
    with pytest.raises(MyLLMError, match="is not a folder"):
        crates.offline_source(tmp_path / "missing")


# --------------------------------------------------------------------------- feedback and prompts


def test_a_compile_error_is_rendered_with_its_place_source_and_suggested_fix() -> None:
    error = Diagnostic("error", "E0308", "mismatched types", "src/lib.rs", 4, 25, "expected `String`, found integer",
                       "fn f() -> String { 5 }", [Note("help", "try using a conversion method",
                                                       [Fix("src/lib.rs", 4, 26, ".to_string()")]),
                                                  Note("help", "use `cargo add x` to add it")])
    result = CargoResult(status="compile_error", diagnostics=[error])
    text = feedback.details(result)
    assert text.splitlines() == [
        "error[E0308]: mismatched types", "  --> src/lib.rs:4:25", "4 | fn f() -> String { 5 }",
        "  |                         ^ expected `String`, found integer", "   = help: try using a conversion method",
        "     suggested at src/lib.rs:4:26: `.to_string()`"]
    assert feedback.verdict(result) == "does not compile (1 error)"


def test_a_crate_the_source_lacks_is_named_for_the_standard_library_note() -> None:
    error = Diagnostic("error", "E0432", "unresolved import `serde`", label="use of unresolved module or unlinked crate `serde`")
    result = CargoResult(status="compile_error", diagnostics=[error], crates_missing=["serde"])
    assert feedback.missing_crate(result) == "serde"
    assert "not available" in get_language("rust").missing_note("serde")
    assert feedback.missing_crate(CargoResult(status="compile_error", diagnostics=[error])) is None


def test_the_rust_request_says_where_the_tests_go_and_which_crates_exist() -> None:
    (message,) = prompts.code_messages("Add.", "adder", "tests.rs", UNIT, "unit", ["regex"])
    assert "`#[cfg(test)]` module" in str(message.content) and "`regex`" in str(message.content)
    assert prompts.code_of_reply("x\n```rust\nfn a() {}\n```") == "fn a() {}"


# --------------------------------------------------------------------------- the language plug-in


def test_the_language_follows_the_extension_or_the_option() -> None:
    assert language_for(Path("a/lib.rs")).name == "rust"
    assert language_for(Path("a/b.py")).name == "python"
    assert language_for(Path("a/b.txt"), "rust").name == "rust"
    with pytest.raises(MyLLMError, match="unknown language 'cobol'"):
        get_language("cobol")


def test_rust_runs_only_the_tactics_that_do_not_read_python() -> None:
    rust = get_language("rust")
    assert tactic_names(LoopSettings(), ModelProfile(), rust) == ("restart", "compiler_fixes")
    assert tactic_names(LoopSettings(), ModelProfile(conversation="append"), rust) == (
        "restart", "append", "compiler_fixes")
    assert tactic_names(LoopSettings(), ModelProfile(tactics=("skeleton", "restart")), rust) == ("restart",)
    assert tactic_names(LoopSettings(), ModelProfile(tactics=DEFAULT_TACTICS), rust) == ("restart", "append")
    python = tactic_names(LoopSettings(), ModelProfile(), get_language("python"))
    assert python == tactic_names(LoopSettings(), ModelProfile())
    assert "compiler_fixes" not in python
    assert "compiler_fixes" not in tactic_names(LoopSettings(tactics=("compiler_fixes", "skeleton")), ModelProfile())
    assert rust.stop_sequences == ("\n```\n", "\nfn main(", "\n#[cfg(test)]", "\n// Example")
