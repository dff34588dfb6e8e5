"""Property tests: model replies on their way through extraction and splicing.

Whatever a model writes (any text, any fences, any unicode), extraction gives a module that parses
or a refusal (no code, with the reason in its notes, or the syntax error to send back), and
splicing gives a module that parses, keeps every other definition, or None; never a traceback or
a hang. complete-file's splice changes no byte outside the completion.
"""

from __future__ import annotations

import ast
import codecs

from hypothesis import example, given
from hypothesis import strategies as st

from code_generation.completion.reply import completion_from_reply
from code_generation.completion.splice import SpliceError, decode, locate
from code_generation.languages.python import extract as python_extract
from code_generation.languages.python.syntax_tree import definitions, parses
from code_generation.languages.rust import extract as rust_extract
from code_generation.languages.rust.syntax import mask
from tests.fuzz_sources import python_modules, replies, rust_sources
from tests.fuzzing import budget, time_limit

PYTHON_TAGS = ["python", "py", "Python3", "", "rust", "text", "python title=m.py", "~~~"]
python_replies = st.one_of(replies(python_modules(), PYTHON_TAGS), replies(python_modules(), ["python"]),
                           st.text(max_size=200))
rust_replies = st.one_of(replies(rust_sources(), ["rust", "rs", "", "python", "toml"]), st.text(max_size=200))
required_names = st.lists(st.sampled_from(["f", "g", "parse", "Cart", "add"]), max_size=3, unique=True)


@budget(2.0)
@given(python_replies, required_names)
@example("```python\ndef f():\n    return 1\n", ["f"])  # cut off before its closing fence
@example("def f():\n    return 0\n\n\nasync def test_f():\n    return 0\n", [])  # an async test was kept
@example("```python\n" + "x = (" * 150 + ")" * 150 + "\ndef f():\n    return 1\n```", ["f"])
def test_python_extraction_gives_a_module_that_parses_or_a_refusal(reply: str, required: list[str]) -> None:
    with time_limit():
        result = python_extract.extract_module(reply, "m", required, {"test_f"})
    if result.code is None:
        assert result.notes, "a refusal says why"
        return
    if result.syntax_error is not None:
        assert "\n" not in result.syntax_error  # goes back to the model as one line of feedback
        return
    tree = ast.parse(result.code)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    assert not (defined & {"test_f"}) or "test_f" in required, "a pasted test stays in the module"


modules = python_modules().filter(parses)
spliced_names = st.sampled_from(["f", "g", "parse", "helper", "Cart.add", "Cart.__init__", "missing"])


@budget(2.0)
@given(modules, python_replies, spliced_names)
def test_python_splice_parses_and_keeps_every_other_definition(module: str, reply: str, name: str) -> None:
    with time_limit():
        spliced = python_extract.splice_function(module, reply, name)
    if spliced is None:
        return
    assert parses(spliced)
    before, after = definitions(ast.parse(module)), definitions(ast.parse(spliced))
    assert name in after
    lost = set(before) - set(after)
    assert not lost, f"the splice lost {lost}"


@budget(3.0)
@given(rust_replies, required_names)
@example('```rust\nextern "C', [])  # an ABI string never closed: the item reader looped for ever
@example('mod tests {\nfn adds_two() {\n    let #[s = "{";\n}\n}\n\nfn adds_two() {\n\n}', [])  # a [ ate a }
def test_rust_extraction_gives_balanced_code_or_a_refusal(reply: str, required: list[str]) -> None:
    with time_limit():
        result = rust_extract.extract_module(reply, "adder", required)
    if result.code is None:
        assert result.notes
        return
    if result.syntax_error is None:
        masked = mask(result.code)
        assert masked.count("{") == masked.count("}")
        with time_limit():
            stub = rust_extract.stubbed(result.code)
        stub_masked = mask(stub)
        assert stub_masked.count("{") == stub_masked.count("}")


# ----------------------------------------------------------------------------------------- complete-file

file_texts = st.one_of(python_modules(), st.text(max_size=120))
newlines = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def files(draw: st.DrawFn) -> bytes:
    """A file as an editor hands it over: any line endings, maybe a BOM, maybe tabs."""
    text = draw(file_texts).replace("\n", draw(newlines))
    if draw(st.booleans()):
        text = text.replace("    ", "\t")
    data = text.encode("utf-8", "surrogatepass")
    return codecs.BOM_UTF8 + data if draw(st.booleans()) else data


@budget(2.0)
@given(files(), st.one_of(st.none(), st.integers(-2, 40)), st.one_of(st.none(), st.integers(-2, 30)),
       st.one_of(python_replies, st.text(max_size=60)))
@example(b"\xef\xbb\xbf", 1, 0, "x = 1")
@example(b"a\rb\r", 2, 1, "\r\n")
def test_complete_file_splice_changes_nothing_but_the_completion(
        data: bytes, line: int | None, column: int | None, completion: str) -> None:
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return  # refused before locate (completion/validate.py says so in one line)
    try:
        with time_limit():
            doc = locate(data, line, column)
    except SpliceError as exc:
        assert "\n" not in str(exc)
        return
    out = doc.splice(completion)
    assert out.startswith(data[:doc.start]) and out.endswith(data[doc.end:])
    assert decode(out) == doc.text(completion)
    assert text.startswith(doc.prefix) and text.endswith(doc.suffix)


@budget(2.0)
@given(python_replies, file_texts, file_texts, st.one_of(st.none(), st.just("```python\n")))
def test_a_completion_out_of_any_reply_is_text_or_none(reply: str, prefix: str, suffix: str,
                                                       prefilled: str | None) -> None:
    with time_limit():
        completion = completion_from_reply(reply, prefix, suffix, None if prefilled is None else prefilled + prefix)
    if completion is None:
        return
    assert completion.strip()
    if not prefix or prefix.endswith(("\n", "\r")):
        assert completion.endswith("\n")
