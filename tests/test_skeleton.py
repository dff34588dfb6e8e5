"""The tests shown to the model as a skeleton with doctest examples, and what extraction cleans."""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import pytest

from code_generation.languages.python.extract import (
    drop_broken_blocks,
    empty_functions,
    extract_module,
    functions,
    splice_function,
    split_function,
)
from code_generation.languages.python.skeleton import module_skeleton
from code_generation.languages.python.testspec import analyse_test_source

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
    assert empty_functions(text, ["prime_sum"]) == ["prime_sum"]


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


def _skeleton_of(folder: str) -> tuple[str, ast.Module]:
    test_file = next((EXAMPLES / folder).glob("test_*.py"))
    module = test_file.stem.removeprefix("test_")
    source = test_file.read_text()
    text = module_skeleton(source, module, analyse_test_source(source, module).imported_names,
                           (EXAMPLES / folder / "prompt.txt").read_text())
    return text, ast.parse(text)


def _examples(tree: ast.Module, name: str) -> list[tuple[str, str]]:
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name)
    found = doctest.DocTestParser().get_examples(ast.get_docstring(node) or "")
    return [(e.source.strip(), e.want.strip()) for e in found]


def test_quotes_and_backslashes_in_examples_are_shown_as_the_tests_wrote_them() -> None:
    _, tree = _skeleton_of("csv_line_parser")
    assert ("parse_csv_line('\"say \"\"hi\"\"\",x')", "['say \"hi\"', 'x']") in _examples(tree, "parse_csv_line")
    source = "import unittest\nfrom m import f\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(f('a\\\\b'), 'a\\nb')\n"
    tree = ast.parse(module_skeleton(source, "m", ["f"], "Split."))
    assert _examples(tree, "f") == [("f('a\\\\b')", "'a\\nb'")]


def test_a_loop_of_assertions_becomes_one_example() -> None:
    _, tree = _skeleton_of("roman_numerals")
    assert ("all(from_roman(to_roman(n)) == n for n in range(1, 4000))", "True") in _examples(tree, "from_roman")


def test_each_assertion_is_an_example_of_the_name_it_checks_in_the_order_the_request_names_them() -> None:
    _, tree = _skeleton_of("run_length_encoding")
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["rle_encode", "rle_decode"]
    encode, decode = _examples(tree, "rle_encode"), _examples(tree, "rle_decode")
    assert ("rle_encode('')", "''") in encode and ("rle_decode('')", "''") in decode
    assert not any("rle_decode" in source for source, _ in encode)
    # decode(encode(text)) is decode's example, with the line that binds `text` before it
    sources = [source for source, _ in decode]
    assert sources.index("rle_decode(rle_encode(text))") == sources.index("text = " + repr("W" * 12 + "B" + "W" * 12 + "BBB" + "W" * 24 + "B" + "W" * 14)) + 1


