"""Hypothesis strategies for source text: Python and Rust test files, modules and the noise around them.

Random characters alone almost never get past a parser, so most examples come from a small
grammar of what users and small models write (assertions of every kind, ``with assertRaises``,
loops of checks, lambdas, starred and keyword arguments; Rust tests with attributes, modules,
comments, raw strings and chars holding braces), and some of them get noise spliced in.
"""

from __future__ import annotations

from hypothesis import strategies as st

IMPORTED = ["f", "g", "parse", "Item", "Cart"]
LOCALS = ["x", "y", "items", "cart", "result", "self"]
KEYWORDS = ["x", "y", "key", "self", "default", "name"]
EXCEPTIONS = ["ValueError", "KeyError", "TypeError", "Exception", "(ValueError, TypeError)", ""]
ASSERTS = ["assertEqual", "assertTrue", "assertFalse", "assertIsNone", "assertIsNotNone", "assertIn",
           "assertNotIn", "assertIs", "assertGreater", "assertLessEqual", "assertAlmostEqual",
           "assertCountEqual", "assertIsInstance", "assertRaises", "assertRaisesRegex", "assertNotEqual",
           "assert_", "assertDictEqual"]
PROMPT_WORDS = ["Write", "a", "function", "class", "dataclass", "called", "named", "that", "returns", "and",
                "(int, default 0)", "(str)", "(list[int], default [])", "default", ".", ",", ";", "\\", '"',
                "'", '"""', "'''", "(", ")", "=", "x=1", 'x="', "lambda", "class", "is", "\n", "\t", "é", "→"]


def _paren(text: str) -> str:
    return f"({text})"


literals = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.text(max_size=6).map(repr),
    st.sampled_from(["None", "True", "False", "[]", "{}", "()", "1.5", "b'x'", "...", "{1: 'a'}", "'\\n'",
                     "1e400", "0x1F", "'\"\"\"'", "\"'''\""]),
)
names = st.sampled_from([*IMPORTED, *LOCALS, "self.obj", "self.cart", "len", "sorted"])


def _call(func: str, args: list[str], keywords: list[tuple[str, str]]) -> str:
    parts = [*args, *(f"{k}={v}" if k != "**" else f"**{v}" for k, v in keywords)]
    return f"{func}({', '.join(parts)})"


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(_call, st.sampled_from([*IMPORTED, "cart.add", "self.obj.get", "Item", "len", "m.f"]),
                  st.lists(st.one_of(inner, inner.map(lambda e: f"*{e}")), max_size=3),
                  st.lists(st.tuples(st.sampled_from([*KEYWORDS, "**"]), inner), max_size=2)),
        st.builds(lambda a, op, b: _paren(f"{a} {op} {b}"), inner,
                  st.sampled_from(["+", "-", "*", "==", "<", "in", "not in", "is", "and", "or", "%", "//"]), inner),
        st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(inner, min_size=1, max_size=3).map(lambda items: f"({', '.join(items)},)"),
        inner.map(lambda e: _paren(f"lambda: {e}")),
        st.builds(lambda n, e: _paren(f"{n} := {e}"), st.sampled_from(["x", "y", "n"]), inner),
        st.builds(lambda a, b, c: _paren(f"{a} if {b} else {c}"), inner, inner, inner),
        st.builds(lambda e, n: f"({e}).{n}", inner, st.sampled_from(["price", "items", "upper()", "x"])),
        st.builds(lambda e, i: f"({e})[{i}]", inner, inner),
        inner.map(lambda e: _paren(f"not {e}")),
        inner.map(lambda e: f"[v for v in {e}]"),
    )


expressions = st.recursive(st.one_of(literals, names), _grow, max_leaves=6)
Lines = list[str]


def _indent(lines: Lines) -> Lines:
    return ["    " + line if line else line for line in lines]


def _block(head: str, body: list[Lines]) -> Lines:
    inner = [line for stmt in body for line in stmt] or ["pass"]
    return [head, *_indent(inner)]


simple_statements = st.one_of(
    st.builds(lambda kind, args: [f"self.{kind}({', '.join(args)})"], st.sampled_from(ASSERTS),
              st.lists(expressions, max_size=4)),
    st.builds(lambda a, b: [f"assert {a} == {b}"], expressions, expressions),
    st.builds(lambda a, m: [f"assert {a}, {m}"], expressions, literals),
    st.builds(lambda n, e: [f"{n} = {e}"], st.sampled_from(["x", "y", "items", "cart", "result", "expected"]),
              expressions),
    expressions.map(lambda e: [e]),
    st.just(["pass"]),
)


