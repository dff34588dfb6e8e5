"""Property tests: test files on their way to the test spec, the skeleton and the test-count check.

A user's test file is the judge, read before any model call. Whatever it holds, reading it must
end in a TestSpec with at least one test or a one-line TestFileError (MyLLMError), never a
traceback or a hang; the skeleton made from an accepted file is a module that compiles and
defines every name the tests import (the sandbox imports it as the "empty" module); the tests the
verdict expects to report are tests the file really defines.
"""

from __future__ import annotations

import ast
import re
import sys
import types
import warnings
from pathlib import Path
from types import SimpleNamespace

from hypothesis import example, given
from hypothesis import strategies as st

from code_generation.languages.base import TestFileError
from code_generation.languages.python import inputs
from code_generation.languages.python.plugin import Python
from code_generation.languages.python.skeleton import module_skeleton
from code_generation.languages.python.syntax_tree import defined_names
from code_generation.languages.rust import testfile
from code_generation.languages.rust.plugin import Rust
from code_generation.languages.rust.syntax import mask
from code_generation.sandbox.verdict import defined_tests
from my_llm.errors import MyLLMError
from tests.fuzz_sources import prompts, python_test_files, rust_sources, splice_noise
from tests.fuzzing import budget, refused_in_one_line, time_limit

PYTHON, RUST = Python(), Rust()
ONE_TEST = "from m import f\n\ndef test_a():\n    pass\n"
python_texts = st.one_of(python_test_files(), st.text(max_size=300),
                         st.builds(splice_noise, python_test_files(), st.text(max_size=4), st.floats(0, 1)))


def _spec_or_refusal(source: str) -> object | None:
    """The spec of an accepted file, None for a refused one (checked: one line, the documented type)."""
    try:
        with time_limit(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning: invalid escape sequences in random text
            spec = PYTHON.analyse_tests(source, "m", "test_m.py")
    except Exception as exc:  # noqa: BLE001 - the property is about which exceptions escape
        refused_in_one_line(exc, TestFileError)
        return None
    assert spec.test_count >= 1 and spec.module_name == "m"
    return spec


@budget(2.0)
@given(python_texts)
@example("\0")
@example("from m import f\n" + "(" * 300 + ")" * 300 + "\ndef test_a():\n    pass\n")
@example("from m import f\n" + "def test_a():\n  " + "if x:\n  " * 120 + "pass\n")
@example("x = " + "-" * 100_000 + "1")  # Python's parser: MemoryError, with no message at all
@example("x = 1" + " + 1" * 200_000)  # RecursionError during ast construction
def test_python_test_file_is_a_spec_or_one_line_refusal(source: str) -> None:
    _spec_or_refusal(source)


@budget(2.0)
@given(python_test_files(), prompts)
@example(ONE_TEST, 'Say "hi"')  # one-line docstring ending in its own quote
@example(ONE_TEST, "ends with \\")  # a raw one-line docstring ending in a backslash
@example(ONE_TEST, 'write f(x=")')  # a parameter default the request leaves open
@example(ONE_TEST, "write f(lambda)")  # a keyword as a parameter name
@example(ONE_TEST, "write f(x²)")  # a \w that is no identifier character
@example(ONE_TEST, 'f(A=",A=")')  # two pieces that Python reads as one parameter: deduplicated into a broken one
@example("from m import f\n\ndef test_a():\n    assert f(1, x=2) == 3\n", "")  # placeholder x and keyword x
@example("from m import f\n\ndef test_a():\n    if 1:\n        self.assertEqual(f(1), lambda: 1)\n", "")
@example("from m import f\n\ndef test_a():\n    for x in [1]:\n        self.assertTrue(*f(x))\n", "")
@example("from m import Item\n\ndef test_a():\n    assert Item(1)\n", 'dataclass Item with price (int, default "a b)')
@example("from m import Item\n\ndef test_a():\n    assert Item(1)\n", "dataclass Item with price (list[, default 0)")
@example("from m import Item\n\ndef test_a():\n    assert Item(1)\n", "dataclass Item with x (list, default [])")
@example("from m import Item\n\ndef test_a():\n    assert Item(1, 2)\n", "dataclass Item with x (int, default 0)")
@example("from m import Item\n\ndef test_a():\n    assert Item(1)\n", "dataclass Item with x (list of Item)")
@example(ONE_TEST, "write f(x=unknown_name)")  # a default that is no literal would fail on import
@example(f"from m import f\n\ndef test_a():\n    assert f(1{' + 1' * 94}) == 2\n", "")  # deep, yet accepted
@example(f"from m import f\n\ndef test_a():\n    assert {'f(' * 94}{')' * 94}\n", "")
@example("from m import f\n\ndef test_a():\n" + "".join("    " * (i + 1) + "if x:\n" for i in range(93))
         + "    " * 94 + "self.assertEqual(f(1), 2)\n", "")
@example("from __future__ import annotations\nfrom m import Item\n\ndef test_a():\n    assert Item(1)\n",
         "dataclass Item")
def test_skeleton_of_an_accepted_file_compiles_and_defines_the_names(source: str, prompt: str) -> None:
    spec = _spec_or_refusal(source)
    if spec is None:
        return
    with time_limit():
        skeleton = module_skeleton(source, "m", spec.imported_names, prompt)
    code = compile(skeleton, "m.py", "exec")  # also catches duplicate parameters, which ast.parse lets by
    with time_limit():
        _import(code)  # what test generation's sandbox does with it (defaults, dataclass fields run)
    assert set(spec.imported_names) <= defined_names(skeleton)


def _import(code: types.CodeType) -> None:
    """Run the module's code as the module ``m`` (dataclasses look their module up by name)."""
    module = types.ModuleType("m")
    sys.modules["m"] = module
    try:
        exec(code, module.__dict__)
    finally:
        del sys.modules["m"]


def _written_tests(source: str) -> set[str]:
    """Every test* function and Class.test* method the file defines at its top level."""
    tree = ast.parse(source)
    found = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        found |= {f"{cls.name}.{m.name}" for m in cls.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)}
    return {name for name in found if name.split(".")[-1].startswith("test")}


