"""The hallucination analyzer: modules, imported names and attributes that do not exist.

Small models write `os.path.exist`, `re.Match.grop` or `from collections import OrderedSet`
with confidence. For each import and each attribute read on the completion's lines, jedi (see
`_jedi`) is asked what the name is; when it knows the object on the left (a module, a class, an
instance of a known type) and that object has no such name, the finding names the nearest real
ones. Objects jedi cannot see into, and classes or modules with a `__getattr__` (their
attributes are made at run time), are never judged. Undefined bare names are pyflakes's job.
"""

from __future__ import annotations

import ast
import difflib
import pkgutil
import sys
import time
from functools import cache

from code_generation.completion.analyzers import _jedi
from code_generation.completion.analyzers.base import AnalysisInput, Report, register
from code_generation.types import Finding


def _suggest(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)]
    return f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""


@cache
def _top_level_modules() -> list[str]:
    """Importable top-level names (stdlib and installed), listed without importing any."""
    return sorted(set(sys.stdlib_module_names) | {m.name for m in pkgutil.iter_modules()})


def _names_at(text: str, path: str | None, line: int, column: int) -> list[str] | None:
    """What jedi offers after `value.` (or `from m import `); None when it cannot see the object."""
    try:
        names = [c.name for c in _jedi.script(text, path).complete(line, column)]
    except Exception:
        return None
    return names or None


def _exists(text: str, path: str | None, line: int, column: int) -> bool:
    try:
        script = _jedi.script(text, path)
        return bool(script.goto(line, column) or script.infer(line, column))
    except Exception:
        return True  # cannot tell: never a finding


def _import_findings(source: AnalysisInput, node: ast.Import | ast.ImportFrom) -> list[Finding]:
    text, path, found = source.text, source.path, []
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        line = source.source_line(node.lineno)
        root = node.module.split(".")[0]
        if root not in _top_level_modules():
            return [Finding(node.lineno, f"module `{node.module}` does not exist{_suggest(root, _top_level_modules())}", True, "hallucination")]
        marker = " import "
        offset = line.find(marker)
        raw = source.text.splitlines()[node.lineno - 1]
        column = len(raw) - len(raw.lstrip()) + offset + len(marker)
        names = _names_at(text, path, node.lineno, column) if offset >= 0 and node.end_lineno == node.lineno else None
        for alias in node.names:
            if names is not None and alias.name != "*" and alias.name not in names and "__getattr__" not in names:
                found.append(Finding(node.lineno, f"`{node.module}` has no name `{alias.name}`{_suggest(alias.name, names)}", True, "hallucination"))
    elif isinstance(node, ast.Import):
        for alias in node.names:
            root = alias.name.split(".")[0]
            if root not in _top_level_modules():
                found.append(Finding(node.lineno, f"module `{alias.name}` does not exist{_suggest(root, _top_level_modules())}", True, "hallucination"))
    return found


def _attribute_finding(source: AnalysisInput, node: ast.Attribute) -> Finding | None:
    text, path = source.text, source.path
    line = node.end_lineno or node.lineno
    end = _jedi.char_column(text, line, node.end_col_offset or 0)
    column = end - len(node.attr)
    if text.splitlines()[line - 1][column:end] != node.attr:
        return None  # spans lines oddly (a backslash, comments): not judged
    names = _names_at(text, path, line, column)
    if names is None or node.attr in names or "__getattr__" in names:
        return None
    if _exists(text, path, line, column) or f".{node.attr} =" in text or f"'{node.attr}'" in text or f'"{node.attr}"' in text:
        return None  # set at run time (setattr, an assignment elsewhere): cannot judge statically
    owner = _jedi.segment(text, node.value, 40)
    return Finding(line, f"`{owner}` has no attribute `{node.attr}`{_suggest(node.attr, names)}", True, "hallucination")


@register("hallucination")
class HallucinationAnalyzer:
    """Imports of modules and names that do not exist; attributes that known objects lack."""

    name = "hallucination"
    subtract_baseline = False  # it looks only at the completion's own lines

    def analyze(self, source: AnalysisInput) -> Report:
        started = time.monotonic()
        module = _jedi.tree(source.text)
        if module is None:
            return Report(self.name, skipped="the file does not parse", seconds=time.monotonic() - started)
        findings: list[Finding] = []
        for node in ast.walk(module):
            if not source.in_completion(getattr(node, "lineno", 0)):
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                findings += _import_findings(source, node)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                finding = _attribute_finding(source, node)
                if finding:
                    findings.append(finding)
        findings = list(dict.fromkeys(sorted(findings, key=lambda f: (f.line, f.message))))
        return Report(self.name, findings, seconds=time.monotonic() - started)