def _compound(inner: st.SearchStrategy[Lines]) -> st.SearchStrategy[Lines]:
    body = st.lists(inner, min_size=1, max_size=3)
    heads = st.one_of(
        st.builds(lambda e: f"with self.assertRaises({e}):", st.sampled_from(EXCEPTIONS)),
        st.builds(lambda e: f"with self.assertRaises({e}) as cm:", st.sampled_from(EXCEPTIONS)),
        st.just("with self.assertRaisesRegex(ValueError, 'bad'):"),
        st.builds(lambda e: f"with self.subTest(x={e}):", expressions),
        st.builds(lambda items: f"for x in [{', '.join(items)}]:", st.lists(expressions, max_size=9)),
        st.builds(lambda pairs: f"for a, b in [{', '.join(f'({p}, {q})' for p, q in pairs)}]:",
                  st.lists(st.tuples(expressions, expressions), max_size=3)),
        st.builds(lambda e: f"for x in {e}:", expressions),
        st.builds(lambda e: f"if {e}:", expressions),
        st.just("while False:"),
        st.just("with open('f') as fh:"),
    )
    return st.builds(_block, heads, body)


statements = st.recursive(simple_statements, _compound, max_leaves=6)


def _function(name: str, body: list[Lines], method: bool, decorator: str) -> Lines:
    head = f"def {name}(self):" if method else f"def {name}():"
    return ([decorator] if decorator else []) + _block(head, body)


_test_names = st.lists(st.sampled_from(["test_a", "test_b", "test_edge", "test_x1", "testit", "helper", "setUp"]),
                       min_size=1, max_size=4)
_decorators = st.sampled_from(["", "", "", "@unittest.skip('x')", "@pytest.mark.parametrize('x', [])",
                               "@property", "@staticmethod"])


@st.composite
def python_test_files(draw: st.DrawFn) -> str:
    """A test file of module ``m``: imports, then unittest classes and/or pytest-style functions."""
    imports = draw(st.lists(st.sampled_from([
        "import unittest", "import pytest", "import dataclasses", "from m import f, g",
        "from m import Item, Cart, parse", "from m import *", "import m", "from other import f",
        "from . import m", "import math, os.path", "from m import f as h",
    ]), min_size=1, max_size=4, unique=True))
    lines = [*imports, ""]
    for _ in range(draw(st.integers(1, 3))):
        methods = [_function(n, draw(st.lists(statements, min_size=1, max_size=4)), True, draw(_decorators))
                   for n in draw(_test_names)]
        if draw(st.booleans()):
            base = draw(st.sampled_from(["unittest.TestCase", "TestCase", "object", "", "Base"]))
            cls = draw(st.sampled_from(["TestM", "TestOther", "Helper"]))
            lines += [f"class {cls}({base}):" if base else f"class {cls}:",
                      *_indent([line for method in methods for line in [*method, ""]]), ""]
        else:
            lines += [line for name in draw(_test_names)
                      for line in [*_function(name, draw(st.lists(statements, min_size=1, max_size=3)), False,
                                              draw(_decorators)), ""]]
    if draw(st.booleans()):
        lines += ["if __name__ == '__main__':", "    unittest.main()"]
    return "\n".join(lines) + "\n"


prompts = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(PROMPT_WORDS), st.sampled_from([*IMPORTED, "price", "quantity"]),
                       st.builds(lambda n, ps: f"{n}({', '.join(ps)})", st.sampled_from(IMPORTED),
                                 st.lists(st.sampled_from(["x", "y", "x=1", "lambda", "x²", 'x="', "*a",
                                                           "self", "x", "class", "y=[]"]), max_size=3))),
             max_size=25).map(" ".join),
)


def splice_noise(text: str, noise: str, at: float) -> str:
    """`noise` put into `text` at the fraction `at` of its length."""
    cut = int(len(text) * at)
    return text[:cut] + noise + text[cut:]


# ----------------------------------------------------------------------------------------- Rust

RUST_FRAGMENTS = [
    'let s = "{";', "let c = '{';", "let c = '}';", 'let r = r#"}"#;', "// a comment {", "/* a } /* nested { */ */",
    "let b = b'x';", "let l: &'static str = \"\";", "assert_eq!(add(1, 2), 3);", "assert!(adder::is_even(2));",
    "let p = Point { x: 1, y: 2 };", "let v = vec![1, 2, 3];", 'panic!("boom");', "let x = parse::<u8>(\"1\");",
    "adder::add(1, 2);", "super::helper();", "crate::f();", "let t = (1, [2, 3]);", "if x { y } else { z }",
    'let e = "escaped \\" quote";', "loop { break; }", "match x { _ => {} }", "let h = std::mem::swap;",
    "let s = c\"x\";", "let r = br##\"raw\"##;", "let u = '\\u{1F600}';", "let q = '\\'';",
]
RUST_JUNK = ['extern "C', '"unterminated', "/* open", "{", "}", "r#\"", "'", "#[", "mod", "fn", "fn (", "::", "#![x]"]
RUST_ATTRIBUTES = ["#[test]", "#[should_panic]", '#[should_panic(expected = "x")]', "#[ignore]",
                   '#[cfg(feature = "slow")]', "#[cfg(test)]", "#[allow(unused)]", "#[tokio::test]", "#[bench]",
                   "#[cfg_attr(x, ignore)]", "/// doc {"]