@budget(2.0)
@given(python_texts)
@example("x = " + "-" * 100_000 + "1")
@example("x = 1" + " + 1" * 200_000)
def test_the_tests_the_verdict_expects_are_tests_the_file_defines(source: str) -> None:
    """A name the count check invents would call an honest run tampered (verdict.defined_tests)."""
    with time_limit(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = defined_tests(source)
    if expected is None:
        return
    assert len(expected) == len(set(expected))
    assert set(expected) <= _written_tests(source)


def _settings(folder: Path, test_name: str = "test_m.py") -> SimpleNamespace:
    output = folder / "m.py"
    return SimpleNamespace(resolved_test_file=folder / test_name, output_file=output, test_file=folder / test_name,
                           module_name="m")


@budget(0.5)
@given(st.one_of(python_test_files().map(str.encode), st.binary(max_size=200),
                 python_test_files().map(lambda s: b"\xef\xbb\xbf" + s.replace("\n", "\r\n").encode())))
def test_create_scripts_check_of_the_test_file_reads_or_refuses_in_one_line(
        tmp_path_factory: object, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("inputs")  # type: ignore[attr-defined]
    (folder / "test_m.py").write_bytes(data)
    try:
        with time_limit():
            source = inputs.check_test_file(_settings(folder))
    except Exception as exc:  # noqa: BLE001
        refused_in_one_line(exc, MyLLMError)
        return
    assert source is not None and "\0" not in source
    _spec = PYTHON.analyse_tests(source, "m", "test_m.py")  # what create-script does next: accepted again


# ----------------------------------------------------------------------------------------- Rust

rust_texts = st.one_of(rust_sources(), st.text(max_size=300))


@budget(3.0)
@given(rust_texts)
@example('extern "C')  # an ABI string never closed: the item reader looped for ever
@example("#[test] fn t() {}\n" + "mod a {" * 1500 + "}" * 1500)  # nesting deeper than Python's recursion
def test_rust_test_file_is_a_spec_or_one_line_refusal(source: str) -> None:
    try:
        with time_limit():
            spec = RUST.analyse_tests(source, "adder", "tests/test_adder.rs")
    except Exception as exc:  # noqa: BLE001
        refused_in_one_line(exc, TestFileError)
        return
    assert spec.test_count >= 1 and len(spec.test_names) >= 1


@budget(3.0)
@given(rust_texts)
@example("use a\u00b9dder::add;\n#[test]\nfn t() {}\n")  # \w takes a superscript one: no crate has that name
def test_rust_crate_name_is_a_crate_name_or_one_line_refusal(source: str) -> None:
    settings = SimpleNamespace(crate_source="none")
    try:
        with time_limit():
            crate = RUST.module_name(Path("/work/adder/src/lib.rs"), source, settings, "tests.rs")
    except Exception as exc:  # noqa: BLE001
        refused_in_one_line(exc, TestFileError)
        return
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", crate) and crate not in testfile.RUST_KEYWORDS


@budget(3.0)
@given(rust_sources())
@example('#[test]\nfn adds_two() // why {\n\n}\n\n#[test]\nfn it_works() {\n    assert_eq!(adder::addextern "C(1, 2), 3);\n'
         '}\n\n#[should_panic(expected = "x")]\nfn adds_two() {\n\n}\n')  # a } closing nothing, counts equal
def test_wrapped_rust_tests_keep_every_line_and_balance(source: str) -> None:
    """Each test gets its wrapper on the line it started on: the compiler's lines stay the user's."""
    try:
        with time_limit():
            parsed = testfile.analyse(source, "adder")
    except TestFileError:
        return
    with time_limit():
        wrapped = testfile.wrap(source, parsed.tests)
    assert wrapped.count("\n") == source.count("\n")
    masked = mask(wrapped)
    assert masked.count("{") == masked.count("}")
    for test in parsed.tests:
        assert f"fn {testfile.WRAPPED_PREFIX}{test.function}" in wrapped
