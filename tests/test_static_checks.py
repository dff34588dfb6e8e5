"""Static checks before the tests: pyflakes and mypy findings, and how the loop uses them."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.engine.loop import LoopSettings, run_loop
from code_generation.languages.python.static_checks import check_module, typecheck
from code_generation.sandbox.runner import SandboxLimits
from code_generation.types import critical
from tests.loop_fixtures import RIGHT, Spy, task


def test_findings_in_line_order_with_critical_marked() -> None:
    findings = check_module("import os\n\ndef f(x):\n    return y + x\n")
    assert [(f.line, f.critical) for f in findings] == [(1, False), (4, True)]
    assert "undefined name 'y'" in str(findings[1]) and "'os' imported but unused" in str(findings[0])
    assert check_module("def f(:\n    pass\n")[0].message.startswith("syntax error")
    assert check_module("def f(x):\n    return sorted(x)\n") == []


UNDEFINED = '''```python
def prime_sum(n):
    return sum(first_primes(n))
```'''


def test_critical_finding_skips_the_test_run_and_is_fed_back() -> None:
    spy = Spy()
    ran: list[str] = []

    def sandbox(code: str, *args, **kwargs):  # the real sandbox, recording that it ran
        from code_generation.sandbox.runner import run_tests

        ran.append(code)
        return run_tests(code, *args, **kwargs)

    settings = LoopSettings(max_iterations=3, limits=SandboxLimits(timeout=20), static_checks=True)
    outcome = run_loop(task(), FakeListChatModel(responses=[UNDEFINED, RIGHT]), settings, observer=spy, sandbox=sandbox)
    assert outcome.success and outcome.iterations == 2
    first = outcome.attempts[0]
    assert first.blocked and first.result is None and critical(first.findings)
    assert len(ran) == 1  # only the second program reached the sandbox
    repair = spy.prompts[1][-1].content
    assert "undefined name 'first_primes'" in repair and "sum(first_primes(n))" in spy.prompts[1][-2].content
    assert first.summary()["status"] == "static_error"


def test_without_static_checks_the_same_code_is_tested() -> None:
    settings = LoopSettings(max_iterations=1, limits=SandboxLimits(timeout=20))
    outcome = run_loop(task(), FakeListChatModel(responses=[UNDEFINED]), settings)
    assert outcome.attempts[0].result is not None and outcome.attempts[0].findings == []


# Passes only test_zero, and returns a str where the annotation promises an int.
MISTYPED = '''```python
def prime_sum(n: int) -> int:
    if n == 0:
        return 0
    return str(n)
```'''


def test_typecheck_reports_mypy_errors_as_advice() -> None:
    findings = typecheck("def f(x: int) -> int:\n    return x + 'a'\n", "mod")  # real mypy, own process
    assert [(f.line, f.tool, f.critical) for f in findings] == [(2, "mypy", False)]
    assert "Unsupported operand types" in findings[0].message
    assert typecheck("def f(x: int) -> int:\n    return x\n", "mod") == []


def test_typecheck_findings_join_the_feedback_but_the_tests_still_run() -> None:
    spy = Spy()
    settings = LoopSettings(max_iterations=2, limits=SandboxLimits(timeout=20), typecheck=True)
    outcome = run_loop(task(), FakeListChatModel(responses=[MISTYPED, RIGHT]), settings, observer=spy)
    first = outcome.attempts[0]
    assert outcome.success and first.result is not None and first.passed == 1  # advice does not block
    assert [f.tool for f in first.findings] == ["mypy"]
    repair = spy.prompts[1][-1].content
    assert "Static checks:" in repair and "(mypy): Incompatible return value type" in repair


def test_generate_script_records_typecheck_findings_in_the_run_folder(tmp_path) -> None:
    from code_generation.api import generate_script
    from tests.test_create_script import settings, write_tests

    write_tests(tmp_path)
    result = generate_script(settings(tmp_path, typecheck=True), chat=FakeListChatModel(responses=[MISTYPED, RIGHT]))
    assert result.success
    run = json.loads((Path(result.run_dir) / "run.json").read_text())
    request = json.loads((Path(result.run_dir) / "request.json").read_text())
    assert request["settings"]["typecheck"] is True
    assert "(mypy): Incompatible return value type" in run["attempts"][0]["findings"][0]