def test_several_stubs_each_get_their_part_of_the_request() -> None:
    _, tree = _skeleton_of("roman_numerals")
    docs = {n.name: ast.get_docstring(n) or "" for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert docs["from_roman"].startswith("from_roman(s) converts such a Roman numeral string back to an integer.")
    assert docs["to_roman"].startswith("to_roman(n) converts an integer from 1 to 3999") and "from_roman(s)" not in docs["to_roman"]
    assert "Write two functions" in (ast.get_docstring(tree) or "")  # the whole request stays on the module


def test_a_dataclass_is_shown_as_one_with_typed_fields_and_the_tests_imports() -> None:
    text, tree = _skeleton_of("inventory")
    assert "import dataclasses" in text
    item = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Item")
    assert ast.unparse(item.decorator_list[0]) == "dataclasses.dataclass"
    fields = [ast.unparse(n) for n in item.body if isinstance(n, ast.AnnAssign)]
    assert fields == ["name: str", "price: float", "quantity: int = 0"]
    assert [n.name for n in tree.body if isinstance(n, ast.ClassDef)] == ["Item", "Inventory"]
    # A plain class gets an __init__ to fill even when the tests construct it without arguments:
    # its state has to be set up somewhere. A dataclass gets none: its fields are its __init__.
    inventory = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Inventory")
    methods = [n.name for n in inventory.body if isinstance(n, ast.FunctionDef)]
    assert methods[0] == "__init__" and "add_item" in methods
    assert not any(isinstance(n, ast.FunctionDef) for n in item.body)


def test_each_method_the_request_describes_gets_its_own_part_of_the_request() -> None:
    _, tree = _skeleton_of("inventory")
    inventory = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Inventory")
    docs = {n.name: ast.get_docstring(n) for n in inventory.body if isinstance(n, ast.FunctionDef)}
    assert docs["stock"] == "stock(name) returns the quantity of that item, or 0 if it is unknown."
    assert docs["remove"] is not None and "KeyError" in docs["remove"] and "KeyError" not in docs["stock"]
    assert docs["__init__"] is None  # the request says nothing of it
    # Methods described together ("methods a(x), b(y) ... that return floats. Each method raises")
    # get no note: it would give the shared rule to the last method alone.
    _, tree = _skeleton_of("temperature_converter")
    converter = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    assert all(ast.get_docstring(n) is None for n in converter.body if isinstance(n, ast.FunctionDef))


def test_a_literal_used_only_as_the_expected_value_is_not_shown_twice() -> None:
    text, _ = _skeleton_of("cloud_build")
    assert ">>> expected =" not in text
    assert "'images': ['gcr.io/my-project/my-image']}" in text


def test_top_level_asserts_the_model_adds_are_dropped() -> None:
    reply = "```python\ndef prime_sum(n):\n    return 0\n\n\nassert prime_sum(1) == 2\n```"
    extraction = extract_module(reply, "prime_numbers", ["prime_sum"])
    assert extraction.code == "def prime_sum(n):\n    return 0\n"
    assert extraction.notes == ["removed a top-level assert on line 5"]


def test_several_stubs_the_request_does_not_name_still_get_a_skeleton() -> None:
    text = skeleton(prompt="A tiny shop.")
    tree = ast.parse(text)
    assert {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)} == {"Cart", "price_of"}
    assert "A tiny shop." in (ast.get_docstring(tree) or "")


MODULE = '''"""Shop."""
from __future__ import annotations

import json


def price_of(name):
    """The price.

    >>> price_of("apple")
    0.5
    """


def total(names):
    return sum(price_of(n) for n in names)
'''


def test_a_function_written_alone_replaces_its_stub_with_its_imports_and_helpers() -> None:
    reply = ("Sure:\n```python\nimport math\nimport json\n\nPRICES = {'apple': 0.5}\n\n"
             "def _lookup(name):\n    return PRICES[name]\n\n\ndef price_of(name):\n    return _lookup(name)\n```")
    code = splice_function(MODULE, reply, "price_of")
    assert code is not None
    lines = code.splitlines()
    assert lines[:4] == ['"""Shop."""', "from __future__ import annotations", "import math", ""]
    assert code.count("import json") == 1
    assert code.index("def _lookup(name):") < code.index("def price_of(name):\n    return _lookup(name)")
    assert '"""The price.' not in code and "def total(names):" in code
    assert empty_functions(code, ["price_of", "total"]) == []


def test_a_reply_without_the_function_or_with_it_still_empty_is_not_spliced() -> None:
    assert empty_functions(MODULE, ["total", "price_of"]) == ["price_of"]
    assert splice_function(MODULE, "```python\ndef other():\n    return 1\n```", "price_of") is None
    assert splice_function(MODULE, "```python\ndef price_of(name):\n    ...\n```", "price_of") is None
    assert splice_function(MODULE, "no code at all", "price_of") is None


