"""The completion out of a model's reply: only the text that goes at the insertion point.

A reply comes in one of three shapes: the continuation of a reply we started with the file's
prefix (the embedded model continues a final assistant message), the whole file again, or just
the inserted code. Small models also run on past the insertion point and write the code that
follows it again (the suffix, which they were shown), or add example calls and tests after the
function; both are cut here, so the splice only ever gets the new code.
"""

from __future__ import annotations

import ast
import re
import textwrap

from code_generation.completion.splice import split_lines

_FENCE = re.compile(r"^```[\w+-]*[ \t]*$", re.MULTILINE)
# Top-level lines after the code that are not part of it: example calls, tests, a main guard.
_TAIL = re.compile(r"^(?:if __name__\b|print\(|assert\b|#\s*(?:Example|Test|Usage|Check)|>>>)", re.IGNORECASE)


def _fenced(text: str) -> str:
    """The code of the first fenced block; the text before a lone closing fence; else all of it."""
    fences = list(_FENCE.finditer(text))
    if not fences:
        return text
    before = text[: fences[0].start()]
    if before.strip() and _looks_like_code(before):
        return before  # a continuation, then the closing fence
    body_start = fences[0].end() + 1
    return text[body_start : fences[1].start()] if len(fences) >= 2 else text[body_start:]


def _looks_like_code(text: str) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return first.startswith((" ", "\t")) or bool(re.match(r"(def|class|return|import|from|if|for|while|with|@)\b", first))


def _norm(line: str) -> str:
    return line.rstrip()


def _strip_echoed_prefix(code: str, prefix: str) -> str:
    """Drop a copy of the file's prefix (or of its last lines) at the start of the reply."""
    if prefix and code.startswith(prefix):
        return code[len(prefix) :]
    code_lines, prefix_lines = split_lines(code), split_lines(prefix)
    if not prefix_lines or not code_lines:
        return code
    # The whole prefix again, but with other whitespace at the ends of lines.
    n = len(prefix_lines)
    if len(code_lines) >= n and all(_norm(a) == _norm(b) for a, b in zip(code_lines, prefix_lines, strict=False)):
        if prefix.endswith(("\n", "\r")) or _norm(code_lines[n - 1]) != _norm(prefix_lines[-1]):
            return "".join(code_lines[n:])
        return code_lines[n - 1][len(prefix_lines[-1].rstrip("\r\n")):] + "".join(code_lines[n:])
    # Its last k distinctive lines (the model started again from the function's def line).
    for k in range(min(len(prefix_lines), len(code_lines)), 0, -1):
        tail = [_norm(x) for x in prefix_lines[-k:]]
        if [_norm(x) for x in code_lines[:k]] == tail and sum(len(t.strip()) for t in tail) >= 12:
            return "".join(code_lines[k:])
    return code


def _cut_suffix_echo(code: str, suffix: str) -> str:
    """Cut the reply where it starts to repeat the code after the insertion point."""
    first = next((_norm(ln) for ln in split_lines(suffix) if ln.strip()), None)
    if first is None or len(first.strip()) < 4:
        return code
    lines = split_lines(code)
    for i, line in enumerate(lines):
        if _norm(line) == first:
            return "".join(lines[:i])
    return code


def _cut_tail(code: str, inside_block: bool) -> str:
    """Inside a function, drop trailing top-level example calls, tests and main guards."""
    if not inside_block:
        return code
    lines = split_lines(code)
    for i, line in enumerate(lines):
        if i and _TAIL.match(line):
            return "".join(lines[:i]).rstrip() + "\n"
    return code


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _names(code: str) -> set[str]:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return set(re.findall(r"[A-Za-z_]\w*", code))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def _cut_unused_top_level(code: str, inside_block: bool) -> str:
    """After a function body, keep only the top-level code the body needs (its helpers, imports).

    Seen with the 1.5B model: a right function, then a `main()` with `input()` and a bug of its
    own, which the analyzers then blamed on the completion round after round.
    """
    lines = split_lines(code)
    start = next((i for i, ln in enumerate(lines) if i and ln.strip() and not ln[0].isspace() and not ln.startswith("#")), None)
    if not inside_block or start is None:
        return code
    head, tail = "".join(lines[:start]), "".join(lines[start:])
    try:
        nodes = ast.parse(tail).body
    except SyntaxError:
        return code
    needed, kept = _names(head), set()
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if id(node) not in kept and _defined(node) & needed:
                kept.add(id(node))
                needed |= _names(ast.get_source_segment(tail, node) or "")
                changed = True
    tail_lines = split_lines(tail)
    parts = ["".join(tail_lines[_first_line(n) - 1 : n.end_lineno]) for n in nodes if id(n) in kept]
    return head.rstrip() + "\n" + "".join(f"\n\n{p.rstrip()}\n" for p in parts) if parts else head


def _first_line(node: ast.stmt) -> int:
    """Where a definition starts: its first decorator's line, else its own."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _indent_to(code: str, prefix: str) -> str:
    """Code that starts less indented than the block it continues, moved in (insertion-only replies)."""
    last = next((ln for ln in reversed(split_lines(prefix)) if ln.strip()), "")
    want = last[: len(last) - len(last.lstrip())]
    if last.rstrip().endswith(":"):
        want += "    " if not want.startswith("\t") else "\t"
    lines = split_lines(code)
    first = next((ln for ln in lines if ln.strip()), "")
    have = first[: len(first) - len(first.lstrip())]
    if not want or len(have) >= len(want) or not prefix.endswith(("\n", "\r")):
        return code
    extra = want[len(have):]
    return "".join(extra + ln if ln.strip() else ln for ln in lines)


def lf(text: str) -> str:
    """Line endings as the model sees and writes them (the splice puts the file's back)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def inside_block(prefix: str) -> bool:
    """The insertion point is in an indented block (a function body), not at the top level."""
    last = next((ln for ln in reversed(split_lines(prefix)) if ln.strip()), "")
    return last.startswith((" ", "\t")) or last.rstrip().endswith(":")


def completion_from_reply(reply: str, prefix: str, suffix: str, prefilled: str | None = None) -> str | None:
    """The text to insert, or None when the reply holds no code.

    `prefilled` is the start of the reply we wrote for the model (an opening fence and the
    prefix): a backend may return it with the continuation or the continuation alone.
    """
    text, prefix, suffix = lf(reply), lf(prefix), lf(suffix)
    if prefilled is not None:
        prefilled = lf(prefilled)
        if text.startswith(prefilled):
            text = text[len(prefilled):]
        elif text.startswith("```"):  # the fence again, then perhaps the file: read it as a whole reply
            return completion_from_reply(text, prefix, suffix)
        end = re.search(r"^```", text, re.MULTILINE)
        code = text[: end.start()] if end else text
    else:
        code = _fenced(text)
        code = _strip_echoed_prefix(code, prefix)
        code = _indent_to(code, prefix)
    code = _cut_suffix_echo(code, suffix)
    code = _cut_tail(code, inside_block(prefix))
    code = _cut_unused_top_level(code, inside_block(prefix))
    if not code.strip():
        return None
    at_line_start = not prefix or prefix.endswith(("\n", "\r"))
    return code.rstrip() + "\n" if at_line_start else code.rstrip()
