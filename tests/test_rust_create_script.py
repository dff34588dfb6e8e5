"""create-script for Rust, with real cargo and fake models: the loop with compiler feedback, missing
crates, generated tests (written, exit 3, --yes), their arbitration, the command line (--json, the
stop sequences sent), and bad input refused in one line before any model call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.api import ScriptSettings, generate_script
from code_generation.engine.loop import run_loop
from code_generation.languages.rust.cargo_runner import CargoSandbox
from code_generation.types import CodeTask, LoopSettings
from my_llm.models.usage import CallUsage
from tests.fake_openai_server import Answer, Seen, completion, fake_server
from tests.test_bad_input import Env, assert_nothing_left, assert_one_line, create_script
from tests.test_rust_sandbox import TESTS

ROOT = Path(__file__).resolve().parent.parent


def fenced(code: str) -> str:
    return f"```rust\n{code}```"


class Calls:
    """An observer that keeps every request's last message."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.events: list[str] = []

    def model_call(self, label: str, messages: list[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.requests.append(str(messages[-1].content))

    def attempt(self, attempt: Any, best: Any) -> None:
        pass

    def event(self, message: str) -> None:
        self.events.append(message)


def settings(tmp_path: Path, **changes: Any) -> ScriptSettings:
    values: dict[str, Any] = {"prompt": "Add two integers.", "output_file": tmp_path / "adder" / "src" / "lib.rs",
                              "test_file": tmp_path / "adder" / "tests.rs", "max_iterations": 4, "candidates": 1,
                              "run_dir": tmp_path / "run", "memory": False, "crate_source": "none"}
    values.update(changes)
    return ScriptSettings(**values)


def test_a_compile_error_is_fed_back_and_fixed(rust_toolchain: object, tmp_path: Path) -> None:
    (tmp_path / "adder").mkdir()
    (tmp_path / "adder" / "tests.rs").write_text(TESTS)
    chat = FakeListChatModel(responses=[
        fenced('pub fn add(a: i32, b: i32) -> i32 {\n    a + "b"\n}\n'),
        "Fixed:\n" + fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn main() {\n    println!(\"{}\", add(1, 2));\n}\n"),
    ])
    calls = Calls()
    result = generate_script(settings(tmp_path), chat=chat, observer=calls)
    assert result.status == "passed" and result.exit_code == 0 and result.iterations == 2
    assert (result.tests_passed, result.tests_total) == (2, 2)
    assert (tmp_path / "adder" / "src" / "lib.rs").read_text() == "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    assert "Write the Rust library `src/lib.rs` of the crate `adder`" in calls.requests[0]
    feedback = calls.requests[1]
    assert feedback.startswith("Your `src/lib.rs` above does not compile (1 error).")
    assert "error[E0277]: cannot add `&str` to `i32`\n  --> src/lib.rs:2:7\n2 |     a + \"b\"" in feedback
    run = tmp_path / "run"
    assert (run / "best.rs").is_file() and (run / "attempts" / "01" / "attempt.rs").is_file()
    record = json.loads((run / "request.json").read_text())
    assert (record["language"], record["module_name"]) == ("rust", "adder")
    first = json.loads((run / "attempts" / "01" / "result.json").read_text())["test_result"]
    assert first["status"] == "compile_error" and first["diagnostics"][0]["code"] == "E0277"


def test_a_missing_crate_is_answered_with_the_standard_library_note(cargo_sandbox: CargoSandbox) -> None:
    chat = FakeListChatModel(responses=[
        fenced("use num_traits::Zero;\n\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"),
        fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"),
    ])
    calls = Calls()
    outcome = run_loop(CodeTask("Add two integers.", "adder", TESTS, "tests.rs", language="rust"), chat,
                       LoopSettings(max_iterations=3), observer=calls, sandbox=cargo_sandbox)
    assert outcome.success and outcome.iterations == 2
    assert calls.requests[1].startswith("Your `src/lib.rs` above does not compile (1 error).\n\nThe crate "
                                        "`num_traits` is not available where the tests run")


GENERATED = '''use adder::add;

#[test]
fn small() {
    assert_eq!(add(1, 1), 2);
}

#[test]
fn wrong() {
    assert_eq!(add(2, 2), 5);
}
'''


def test_generated_tests_are_written_for_review_then_used_with_yes(rust_toolchain: object, tmp_path: Path) -> None:
    (tmp_path / "adder").mkdir()
    chat = FakeListChatModel(responses=[fenced(GENERATED)])
    result = generate_script(settings(tmp_path), chat=chat)
    assert result.status == "tests_written" and result.exit_code == 3 and result.test_file_generated
    assert (tmp_path / "adder" / "tests.rs").read_text() == GENERATED
    assert not (tmp_path / "adder" / "src" / "lib.rs").exists()

    (tmp_path / "adder" / "tests.rs").unlink()
    code = fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")
    judge = "VERDICT: TEST\n" + fenced("#[test]\nfn wrong() {\n    assert_eq!(add(2, 2), 4);\n}\n")
    chat = FakeListChatModel(responses=[fenced(GENERATED), code, code, judge])
    calls = Calls()
    result = generate_script(settings(tmp_path, yes=True, run_dir=tmp_path / "run2"), chat=chat, observer=calls)
    assert result.status == "passed" and result.tests_corrected == 1, calls.events
    assert "fn wrong() {\n    assert_eq!(add(2, 2), 4);\n}" in (tmp_path / "adder" / "tests.rs").read_text()
    assert "The failing test `wrong`" in calls.requests[3]
    assert any("the model judged wrong wrong and corrected it" in e for e in calls.events)


def test_without_a_test_file_the_tests_go_where_cargo_finds_them(rust_toolchain: object, tmp_path: Path) -> None:
    """`<crate>/src/lib.rs` gets `<crate>/tests/test_lib.rs` (an integration test cargo runs),
    the `tests` folder made when it is written; an output outside `src/` gets `test_<name>` beside it."""
    (tmp_path / "adder" / "src").mkdir(parents=True)
    chat = FakeListChatModel(responses=[fenced(GENERATED)])
    result = generate_script(settings(tmp_path, test_file=None), chat=chat)
    written = tmp_path / "adder" / "tests" / "test_lib.rs"
    assert result.status == "tests_written" and result.exit_code == 3 and written.read_text() == GENERATED
    assert not (tmp_path / "adder" / "src" / "test_lib.rs").exists()

    written.write_text(GENERATED.replace("assert_eq!(add(2, 2), 5);", "assert_eq!(add(2, 2), 4);"))
    code = fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")
    result = generate_script(settings(tmp_path, test_file=None, run_dir=tmp_path / "run2"),
                             chat=FakeListChatModel(responses=[code]))
    assert result.status == "passed" and (tmp_path / "adder" / "src" / "lib.rs").read_text().startswith("pub fn add")
    assert ScriptSettings("p", tmp_path / "adder.rs").resolved_test_file == tmp_path / "test_adder.rs"
    assert ScriptSettings("p", tmp_path / "src" / "m.py").resolved_test_file == tmp_path / "src" / "test_m.py"


def test_a_correction_that_passes_on_empty_bodies_is_refused(rust_toolchain: object, tmp_path: Path) -> None:
    (tmp_path / "adder").mkdir()
    code = fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")
    vacuous = "VERDICT: TEST\n" + fenced("#[test]\nfn wrong() {\n    assert!(true);\n}\n")
    chat = FakeListChatModel(responses=[fenced(GENERATED), code, code, vacuous, code])
    calls = Calls()
    result = generate_script(settings(tmp_path, yes=True, max_iterations=3), chat=chat, observer=calls)
    assert result.status == "failed" and result.tests_corrected == 0
    assert any("it passes even when the functions do nothing" in e for e in calls.events), calls.events


# --------------------------------------------------------------------------- the command line


def test_the_command_line_runs_rust_with_its_stop_sequences_and_json(rust_toolchain: object, tmp_path: Path) -> None:
    work = tmp_path / "adder"
    work.mkdir()
    (work / "tests.rs").write_text(TESTS)

    def model(seen: Seen, number: int) -> Answer:
        return 200, completion(fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")), {}

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_"))}
    env.update(MESSAGE_HISTORY=str(tmp_path / "history"), MY_LLM_RESPONSE_CACHE=str(tmp_path / "cache"),
               OPENAI_API_KEY="k", CREATE_SCRIPT_CRATE_SOURCE="none")
    with fake_server(model) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "code_generation.create_script", "Add two integers.", str(work / "lib.rs"),
             "--test_file", str(work / "tests.rs"), "--model", "openai:m", "--base-url", server.base_url,
             "--candidates", "1", "--json", "--no-memory", "--run-dir", str(tmp_path / "run")],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
        (request,) = server.chat_requests()
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["success"] and result["tests_passed"] == result["tests_total"] == 2
    assert result["tokens_in"] > 0 and result["seconds"] > 0
    assert request.body["stop"] == ["\n```\n", "\nfn main(", "\n#[cfg(test)]", "\n// Example"]
    assert request.body["max_completion_tokens"] == 2048  # a whole crate runs longer than the default reply
    assert (work / "lib.rs").read_text().startswith("pub fn add")


def write_rust_tests(env: Env, name: str = "tests.rs", text: str = TESTS) -> Path:
    path = env.work / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("args", "expected"), [
    (["lib.rs", "--test_file", "test_adder.py"], "test file test_adder.py must be a .rs file for Rust output"),
    (["adder.py", "--lang", "rust"], "output file adder.py is a python file but --lang is rust"),
    (["lib.rs", "--test_file", "tests.rs", "--lang", "cobol"], "argument --lang: unknown language 'cobol'"),
    (["lib.rs", "--test_file", "tests.rs", "--static-checks"], "--static-checks is for Python output"),
    (["lib.rs", "--test_file", "tests.rs", "--allow-install"], "--crate-source"),
    (["lib.rs", "--test_file", "tests.rs", "--tactics", "skeleton"], "tactic 'skeleton' does not apply to rust"),
    (["lib.rs", "--test_file", "helpers.rs"], "helpers.rs defines no tests"),
    (["lib.rs", "--test_file", "tests.rs", "--crate-source", "no-such-folder"], "the crate source no-such-folder is not a folder"),
])
def test_bad_rust_input_is_one_line_before_the_model(rust_toolchain: object, tmp_path: Path, args: list[str],
                                                     expected: str) -> None:
    env = Env(tmp_path)
    write_rust_tests(env)
    write_rust_tests(env, "helpers.rs", "pub fn helper() {}\n")
    (env.work / "test_adder.py").write_text("import unittest\n")
    before = {p.name for p in env.work.iterdir()}
    proc = create_script(env, "Add two integers.", *args)
    assert_one_line(proc, expected)
    assert_nothing_left(env, before)


def test_a_missing_toolchain_is_one_line_saying_how_to_install_it(tmp_path: Path) -> None:
    env = Env(tmp_path)
    write_rust_tests(env)
    env.vars["PATH"] = "/usr/bin:/bin" if not Path("/usr/bin/cargo").exists() else "/nonexistent"
    env.vars.pop("CARGO_HOME", None)  # HOME is the test's own, so ~/.cargo/bin is empty
    proc = create_script(env, "Add two integers.", "lib.rs", "--test_file", "tests.rs")
    assert_one_line(proc, "cargo was not found (Rust output needs the Rust toolchain): install Rust with rustup")
    # The Python path never needs cargo: the same machine gets past every check to the (dead) model.
    (env.work / "test_prime_numbers.py").write_text("import unittest\nfrom prime_numbers import f\n\n\n"
                                                    "class T(unittest.TestCase):\n    def test_f(self):\n"
                                                    "        self.assertEqual(f(), 1)\n")
    python = create_script(env, "Return 1.", "prime_numbers.py")
    assert "cargo" not in python.stderr and "127.0.0.1:9" in python.stderr


def test_a_rust_task_folder_runs_in_the_evaluation_harness(rust_toolchain: object, tmp_path: Path) -> None:
    from code_generation.evaluation.evaluate import evaluate
    from code_generation.evaluation.tasks import load_tasks

    folder = tmp_path / "tasks" / "adder"
    folder.mkdir(parents=True)
    (folder / "prompt.txt").write_text("Add two integers.\n")
    (folder / "tests.rs").write_text(TESTS)
    (folder / "meta.json").write_text(json.dumps({"crate": "adder", "style": "integration"}))
    (task,) = load_tasks(tmp_path / "tasks")
    assert (task.task.module_name, task.task.language, task.task.test_filename) == ("adder", "rust", "tests.rs")
    chat = FakeListChatModel(responses=[fenced("pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")])
    summary = evaluate([task], ["single"], out=tmp_path / "out", chat=chat)
    row = json.loads((tmp_path / "out" / "results.jsonl").read_text().splitlines()[-1])
    assert row["solved"] and row["tests_passed"] == 2, (summary, row)
