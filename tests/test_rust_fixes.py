"""The compiler's suggested fixes (rust/fixes.py and the `compiler_fixes` tactic): the editing rules
on made-up diagnostics, then with real cargo, alone and in the loop with a fake model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.api import generate_script
from code_generation.languages.rust import feedback
from code_generation.languages.rust.cargo_runner import CargoSandbox
from code_generation.languages.rust.diagnostics import (
    CargoResult,
    Diagnostic,
    Fix,
    Note,
    Paths,
    diagnostic,
)
from code_generation.languages.rust.fixes import apply_edits, fixed_module, suggested_edits
from code_generation.sandbox.runner import SandboxLimits
from tests.test_rust_create_script import Calls, fenced, settings
from tests.test_rust_sandbox import harness

LIMITS = SandboxLimits(timeout=20)


def error(*notes: list[Fix]) -> Diagnostic:
    return Diagnostic("error", "E0000", "made up", notes=[Note("help", "try", list(fixes)) for fixes in notes])


def fix(line: int, column: int, text: str, end: tuple[int, int] | None = None, file: str = "src/lib.rs",
        applicability: str = "MachineApplicable") -> Fix:
    end_line, end_column = end or (line, column)
    return Fix(file, line, column, text, end_line, end_column, applicability)


CODE = "fn a() -> String {\n    \"é\"\n}\n"


def test_a_replacement_and_an_insertion_are_made_at_their_characters() -> None:
    # Column 8 of line 2 is after the closing quote: counted in characters, not bytes ("é" is two).
    fixed = fixed_module(CODE, [error([fix(2, 8, ".to_string()")]), error([fix(1, 1, "pub ")])])
    assert fixed == "pub fn a() -> String {\n    \"é\".to_string()\n}\n"
    assert fixed_module(CODE, [error([fix(1, 4, "b", end=(1, 5))])]) == CODE.replace("fn a(", "fn b(")


def test_of_alternatives_at_one_place_the_first_is_taken() -> None:
    found = error([fix(1, 1, "use std::collections::HashMap;\n"), fix(1, 1, "use hashbrown::HashMap;\n")])
    assert fixed_module(CODE, [found]) == "use std::collections::HashMap;\n" + CODE


def test_a_multi_part_fix_is_made_whole_or_not_at_all() -> None:
    both = error([fix(1, 1, "pub "), fix(2, 8, ".into()")])
    assert fixed_module(CODE, [both]) == "pub fn a() -> String {\n    \"é\".into()\n}\n"
    half_in_the_tests = error([fix(1, 1, "pub "), fix(2, 8, ".into()", file="tests.rs")])
    assert fixed_module(CODE, [half_in_the_tests]) is None


def test_placeholders_the_tests_and_lines_past_the_module_are_left_alone() -> None:
    assert fixed_module(CODE, [error([fix(1, 1, "/* value */", applicability="HasPlaceholders")])]) is None
    assert fixed_module(CODE, [error([fix(1, 1, "pub ", file="tests.rs")])]) is None
    assert fixed_module(CODE, [error([fix(9, 1, "pub ")])]) is None  # unit-style tests follow the module
    assert fixed_module(CODE, [error([fix(1, 40, "x")])]) is None  # past the end of its line


def test_the_same_edit_is_made_once_and_an_overlapping_one_dropped() -> None:
    imported = fix(1, 1, "use std::fmt;\n")
    edits = suggested_edits(CODE, [error([imported]), error([imported]), error([fix(1, 1, "use std::io;\n")])])
    assert len(edits) == 1
    overlapping = [error([fix(1, 4, "b", end=(1, 5))]), error([fix(1, 3, "xy", end=(1, 6))])]
    assert apply_edits(CODE, suggested_edits(CODE, overlapping)).startswith("fn b(")


def test_a_note_whose_fixes_were_cut_is_never_made() -> None:
    parts = [fix(1, 1, "pub "), fix(2, 8, ".into()")]
    cut = Diagnostic("error", "E0106", "made up", notes=[Note("help", "try", parts, cut=True)])
    assert fixed_module(CODE, [cut]) is None  # the parts the harness kept are not the whole fix
    assert fixed_module(CODE, [error(parts)]) is not None
    assert "... and more changes of the same suggestion" in feedback.details(CargoResult("compile_error", diagnostics=[cut]))


def test_the_harness_keeps_every_part_of_a_fix_or_marks_the_note_cut() -> None:
    def child(parts: int) -> dict[str, object]:
        spans = [{"file_name": "src/lib.rs", "line_start": 1, "column_start": n + 1, "line_end": 1,
                  "column_end": n + 1, "suggested_replacement": "'a ", "suggestion_applicability": "MaybeIncorrect"}
                 for n in range(parts)]
        return {"level": "help", "message": "consider introducing a named lifetime parameter", "spans": spans}

    cargo = harness()
    whole, cut = cargo.note(child(5)), cargo.note(child(cargo.MAX_FIX_PARTS + 1))
    assert (len(whole["fixes"]), whole["cut"]) == (5, False)
    assert (len(cut["fixes"]), cut["cut"]) == (cargo.MAX_FIX_PARTS, True)
    event = cargo.diagnostic({"level": "error", "message": "m", "children": [child(5), child(40)]})
    notes = diagnostic(event, Paths("tests/tests.rs", "tests.rs", 0)).notes
    assert [(len(n.fixes), n.cut) for n in notes] == [(5, False), (cargo.MAX_FIX_PARTS, True)]


LIFETIMES = "pub fn pick(a: &str, b: &str, c: &str) -> &str {\n    if a.len() > 1 { a } else if b.len() > 1 { b } else { c }\n}\n"
PICK_TESTS = "use picker::pick;\n\n#[test]\nfn picks() {\n    assert_eq!(pick(\"x\", \"yy\", \"z\"), \"yy\");\n}\n"


def test_with_real_cargo_a_fix_in_five_parts_is_made_whole(cargo_sandbox: CargoSandbox) -> None:
    first = cargo_sandbox(LIFETIMES, "picker", PICK_TESTS, "tests.rs", LIMITS)
    assert first.status == "compile_error" and [d.code for d in first.diagnostics] == ["E0106"]
    assert max(len(n.fixes) for n in first.diagnostics[0].notes) == 5  # <'a> and 'a on four references
    fixed = fixed_module(LIFETIMES, first.diagnostics)
    assert fixed is not None and fixed.startswith("pub fn pick<'a>(a: &'a str, b: &'a str, c: &'a str) -> &'a str {")
    assert cargo_sandbox(fixed, "picker", PICK_TESTS, "tests.rs", LIMITS).success


COUNT_TESTS = '''use counter::count;

#[test]
fn counts_words() {
    assert_eq!(count("a b a"), vec![("a".to_string(), 2), ("b".to_string(), 1)]);
}
'''

# Three errors rustc knows the fix of: a missing import (two errors), a `&str` where a `String` is
# wanted; and one it shows only once the import is there (a `&str` key for a `String` map).
COUNT = '''pub fn count(text: &str) -> Vec<(String, usize)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for word in text.split_whitespace() {
        *seen.entry(word).or_insert(0) += 1;
    }
    let mut out: Vec<(String, usize)> = seen.into_iter().collect();
    out.sort();
    let _label: String = "words";
    out
}
'''


def test_with_real_cargo_the_suggestions_make_the_module_compile(cargo_sandbox: CargoSandbox) -> None:
    first = cargo_sandbox(COUNT, "counter", COUNT_TESTS, "tests.rs", LIMITS)
    assert first.status == "compile_error" and len(first.diagnostics) == 3
    once = fixed_module(COUNT, first.diagnostics)
    assert once is not None and once.startswith("use std::collections::HashMap;\n")
    assert once.count("use std::collections::HashMap;") == 1 and '"words".to_string()' in once
    second = cargo_sandbox(once, "counter", COUNT_TESTS, "tests.rs", LIMITS)
    assert second.status == "compile_error" and [d.code for d in second.diagnostics] == ["E0308"]
    twice = fixed_module(once, second.diagnostics)
    assert twice is not None and "entry(word.to_string())" in twice
    assert cargo_sandbox(twice, "counter", COUNT_TESTS, "tests.rs", LIMITS).success


@pytest.mark.parametrize("tactics", [None, ("restart",)])
def test_the_loop_makes_the_fixes_without_asking_the_model_again(rust_toolchain: object, tmp_path: Path,
                                                                   tactics: tuple[str, ...] | None) -> None:
    (tmp_path / "counter").mkdir()
    (tmp_path / "counter" / "tests.rs").write_text(COUNT_TESTS)
    fixed_by_hand = COUNT.replace("pub fn", "use std::collections::HashMap;\n\npub fn").replace(
        "entry(word)", "entry(word.to_string())").replace('"words"', '"words".to_string()')
    chat = FakeListChatModel(responses=[fenced(COUNT), fenced(fixed_by_hand)])
    calls = Calls()
    chosen = settings(tmp_path, output_file=tmp_path / "counter" / "src" / "lib.rs",
                      test_file=tmp_path / "counter" / "tests.rs", tactics=tactics)
    result = generate_script(chosen, chat=chat, observer=calls)
    assert result.status == "passed"
    written = (tmp_path / "counter" / "src" / "lib.rs").read_text()
    if tactics is None:  # the default set: round 1's reply, fixed by the compiler's suggestions, passes
        assert result.iterations == 1 and len(calls.requests) == 1
        assert written.strip() == fixed_by_hand.strip()
        repaired = json.loads((tmp_path / "run" / "attempts" / "01.1" / "result.json").read_text())["attempt"]
        assert repaired["notes"] == ["made the compiler's suggested fixes in attempt 1: it compiles now"]
        assert repaired["success"]
    else:  # without the tactic the model is asked again
        assert result.iterations == 2 and len(calls.requests) == 2
        assert "does not compile (3 errors)" in calls.requests[1]
