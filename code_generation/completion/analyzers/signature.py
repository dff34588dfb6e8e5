"""The signature analyzer: does each call the completion makes fit the callee's real signature?

For every call on the completion's lines whose callee jedi resolves (a function of an imported
module, a builtin, a method of a known type, or a name defined earlier in the file), the
signature jedi finds is turned into an `inspect.Signature` and the call's shape is bound to it.
A call that fits none of the callee's signatures (overloads count) is an error, reported with
the real signature. Calls with ``*args`` or ``**kwargs`` are not judged: their shape is unknown.
"""

from __future__ import annotations

import ast
import inspect
import time

from code_generation.completion.analyzers import _jedi
from code_generation.completion.analyzers.base import AnalysisInput, Report, register
from code_generation.types import Finding

_DEFAULT = object()


def _inspect_signature(signature: object) -> inspect.Signature | None:
    """A jedi signature as an `inspect.Signature` (defaults as placeholders), or None if odd."""
    params = []
    for p in getattr(signature, "params", []):
        kind = getattr(p, "kind", None)
        if not isinstance(kind, inspect._ParameterKind) or not p.name.isidentifier():
            return None
        has_default = "=" in p.description and kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                          inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                          inspect.Parameter.KEYWORD_ONLY)
        params.append(inspect.Parameter(p.name, kind, default=_DEFAULT if has_default else inspect.Parameter.empty))
    try:
        return inspect.Signature(params)
    except (ValueError, TypeError):
        return None


def compact(signature: object) -> str:
    """`name(a, /, b=None, *args, key=..., **kw)`: the signature without annotations, short enough to read."""
    name = getattr(signature, "name", "function")
    sig = _inspect_signature(signature)
    if sig is None:
        return str(getattr(signature, "to_string", lambda: name)())
    defaults = {p.name: p.description.rsplit("=", 1)[1].strip()
                for p in getattr(signature, "params", []) if "=" in p.description}
    params = list(sig.parameters.values())
    parts: list[str] = []
    star = False
    for i, param in enumerate(params):
        if param.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            parts.append(f"*{param.name}")
            star = True
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            parts.append(f"**{param.name}")
        else:
            default = "" if param.default is inspect.Parameter.empty else f"={defaults.get(param.name, '...')}"
            parts.append(f"{param.name}{default}")
        following = params[i + 1].kind if i + 1 < len(params) else None
        if param.kind is inspect.Parameter.POSITIONAL_ONLY and following is not inspect.Parameter.POSITIONAL_ONLY:
            parts.append("/")
    return f"{name}({', '.join(parts)})"


def _shape(call: ast.Call) -> tuple[int, list[str]] | None:
    """Positional count and keyword names, or None when *args / **kwargs hide the shape."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    return len(call.args), [k.arg for k in call.keywords if k.arg]


def _open_paren(text: str, call: ast.Call) -> tuple[int, int] | None:
    """jedi's (line, column) just inside the call's opening parenthesis."""
    func = call.func
    line = func.end_lineno or call.lineno
    col = _jedi.char_column(text, line, func.end_col_offset or 0)
    source = text.splitlines()[line - 1]
    paren = source.find("(", col)
    if paren < 0 or source[col:paren].strip():
        return None
    return line, paren + 1


def check_call(text: str, path: str | None, call: ast.Call) -> str | None:
    """Why the call does not fit its callee's signature, or None (fits, or cannot tell)."""
    shape, where = _shape(call), _open_paren(text, call)
    if shape is None or where is None:
        return None
    try:
        signatures = _jedi.script(text, path).get_signatures(*where)
    except Exception:  # jedi can fail on odd code; then it cannot tell
        return None
    converted = [(s, _inspect_signature(s)) for s in signatures]
    converted = [(s, sig) for s, sig in converted if sig is not None]
    if not converted:
        return None
    positional, keywords = shape
    errors = []
    for _, sig in converted:
        try:
            sig.bind(*([None] * positional), **dict.fromkeys(keywords))
            return None
        except TypeError as exc:
            errors.append(str(exc))
    shown = " or ".join(dict.fromkeys(f"`{compact(s)}`" for s, _ in converted[:3]))
    return f"`{_jedi.segment(text, call)}` does not fit the signature {shown}: {errors[0]}"


@register("signature")
class SignatureAnalyzer:
    """Calls that do not fit the real signature of what they call (errors)."""

    name = "signature"
    subtract_baseline = False  # it looks only at the completion's own calls

    def analyze(self, source: AnalysisInput) -> Report:
        started = time.monotonic()
        module = _jedi.tree(source.text)
        if module is None:
            return Report(self.name, skipped="the file does not parse", seconds=time.monotonic() - started)
        findings = []
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and source.in_completion(node.lineno):
                problem = check_call(source.text, source.path, node)
                if problem:
                    findings.append(Finding(node.lineno, problem, True, self.name))
        findings.sort(key=lambda f: (f.line, f.message))
        return Report(self.name, findings, seconds=time.monotonic() - started)