def _rust_fn(attributes: list[str], name: str, ret: str, args: str, body: list[str]) -> str:
    inner = "\n".join(f"    {line}" for line in body)
    return "\n".join([*attributes, f"fn {name}({args}){ret} {{", inner, "}"])


rust_functions = st.builds(
    _rust_fn,
    st.one_of(st.lists(st.sampled_from(RUST_ATTRIBUTES), max_size=3),
              st.lists(st.sampled_from(RUST_ATTRIBUTES), max_size=2).map(lambda a: ["#[test]", *a])),
    st.sampled_from(["adds_two", "t", "r#match", "handles_empty", "main", "helper", "it_works"]),
    st.sampled_from(["", " -> Result<(), String>", " -> u8", " // why"]),
    st.sampled_from(["", "", "", "x: u8"]),
    st.lists(st.sampled_from(RUST_FRAGMENTS), max_size=4),
)


def _rust_items(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda attrs, name, items: "\n".join([*attrs, f"mod {name} {{", *items, "}"]),
        st.lists(st.sampled_from(["#[cfg(test)]", '#[cfg(feature = "x")]', "pub"]), max_size=1),
        st.sampled_from(["tests", "large", "small", "r#mod"]),
        st.lists(st.one_of(inner, st.just("use super::*;")), max_size=3),
    )


rust_items = st.recursive(
    st.one_of(rust_functions, st.sampled_from([
        "use adder::{add, Point};", "use adder::*;", "use ::adder::add as plus;", "use std::collections::HashMap;",
        "extern crate adder;", "use regex::Regex;", "struct Local;", "const N: u8 = 3;", 'extern "C" { fn abs(x: i32) -> i32; }',
        "impl Local { fn new() -> Self { Local } }", "macro_rules! m { () => {} }", "use self::inner::f;",
        "type Alias = u8;", "pub(crate) fn helper() {}",
    ])),
    _rust_items, max_leaves=6,
)


@st.composite
def rust_sources(draw: st.DrawFn) -> str:
    """A Rust test file or module: items of the grammar, now and then with junk spliced in."""
    items = draw(st.lists(rust_items, min_size=1, max_size=5))
    if draw(st.integers(0, 3)):  # most files have a test the reader should find
        items.insert(draw(st.integers(0, len(items))), "#[test]\nfn it_works() {\n    assert_eq!(adder::add(1, 2), 3);\n}")
    text = "\n\n".join(items)
    for _ in range(draw(st.integers(0, 2))):
        noise = draw(st.one_of(st.sampled_from(RUST_JUNK), st.text(max_size=5)))
        text = splice_noise(text, noise, draw(st.floats(0, 1)))
    return text


# ----------------------------------------------------------------------------------------- replies

@st.composite
def python_modules(draw: st.DrawFn) -> str:
    """A module as a small model writes one: definitions, and now and then what does not belong."""
    parts = [draw(st.sampled_from(["", '"""The module."""', "# m.py", "m.py", "File: `m.py`", "import math",
                                   "from typing import List", "import m", "from m import f"]))]
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(["f", "g", "parse", "helper", "test_f", "main"]))
        params = draw(st.sampled_from(["", "x", "x, y=2", "*args, **kwargs", "self"]))
        body = [line for stmt in draw(st.lists(statements, min_size=1, max_size=3)) for line in stmt]
        kind = draw(st.sampled_from(["def", "async def", "@decorator\ndef", "def"]))
        parts.append("\n".join([f"{kind} {name}({params}):", *_indent(body), f"    return {draw(expressions)}"]))
    if draw(st.booleans()):
        parts.append("class Cart:\n    def __init__(self):\n        self.items = []\n\n"
                     "    def add(self, item):\n        self.items.append(item)\n")
    parts += draw(st.lists(st.sampled_from([
        "class TestF(unittest.TestCase):\n    def test_f(self):\n        self.assertEqual(f(1), 2)",
        "if __name__ == '__main__':\n    print(f(3))", "print(f(2))", "assert f(1) == 2", "unittest.main()",
        "def broken(:\n    pass", "def test_doc():\n    assert f(0) == Traceback (most recent call last):",
        "x = 1", "Item = None",
    ]), max_size=2))
    return "\n\n\n".join(parts) + "\n"


def _fenced(body: str, tag: str, closed: bool) -> str:
    return f"```{tag}\n{body}" + ("```" if closed else "")


@st.composite
def replies(draw: st.DrawFn, bodies: st.SearchStrategy[str], tags: list[str]) -> str:
    """A model's reply: prose, fenced blocks (some untagged, some never closed), bare code, noise."""
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            pieces.append(draw(st.text(max_size=40)))
        elif kind == 1:
            pieces.append(draw(bodies))
        else:
            pieces.append(_fenced(draw(bodies), draw(st.sampled_from(tags)), draw(st.integers(0, 5)) > 0))
    text = "\n".join(pieces)
    if draw(st.booleans()):
        text = splice_noise(text, draw(st.one_of(st.text(max_size=3), st.sampled_from(["```", "\0", "\r", "\t"]))),
                            draw(st.floats(0, 1)))
    return text
