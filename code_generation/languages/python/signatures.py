"""The parameters of the skeleton's stubs and the fields of its dataclasses, always importable Python.

The skeleton (skeleton.py) is not only shown to the model: test generation imports it as the
"empty" module the tests must fail on, so it has to compile and run. What it takes from the
request is free text (``find(items, target)``, ``quantity (int, default 0)``) and what it takes
from the tests' calls may repeat a name (``f(1, x=2)``). So a parameter list from the request is
used only when it is one Python accepts (names once, literal defaults); a field's type only when
it is a builtin type (else it is kept as a string annotation, never evaluated), its default only
when it is a literal (a mutable one through ``default_factory``) and no field without one follows.
"""

from __future__ import annotations

import ast
import builtins
import re

PLACEHOLDER_ARGS = ("x", "y", "z", "w")


def is_literal(node: ast.expr) -> bool:
    """Whether the expression is a Python literal (what ast.literal_eval accepts)."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def valid_parameters(params: list[str]) -> bool:
    """Whether ``def _(<params>)`` compiles and runs as these parameters: one per item of `params`,
    each name once, every default a literal."""
    try:
        tree = ast.parse(f"def _({', '.join(params)}): pass")
    except (SyntaxError, ValueError):
        return False
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return False  # a ")" in the text closed the list early
    args = tree.body[0].args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, [args.vararg, args.kwarg])]
    names = [a.arg for a in every]
    defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    # As many parameters as pieces: ``A=",A="`` is one parameter with a string default, not two.
    return len(names) == len(set(names)) == len(params) and all(is_literal(d) for d in defaults)


def signature_from_prompt(name: str, prompt: str) -> list[str] | None:
    """``find(items, target)`` written in the request names the parameters (when Python takes them)."""
    match = re.search(rf"\b{re.escape(name)}\(([^()]*)\)", prompt)
    if not match:
        return None
    params = [p.strip() for p in match.group(1).split(",") if p.strip()]
    if all(re.fullmatch(r"[A-Za-z_]\w*(\s*=\s*[^,]+)?", p) for p in params) and valid_parameters(params):
        return params
    return None


def params_from_calls(calls: list[ast.Call]) -> list[str]:
    """Positional count from the widest call; names from keyword calls where the tests use them."""
    positional = max((len(c.args) for c in calls if not any(isinstance(a, ast.Starred) for a in c.args)), default=0)
    keywords = list(dict.fromkeys(k.arg for c in calls for k in c.keywords if k.arg))
    by_name = [c for c in calls if not c.args and len(c.keywords) >= positional]
    if by_name:  # ``Item(name=..., price=...)`` names every parameter, in order
        return unique([k.arg for k in max(by_name, key=lambda c: len(c.keywords)).keywords if k.arg])
    placeholders = [PLACEHOLDER_ARGS[i] if i < len(PLACEHOLDER_ARGS) else f"arg{i}" for i in range(positional)]
    return unique(placeholders + [f"{k}=None" for k in keywords])


def unique(params: list[str], taken: tuple[str, ...] = ()) -> list[str]:
    """Each parameter once (``f(1, x=2)`` gives a placeholder ``x`` and a keyword ``x``), none of `taken`."""
    seen = set(taken)
    kept = []
    for param in params:
        name = param.split("=")[0].strip()
        if name not in seen:
            seen.add(name)
            kept.append(param)
    return kept


def is_dataclass(name: str, source: str, prompt: str) -> bool:
    return bool(re.search(rf"is_dataclass\(\s*{re.escape(name)}\b", source)
                or re.search(rf"\bdataclass(es)?\s+(called\s+|named\s+)?{re.escape(name)}\b", prompt))


def _annotation(text: str) -> str:
    """A builtin type as written (``list[int]``); anything else as a string, which nothing evaluates."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        return repr(text)
    if all(not isinstance(n, ast.Name) or hasattr(builtins, n.id) for n in ast.walk(tree)) and _no_calls(tree):
        return text
    return repr(text)


def _no_calls(tree: ast.AST) -> bool:
    return not any(isinstance(n, ast.Call | ast.Attribute | ast.NamedExpr | ast.Lambda) for n in ast.walk(tree))


def _default(text: str | None) -> str | None:
    """A literal default as written, a mutable one as a factory; None for anything else."""
    if text is None:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, list | dict | set):  # dataclasses refuse a mutable default
        return f"dataclasses.field(default_factory=lambda: {text})"
    return text


def _field(param: str, prompt: str) -> tuple[str, str, str | None]:
    """``quantity``, ``int``, ``0`` from a request that says ``quantity (int, default 0)``."""
    name = param.split("=")[0].strip()
    described = re.search(rf"\b{re.escape(name)}\s*\(([^)]*)\)", prompt)
    words = described.group(1) if described else ""
    kind = re.match(r"\s*([A-Za-z_][\w\[\], ]*?)\s*(,|$)", words)
    default = re.search(r"default(?:s to| is|:)?\s+([^\s,;)]+)", words)
    written = kind.group(1) if kind and not kind.group(1).startswith("default") else "object"
    return name, _annotation(written), _default(default.group(1) if default else None)


def dataclass_fields(params: list[str], prompt: str) -> list[str]:
    """The field lines of a dataclass stub; a default only where every later field has one too."""
    fields = [_field(p, prompt) for p in unique(params)]
    last_plain = max((i for i, (_, _, default) in enumerate(fields) if default is None), default=-1)
    return [f"{name}: {kind}" + (f" = {default}" if default is not None and i > last_plain else "")
            for i, (name, kind, default) in enumerate(fields)]
