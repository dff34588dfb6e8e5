"""@pseudo_function with LangChain's fake chat models, the real sandbox and a cache on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation import PseudoFunctionError, pseudo_function
from tests.test_create_script import NoCalls

RIGHT = "```python\ndef my_sum_func(a, b, c):\n    return 2 * (a + b + c)\n```"
LOOPED = "```python\ndef my_sum_func(a, b, c):\n    total = 0\n    for x in (a, b, c):\n        total += x\n    return total * 2\n```"
WRONG = "```python\ndef my_sum_func(a, b, c):\n    return a + b + c\n```"


def decorate(chat, cache: Path, **kw):
    @pseudo_function(chat=chat, cache_dir=cache, verbose=False, **kw)
    def my_sum_func(a: int, b: int, c: int) -> int:
        """Adds all arguments together, then multiplies by two.

        >>> my_sum_func(1, 2, 3)
        12
        >>> my_sum_func(0, 0, -1)
        -2
        """

    return my_sum_func


def test_written_on_first_call_then_served_from_the_cache(tmp_path: Path) -> None:
    func = decorate(FakeListChatModel(responses=[WRONG, RIGHT]), tmp_path)
    assert not list(tmp_path.iterdir())  # decorating calls no model and writes nothing
    assert func(1, 1, 1) == 6 and func(2, 3, 4) == 18
    (cached,) = tmp_path.glob("my_sum_func-*.py")
    assert "2 * (a + b + c)" in cached.read_text()
    assert func.__name__ == "my_sum_func" and "multiplies by two" in func.__doc__
    # Another run of the program: the same stub and model (the key holds the model's label, the
    # same for both fakes) find the accepted code; the model must not be called.
    again = decorate(NoCalls(responses=["unused"]), tmp_path)
    assert again.cache_path == cached
    assert again(5, 5, 5) == 30


def test_stub_shows_signature_and_docstring_without_decorator() -> None:
    func = decorate(NoCalls(responses=["unused"]), Path("/nonexistent"))
    assert func.stub.startswith("def my_sum_func(a: int, b: int, c: int) -> int:\n")
    assert "pseudo_function" not in func.stub and ">>> my_sum_func(1, 2, 3)" in func.stub


def test_no_examples_is_a_clear_error(tmp_path: Path) -> None:
    @pseudo_function(chat=NoCalls(responses=["unused"]), cache_dir=tmp_path, verbose=False)
    def double(x: int) -> int:
        """Doubles x."""

    with pytest.raises(PseudoFunctionError, match="no '>>>' examples"):
        double(2)


def test_unsolved_raises_and_caches_nothing(tmp_path: Path) -> None:
    func = decorate(FakeListChatModel(responses=[WRONG]), tmp_path, max_iterations=2)
    with pytest.raises(PseudoFunctionError, match="still fail after 2 attempts"):
        func(1, 2, 3)
    assert not list(tmp_path.glob("*.py"))


def test_review_feedback_goes_to_the_model_until_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["use a for loop", "y"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    chat = FakeListChatModel(responses=[RIGHT, LOOPED])
    func = decorate(chat, tmp_path, review=True)
    assert func(1, 2, 3) == 12
    (cached,) = tmp_path.glob("my_sum_func-*.py")
    assert "for x in" in cached.read_text()  # the second program, written after the note
    assert "Reviewer's request for this function: use a for loop" in func._task("use a for loop").skeleton


def test_review_rejected_caches_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    func = decorate(FakeListChatModel(responses=[RIGHT]), tmp_path, review=True)
    with pytest.raises(PseudoFunctionError, match="rejected"):
        func(1, 2, 3)
    assert not list(tmp_path.glob("*.py"))
