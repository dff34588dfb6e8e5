"""A Rust module out of a model reply, cleaned of what small models add by mistake.

Small models wrap the module in prose, add a ``fn main`` with example usage, paste a
``#[cfg(test)] mod tests`` block (theirs or the user's), declare modules of other files
(``mod error;``, which a one-file crate cannot have), or import the crate from itself
(``use mycrate::add;`` inside the crate). Each of those items is cut out, with the comments right
above it, so the rest of the text (and its line numbers) stays as the model wrote it.
"""

from __future__ import annotations

import re

from code_generation.languages.blocks import BlockRules, Extraction, pick_block, unusable
from code_generation.languages.rust import syntax

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_LANGS = {"", "rust", "rs"}
_HEADING = re.compile(r"^\s*(//\s*)?(File:\s*)?`?(src/)?[\w-]+\.rs`?:?\s*$", re.IGNORECASE)
DEFINING = frozenset({"fn", "struct", "enum", "union", "trait", "type", "const", "static", "mod", "macro_rules"})


def code_blocks(reply: str) -> list[str]:
    """Fenced Rust (or untagged) blocks in order; an unterminated last fence counts too."""
    return [body for lang, body in _FENCE.findall(reply) if lang.lower() in _LANGS and body.strip()]


def defined_names(code: str) -> set[str]:
    """Names the module's top-level items define."""
    return {item.name for item in syntax.items(code) if item.kind in DEFINING and item.name}


def _is_test_block(code: str) -> bool:
    found = syntax.items(code)
    return bool(found) and all(_unwanted(code, item, "") for item in found if item.kind != "use")


def _looks_like_rust(text: str) -> bool:
    return bool(re.search(r"^\s*(pub\s+)?(fn|struct|enum|impl|trait|use|mod)\s", text, re.MULTILINE))


def choose_code(reply: str, required: list[str]) -> str | None:
    """The module in the reply: the block that defines what the tests use wins."""
    return pick_block(code_blocks(reply), reply, required,
                      BlockRules(defined_names, _is_test_block, _looks_like_rust, lambda _joined: True))


def _unwanted(code: str, item: syntax.Item, crate: str) -> str | None:
    """Why an item does not belong in the library, or None."""
    paths = [a.path for a in item.attributes]
    if item.kind == "fn" and item.name == "main":
        return "removed `fn main` (example usage)"
    if "test" in paths or any(p.endswith("::test") for p in paths):
        return f"removed the test `{item.name}` from the module"
    if item.kind == "mod" and any(a.path == "cfg" and re.search(r"\btest\b", a.text) for a in item.attributes):
        return f"removed the test module `{item.name}` from the module"
    if item.kind == "mod" and item.body is None:  # `mod name;` wants src/name.rs: a one-file crate has none
        return f"removed `mod {item.name};` (the crate is this one file: no other files to load)"
    text = syntax.mask(code[item.start:item.end])
    if crate and item.kind == "use" and re.match(rf"(pub\s+)?use\s+(::)?{re.escape(crate)}\s*::", text.strip()):
        return f"removed an import of `{crate}` from itself"
    if crate and item.kind == "extern" and re.search(rf"\bcrate\s+{re.escape(crate)}\b", text):
        return f"removed `extern crate {crate}` (the crate itself)"
    return None


def _with_comments_above(code: str, start: int) -> int:
    """The item's start moved up over the comment lines right above it (a doc comment would dangle);
    where the item starts when code comes before it on its line (``pub fn add() {} fn main() {}``)."""
    lines_start = code.rfind("\n", 0, start) + 1
    if code[lines_start:start].strip():
        return start
    while lines_start > 0:
        previous = code.rfind("\n", 0, lines_start - 1) + 1
        line = code[previous:lines_start - 1].strip()
        if not line.startswith(("//", "/*", "*")):
            break
        lines_start = previous
    return min(start, lines_start)


def _fewer_blank_lines(code: str) -> str:
    """Runs of blank lines (what cutting leaves) made one, but not inside a literal, whose newlines
    are its value (``r"a\n\n\nb"``)."""
    spans = syntax.literals(code)

    def one(run: re.Match[str]) -> str:
        inside = any(start <= run.start() < end for start, end in spans)
        return run.group(0) if inside else "\n\n"

    return re.sub(r"\n{3,}", one, code)


def clean_module(code: str, crate: str) -> Extraction:
    """The code without the items that do not belong in a library (main, tests, self-imports)."""
    first, _, rest = code.lstrip("\n").partition("\n")
    if _HEADING.match(first):
        code = rest
    notes, cuts = [], []
    for item in syntax.items(code):
        reason = _unwanted(code, item, crate)
        if reason:
            cuts.append((_with_comments_above(code, item.start), item.end))
            notes.append(reason)
    for start, end in reversed(cuts):
        code = code[:start] + code[end:]
    code = _fewer_blank_lines(code).strip() + "\n"
    masked = syntax.mask(code)
    error = None if syntax.delimiters_balanced(masked) else "the braces or brackets do not balance"
    return Extraction(code=code, notes=notes, syntax_error=error)


def extract_module(reply: str, crate: str, required: list[str] | None = None) -> Extraction:
    """The whole job: choose the block(s) and clean them; `code` is None when the reply has no usable code."""
    code = choose_code(reply, required or [])
    if code is None or not code.strip():
        return Extraction(code=None, notes=["the reply contained no Rust code"])
    result = clean_module(code, crate)
    assert result.code is not None
    return unusable(result, defined_names(result.code), required) or result


def stubbed(code: str) -> str:
    """The module with every function body replaced by ``todo!()`` (at any depth of inline modules,
    in impl blocks and trait default methods): the same names and types, and nothing computed. A
    test that passes on it checks nothing."""
    masked = syntax.mask(code)
    bodies: list[tuple[int, int]] = []
    for _, item in syntax.walk(code, masked):
        if item.kind == "fn" and item.body:
            bodies.append(item.body)
        elif item.kind in {"impl", "trait"} and item.body:
            inner = syntax.items(code, item.body[0] + 1, item.body[1] - 1, masked)
            bodies += [i.body for i in inner if i.kind == "fn" and i.body]
    for start, end in sorted(bodies, reverse=True):
        code = code[:start] + "{ todo!() }" + code[end:]
    return code
