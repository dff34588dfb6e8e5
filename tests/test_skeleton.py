"""The tests shown to the model as a skeleton with doctest examples, and what extraction cleans."""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import pytest

from code_generation.extract import extract_module
from code_generation.feedback import unimplemented
from code_generation.skeleton import module_skeleton
from code_generation.testspec import analyse_test_source

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FOLDERS = sorted(p for p in EXAMPLES.iterdir() if (p / "prompt.txt").is_file())

TESTS = '''import unittest
from shop import Cart, price_of


class TestShop(unittest.TestCase):
    def setUp(self):
        self.cart = Cart()

    def test_add(self):
        self.cart.add("apple", quantity=3)
        self.assertEqual(self.cart.count("apple"), 3)
        self.assertTrue(self.cart.has("apple"))

    def test_price(self):
        expected = {"apple": 0.5}
        self.assertEqual(price_of("apple"), 0.5)
        self.assertEqual(5, price_of("melon"))
        self.assertIn("apple", expected)
        with self.assertRaises(KeyError):
            price_of("stone")
'''


def skeleton(source: str = TESTS, prompt: str = "A tiny shop: price_of(name) and a Cart.") -> str:
    spec = analyse_test_source(source, "shop")
    return module_skeleton(source, "shop", spec.imported_names, prompt)


def test_assertions_become_doctest_examples() -> None:
    text = skeleton()
    assert ">>> price_of('apple')\n    0.5" in text
    assert ">>> price_of('melon')\n    5" in text  # assertEqual(expected, actual) is turned round
    assert ">>> 'apple' in expected\n    True" in text
    assert ">>> price_of('stone')\n    Traceback (most recent call last):\n        ...\n    KeyError" in text
    assert ">>> cart.count('apple')\n    3" in text  # self.cart -> cart, and setUp comes first
    assert "self." not in text and "assertEqual" not in text


def test_stubs_have_the_signatures_the_tests_and_prompt_use() -> None:
    tree = ast.parse(skeleton())
    functions = {n.name: [a.arg for a in n.args.args] for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert functions["price_of"] == ["name"]  # named in the prompt
    assert functions["add"] == ["self", "x", "quantity"]  # positional placeholder, then keyword
    assert functions["count"] == ["self", "x"] and functions["has"] == ["self", "x"]
    assert ast.get_docstring(tree) == "A tiny shop: price_of(name) and a Cart."  # several stubs


def test_single_function_carries_the_request_in_its_docstring() -> None:
    source = (EXAMPLES / "primes" / "test_prime_numbers.py").read_text()
    spec = analyse_test_source(source, "prime_numbers")
    text = module_skeleton(source, "prime_numbers", spec.imported_names, "Compute the sum of the first N primes")
    tree = ast.parse(text)
    (function,) = tree.body
    assert isinstance(function, ast.FunctionDef) and function.name == "prime_sum"
    examples = doctest.DocTestParser().get_examples(ast.get_docstring(function) or "")
    assert [(e.source.strip(), e.want.strip()) for e in examples][:2] == [("prime_sum(100)", "24133"), ("prime_sum(10)", "129")]
    assert "Compute the sum" in (ast.get_docstring(function) or "")
    assert unimplemented(text) == ["prime_sum"]


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_every_example_gives_a_skeleton_that_parses_and_names_every_import(folder: Path) -> None:
    test_file = next(folder.glob("test_*.py"))
    module = test_file.stem.removeprefix("test_")
    source = test_file.read_text()
    spec = analyse_test_source(source, module)
    text = module_skeleton(source, module, spec.imported_names, (folder / "prompt.txt").read_text())
    tree = ast.parse(text)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert set(spec.imported_names) <= defined
    assert ">>> " in text and "self.assert" not in text


def test_a_filename_line_before_the_code_is_dropped() -> None:
    reply = "```python\nprime_numbers.py\ndef prime_sum(n):\n    return 0\n```"
    extraction = extract_module(reply, "prime_numbers", ["prime_sum"])
    assert extraction.code == "def prime_sum(n):\n    return 0\n"


def test_code_without_the_imported_names_is_not_usable() -> None:
    reply = "```python\nimport unittest\nfrom prime_numbers import prime_sum\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(prime_sum(1), 2)\n```"
    extraction = extract_module(reply, "prime_numbers", ["prime_sum"], {"T", "test_a"})
    assert extraction.code is None
    assert "does not define `prime_sum`" in extraction.notes[-1]
