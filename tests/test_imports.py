"""The imports a generated module forgot: found by pyflakes, bound like the skeleton or the standard library."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.extract import extract_module
from code_generation.imports import add_missing_imports, import_for, undefined_names
from code_generation.loop import CodeTask, LoopSettings, run_loop
from code_generation.runner import SandboxLimits

# What the 0.5B model wrote on every attempt of the inventory example: the decorator names the
# module, the import binds only the function.
DATACLASS_MIXUP = '''from dataclasses import dataclass

@dataclasses.dataclass
class Item:
    name: str
    quantity: int = 0
'''


def test_the_module_a_decorator_names_is_imported() -> None:
    code, added = add_missing_imports(DATACLASS_MIXUP)
    assert added == ["import dataclasses"]
    assert code.splitlines()[0] == "import dataclasses"
    assert undefined_names(code) == []


def test_bare_standard_library_names_get_their_from_import() -> None:
    code = "def top(words: List[str]) -> list:\n    return Counter(words).most_common(1) + [sqrt(4)]\n"
    fixed, added = add_missing_imports(code)
    assert added == ["from typing import List", "from collections import Counter", "from math import sqrt"]
    assert undefined_names(fixed) == []


def test_the_skeletons_own_import_wins() -> None:
    reference = "import collections as co\nfrom typing import Sequence as Seq\n\ndef f(x: Seq[int]):\n    ...\n"
    assert import_for("co", reference) == "import collections as co"
    assert import_for("Seq", reference) == "from typing import Sequence as Seq"
    assert import_for("Seq") is None  # not a standard-library name by itself


def test_imports_go_after_the_docstring_and_future_imports() -> None:
    code = '"""Doc."""\nfrom __future__ import annotations\n\ndef f():\n    return re.sub("a", "b", "abc")\n'
    fixed, added = add_missing_imports(code)
    assert added == ["import re"]
    assert fixed.splitlines()[:3] == ['"""Doc."""', "from __future__ import annotations", "import re"]


def test_unknown_and_one_letter_names_are_left_for_the_tests_to_report() -> None:
    code = "def f(x):\n    return helper(x) + e\n"
    assert add_missing_imports(code) == (code, [])
    assert undefined_names(code) == ["helper", "e"]


def test_extraction_notes_each_added_import() -> None:
    extraction = extract_module(f"```python\n{DATACLASS_MIXUP}```", "inventory", ["Item"])
    assert extraction.notes == ["added the missing `import dataclasses`"]
    assert extraction.code is not None and extraction.code.startswith("import dataclasses\n")


TESTS = '''import unittest

from inventory import Item


class TestItem(unittest.TestCase):
    def test_default_quantity(self):
        self.assertEqual(Item("apple").quantity, 0)


if __name__ == "__main__":
    unittest.main()
'''


def test_a_forgotten_import_no_longer_costs_a_round() -> None:
    task = CodeTask("A dataclass Item(name, quantity=0)", "inventory", TESTS, "test_inventory.py")
    chat = FakeListChatModel(responses=[f"```python\n{DATACLASS_MIXUP}```"])
    outcome = run_loop(task, chat, LoopSettings(max_iterations=1, limits=SandboxLimits(timeout=20)))
    assert outcome.success and outcome.iterations == 1
    assert outcome.best is not None and "added the missing `import dataclasses`" in outcome.best.notes