def test_a_function_is_split_from_the_rest_of_the_module() -> None:
    rest, function = split_function(MODULE, "price_of")
    assert function.startswith("def price_of(name):") and function.rstrip().endswith('"""')
    assert "def price_of" not in rest and "def total(names):" in rest and "import json" in rest
    assert split_function(MODULE, "missing") == (MODULE, "")


CLASS_MODULE = '''import math


class Converter:
    """Temperatures."""

    def __init__(self):
        pass

    def to_kelvin(self, c):
        if c < 0:
            raise ValueError(c)
        return c + 273.15

    def to_fahrenheit(self, c):
        ...
'''


def test_methods_are_named_by_their_class_and_empty_ones_are_found() -> None:
    assert list(functions(CLASS_MODULE, ["Converter"])) == ["Converter.to_kelvin", "Converter.to_fahrenheit"]
    assert empty_functions(CLASS_MODULE, ["Converter"]) == ["Converter.to_fahrenheit"]  # not the `pass` __init__


def test_a_method_is_split_out_dedented() -> None:
    rest, method = split_function(CLASS_MODULE, "Converter.to_kelvin")
    assert method.startswith("def to_kelvin(self, c):\n    if c < 0:")
    assert "to_kelvin" not in rest and "def to_fahrenheit(self, c):" in rest


def test_a_method_written_at_top_level_is_indented_into_its_class() -> None:
    reply = "```python\nimport json\n\ndef to_kelvin(self, c):\n    if c < -273.15:\n        raise ValueError(c)\n    return c + 273.15\n```"
    code = splice_function(CLASS_MODULE, reply, "Converter.to_kelvin")
    assert code is not None and code.startswith("import json\nimport math\n")
    assert "    def to_kelvin(self, c):\n        if c < -273.15:" in code
    assert code.index("def to_kelvin") < code.index("def to_fahrenheit")  # in its old place


def test_a_method_taken_from_a_whole_class_brings_its_new_helpers_only() -> None:
    reply = ('```python\ndef _limit():\n    return -273.15\n\n\nclass Converter:\n'
             '    def to_fahrenheit(self, c):\n        return 0\n\n'
             '    def to_kelvin(self, c):\n        self._check(c)\n        return c + 273.15\n\n'
             '    def _check(self, c):\n        if c < _limit():\n            raise ValueError(c)\n```')
    code = splice_function(CLASS_MODULE, reply, "Converter.to_kelvin")
    assert code is not None
    assert code.index("def _limit():") < code.index("class Converter:")  # a new function: before the class
    assert "        self._check(c)" in code and "    def _check(self, c):" in code  # a new method: after it
    assert "    def to_fahrenheit(self, c):\n        ...\n" in code  # the reply's other methods are not taken


DOCTEST_AS_CODE = '''def to_roman(n):
    return "I" * n


def test_roman():
    assert to_roman(1) == "I"
    assert to_roman(0) == Traceback (most recent call last):
        ...

test_roman()
'''


def test_a_test_block_that_does_not_parse_is_dropped_with_a_note() -> None:
    extraction = extract_module(f"```python\n{DOCTEST_AS_CODE}```", "roman", ["to_roman"], {"test_roman"})
    assert extraction.syntax_error is None and extraction.code == 'def to_roman(n):\n    return "I" * n\n'
    assert extraction.notes[0].startswith("removed lines 5-9, which did not parse")


def test_a_broken_function_the_tests_import_is_left_for_the_model_to_fix() -> None:
    broken = 'def to_roman(n):\n    return [n\n\n\ndef helper():\n    return 1\n'
    extraction = extract_module(f"```python\n{broken}```", "roman", ["to_roman"])
    assert extraction.syntax_error is not None and extraction.code == broken
    assert drop_broken_blocks(broken, {"to_roman"}) is None
    assert drop_broken_blocks(broken, set()) == ("def helper():\n    return 1", [
        "removed lines 1-4, which did not parse ('[' was never closed)"])
