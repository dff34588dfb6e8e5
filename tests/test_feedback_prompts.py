"""Feedback and prompt helpers the tactics build on, and where the moved names live now."""

from __future__ import annotations

from code_generation.evaluation import report as eval_report
from code_generation.languages.python import feedback, prompts
from code_generation.sandbox.runner import CaseResult, SandboxResult


def test_the_plain_request_shows_the_test_file() -> None:
    [message] = prompts.tests_messages("Square things.", "shapes", "test_shapes.py", "import unittest\n")
    text = str(message.content)
    assert text.startswith("Square things.") and "`shapes.py`" in text and "```python\nimport unittest\n```" in text


def test_case_notes_are_chosen_by_the_caller() -> None:
    message = "AssertionError: (1,) != [1]"
    result = SandboxResult("ok", tests_run=1, failed=1, cases=[CaseResult("T.test_x", "failed", message)])
    assert "differ in type" in feedback.details(result)
    assert feedback.details(result, case_notes=[lambda m, s, f: "CUSTOM"]).endswith("CUSTOM")


def test_failure_reason_is_shared_vocabulary() -> None:
    from code_generation import types

    assert not hasattr(feedback, "failure_reason") and not hasattr(eval_report, "failure_reason")
    assert callable(types.failure_reason)
