"""generate_script (the Python API) with fake models, and the CLI's handling of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.api import ScriptSettings, generate_script
from code_generation.languages.base import TestFileError
from my_llm.errors import MyLLMError
from tests.loop_fixtures import RIGHT, TESTS, WRONG

ROOT = Path(__file__).resolve().parent.parent


class NoCalls(FakeListChatModel):
    """A model that must not be called: input errors are caught before any model call."""

    def _call(self, *args, **kwargs):  # type: ignore[override]
        raise AssertionError("the model was called")


def settings(tmp_path: Path, **kw) -> ScriptSettings:
    base = dict(
        prompt="Compute the sum of the first N prime numbers",
        output_file=tmp_path / "primes" / "prime_numbers.py",
        runs_base=tmp_path / "runs",
        max_iterations=3,
        memory=False,
    )
    base.update(kw)
    return ScriptSettings(**base)


def write_tests(tmp_path: Path, text: str = TESTS) -> Path:
    path = tmp_path / "primes" / "test_prime_numbers.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_success_writes_output_and_run_folder(tmp_path: Path) -> None:
    write_tests(tmp_path)
    result = generate_script(settings(tmp_path), chat=FakeListChatModel(responses=[WRONG, RIGHT]))
    assert result.success and result.exit_code == 0
    assert result.iterations == 2 and result.tests_passed == result.tests_total == 3
    output = tmp_path / "primes" / "prime_numbers.py"
    assert "def prime_sum" in output.read_text()
    run = Path(result.run_dir)
    summary = json.loads((run / "run.json").read_text())
    assert summary["success"] is True and len(summary["attempts"]) == 2
    assert "skeleton" in summary["tactics_acted"] and summary["tactics_acted"] == result.tactics_acted
    assert (run / "attempts" / "01" / "attempt.py").exists()
    assert json.loads((run / "attempts" / "01" / "result.json").read_text())["test_result"]["passed"] == 1
    assert len(list((run / "calls").glob("*.json"))) == 2
    assert (run / "best.py").read_text() == output.read_text()
    assert (run / "test_prime_numbers.py").read_text() == TESTS


def test_the_conversation_setting_reaches_the_loop(tmp_path: Path) -> None:
    write_tests(tmp_path)
    appended = generate_script(settings(tmp_path, conversation="append"), chat=FakeListChatModel(responses=[WRONG, RIGHT]))
    assert appended.success and appended.iterations == 2 and "append" in appended.tactics_acted
    write_tests(tmp_path / "b")
    latest = generate_script(settings(tmp_path / "b"), chat=FakeListChatModel(responses=[WRONG, RIGHT]))
    assert latest.success and latest.iterations == 2 and "append" not in latest.tactics_acted


def test_failure_writes_no_output_and_keeps_best(tmp_path: Path) -> None:
    write_tests(tmp_path)
    result = generate_script(settings(tmp_path), chat=FakeListChatModel(responses=[WRONG]))
    assert result.status == "failed" and result.exit_code == 1
    assert not (tmp_path / "primes" / "prime_numbers.py").exists()
    assert "sum(range(2, n + 2))" in (Path(result.run_dir) / "best.py").read_text()
    assert result.tests_passed == 1


def test_existing_output_is_kept_in_run_folder(tmp_path: Path) -> None:
    write_tests(tmp_path)
    output = tmp_path / "primes" / "prime_numbers.py"
    output.write_text("# my old version\n")
    result = generate_script(settings(tmp_path), chat=FakeListChatModel(responses=[RIGHT]))
    assert result.success
    assert (Path(result.run_dir) / "previous" / "prime_numbers.py").read_text() == "# my old version\n"
    assert "def prime_sum" in output.read_text()


def test_missing_tests_are_generated_and_run_stops_for_review(tmp_path: Path) -> None:
    generated = "Here are tests:\n```python\n" + TESTS + "```"
    result = generate_script(settings(tmp_path), chat=FakeListChatModel(responses=[generated]))
    assert result.status == "tests_written" and result.exit_code == 3
    test_file = tmp_path / "primes" / "test_prime_numbers.py"
    assert test_file.read_text().strip() == TESTS.strip()
    assert not (tmp_path / "primes" / "prime_numbers.py").exists()


def test_generated_tests_retry_until_they_import_the_module(tmp_path: Path) -> None:
    bad = "```python\nimport unittest\nfrom primes import prime_sum\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        pass\n```"
    good = "```python\n" + TESTS + "```"
    result = generate_script(settings(tmp_path, yes=True), chat=FakeListChatModel(responses=[bad, good, RIGHT]))
    assert result.success and result.test_file_generated
    assert result.iterations == 1


def test_generated_tests_that_pass_on_empty_stubs_are_rejected(tmp_path: Path) -> None:
    # Tests that cannot fail would accept any program: the tool checks them against empty stubs.
    vacuous = TESTS.replace("self.assertEqual(prime_sum(100), 24133)", "prime_sum(100)")
    vacuous = vacuous.replace("self.assertEqual(prime_sum(10), 129)", "self.assertTrue(True)")
    vacuous = vacuous.replace("self.assertEqual(prime_sum(0), 0)", "self.assertIsNone(None)")
    replies = ["```python\n" + vacuous + "```", "```python\n" + TESTS + "```"]
    result = generate_script(settings(tmp_path), chat=FakeListChatModel(responses=replies))
    assert result.status == "tests_written"
    assert (tmp_path / "primes" / "test_prime_numbers.py").read_text().strip() == TESTS.strip()
    retry = json.loads(next((Path(result.run_dir) / "calls").glob("*tests-2*")).read_text())
    assert "every test passes even when the functions do nothing" in json.dumps(retry)


def test_mismatched_module_is_an_error_before_any_model_call(tmp_path: Path) -> None:
    write_tests(tmp_path, TESTS.replace("from prime_numbers", "from primes_lib"))
    with pytest.raises(TestFileError, match="primes_lib.*prime_numbers.py"):
        generate_script(settings(tmp_path), chat=NoCalls(responses=["x"]))


def test_unparsable_tests_are_an_error_before_any_model_call(tmp_path: Path) -> None:
    write_tests(tmp_path, "import unittest\ndef test_x(:\n")
    with pytest.raises(TestFileError, match="does not parse"):
        generate_script(settings(tmp_path), chat=NoCalls(responses=["x"]))


def test_empty_prompt_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MyLLMError, match="prompt is empty"):
        generate_script(settings(tmp_path, prompt="  "), chat=NoCalls(responses=["x"]))


def test_output_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "prime_numbers.py"
    tests = tmp_path / "t" / "test_prime_numbers.py"
    tests.parent.mkdir()
    tests.write_text(TESTS)
    result = generate_script(
        settings(tmp_path, output_file=out, test_file=tests), chat=FakeListChatModel(responses=[RIGHT])
    )
    assert result.success and out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_unwritable_folder_is_an_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(MyLLMError, match="not writable"):
        generate_script(settings(tmp_path, output_file=locked / "m.py"), chat=NoCalls(responses=["x"]))


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "code_generation.create_script", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd or ROOT, timeout=120, stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["", "x/m.py"], {}, "prompt is empty"),
        (["Sum primes", "x/m.txt"], {}, "must be a .py file"),
        (["Sum primes", "x/m.py", "--model", "openai:gpt-4o-mini"], {}, "OPENAI_API_KEY is not set"),
        (["Sum primes", "x/m.py", "--model", "banana"], {}, "unknown model"),
        (["Sum primes", "x/m.py", "--model", "local:/nonexistent/model.gguf"], {}, "does not exist"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], env: dict, expected: str) -> None:
    args = [a.replace("x/", f"{tmp_path}/x/") for a in args]
    proc = run_cli(*args, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1


def test_cli_mismatched_tests_names_both_modules(tmp_path: Path) -> None:
    (tmp_path / "test_prime_numbers.py").write_text(TESTS.replace("from prime_numbers", "from primes_lib"))
    proc = run_cli("Sum primes", str(tmp_path / "prime_numbers.py"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "primes_lib" in proc.stderr and "prime_numbers.py" in proc.stderr


def test_cli_verbose_shows_traceback(tmp_path: Path) -> None:
    proc = run_cli("", str(tmp_path / "m.py"), "--verbose", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr


def test_cli_script_path_and_help_work() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "code_generation" / "create_script.py"), "--help"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0
    for option in ("--test_file", "--model", "--base-url", "--max-iterations", "--temperature", "--timeout", "--yes", "--run-dir", "--verbose", "--json",
                   "--candidates", "--static-checks", "--typecheck", "--allow-install", "--no-cache"):
        assert option in proc.stdout


class FailsSecondCall(FakeListChatModel):
    """Answers once, then the server goes away: the error a real run meets mid-way."""

    def _call(self, *args, **kwargs):  # type: ignore[override]
        if self.i >= 1:
            from my_llm.errors import ModelError

            raise ModelError("the model server at http://127.0.0.1:9/v1 refused the connection")
        return super()._call(*args, **kwargs)


def test_a_model_error_mid_run_is_recorded_in_the_run_folder(tmp_path: Path) -> None:
    from my_llm.errors import ModelError

    write_tests(tmp_path)
    with pytest.raises(ModelError):
        generate_script(settings(tmp_path), chat=FailsSecondCall(responses=[WRONG, RIGHT]))
    (run,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run / "run.json").read_text())
    assert summary["status"] == "model_error" and summary["message"]
    assert len(summary["calls"]) == 1 and (run / "attempts" / "01" / "attempt.py").exists()
    assert not (tmp_path / "primes" / "prime_numbers.py").exists()
