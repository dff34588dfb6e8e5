"""The general syntax-tree helpers: definitions, spans, empty bodies, split and splice of a function."""

from __future__ import annotations

import ast

from code_generation.languages.python import extract, syntax_tree
from code_generation.languages.python.syntax_tree import (
    defined_names,
    definitions,
    empty_functions,
    functions,
    header,
    import_position,
    is_empty_body,
    parses,
    span,
    splice_function,
    split_function,
)

MODULE = '''"""Shapes."""

import math


@staticmethod
def area(r):
    """Area of a circle."""
    return math.pi * r * r


def todo(x):
    """Not yet."""


class Box:
    def __init__(self):
        pass

    def volume(self):
        ...

    def side(self):
        return 1
'''


def test_definitions_name_methods_with_their_class() -> None:
    found = definitions(ast.parse(MODULE))
    assert list(found) == ["area", "todo", "Box", "Box.__init__", "Box.volume", "Box.side"]


def test_span_includes_decorators() -> None:
    node = definitions(ast.parse(MODULE))["area"]
    assert isinstance(node, ast.stmt)
    start, end = span(node)
    assert MODULE.splitlines()[start - 1] == "@staticmethod"
    assert MODULE.splitlines()[end - 1].strip() == "return math.pi * r * r"


def test_empty_bodies_are_docstring_pass_or_ellipsis() -> None:
    tree = definitions(ast.parse(MODULE))
    assert is_empty_body(tree["todo"])  # type: ignore[arg-type]
    assert is_empty_body(tree["Box.volume"])  # type: ignore[arg-type]
    assert not is_empty_body(tree["area"])  # type: ignore[arg-type]
    assert empty_functions(MODULE, ["area", "todo", "Box"]) == ["todo", "Box.volume"]


def test_functions_leave_out_dunders_and_follow_the_order_asked() -> None:
    assert list(functions(MODULE, ["Box", "area"])) == ["Box.volume", "Box.side", "area"]
    assert functions("def broken(:", ["broken"]) == {}


def test_split_function_and_header() -> None:
    rest, source = split_function(MODULE, "Box.side")
    assert source == "def side(self):\n    return 1\n"
    assert "def side" not in rest and "def volume" in rest
    assert header(MODULE, "area") == '@staticmethod\ndef area(r):\n    """Area of a circle."""\n    ...\n'
    assert header(MODULE, "missing") == ""
    assert split_function(MODULE, "missing") == (MODULE, "")


def test_splice_takes_the_first_block_that_writes_the_function() -> None:
    blocks = ["def other():\n    return 0\n", "import os\n\ndef helper():\n    return 2\n\ndef todo(x):\n    return helper() + x\n"]
    spliced = splice_function(MODULE, blocks, "todo")
    assert spliced is not None and parses(spliced)
    assert "return helper() + x" in spliced and "import os" in spliced
    assert spliced.index("def helper") < spliced.index("def todo")
    assert splice_function(MODULE, ["def todo(x):\n    pass\n"], "todo") is None  # still empty: not a reply


def test_extract_keeps_its_names_and_reads_fenced_replies() -> None:
    assert extract.span is syntax_tree.span and extract.split_function is syntax_tree.split_function
    reply = "Here:\n```python\ndef todo(x):\n    return x\n```"
    assert "return x" in (extract.splice_function(MODULE, reply, "todo") or "")


def test_import_position_and_defined_names() -> None:
    tree = ast.parse('"""Doc."""\nfrom __future__ import annotations\nimport os\nX = 1\n')
    assert import_position(tree) == 2
    assert defined_names("import os.path\nX = 1\ndef f(): pass\nclass C: pass\n") == {"os", "X", "f", "C"}
    assert defined_names("def (:") == set()
