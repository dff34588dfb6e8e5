"""The module to write, as a skeleton with doctest examples, inferred from the user's tests.

Small code models are trained on "complete this function" (HumanEval's shape): a signature and a
docstring with ``>>>`` examples. Shown a whole unittest file instead, a small model tends to paste
the tests back. So we turn the tests into that familiar shape: one stub per name the tests import,
the request as the docstring, and every test body rewritten as an interactive example
(``self.assertEqual(f(2), 4)`` becomes ``>>> f(2)`` / ``4``). The result is only shown to the
model; the real tests still judge.
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from dataclasses import dataclass, field

from code_generation.languages.python.examples import (
    _EQUAL,
    _assert_kind,
    _call_name,
    _DropSelf,
    _literals,
    _statement,
    _unparse,
)
from code_generation.languages.python.signatures import (
    dataclass_fields,
    is_dataclass,
    params_from_calls,
    signature_from_prompt,
    unique,
)

MAX_EXAMPLE_LINES = 60  # per stub: enough for a typical test file, short for a small model


@dataclass
class _Stub:
    name: str
    is_class: bool
    params: list[str] = field(default_factory=list)
    methods: dict[str, list[str]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    dataclass: bool = False


def _test_bodies(tree: ast.Module) -> list[tuple[str, list[ast.stmt], list[ast.stmt]]]:
    """(test name, setUp statements of its class, statements)."""
    found: list[tuple[str, list[ast.stmt], list[ast.stmt]]] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            setup: list[ast.stmt] = []
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "setUp":
                    setup = item.body
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    found.append((item.name, setup, item.body))
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            found.append((node.name, [], node.body))
    return found


def _names_in(stmts: list[ast.stmt]) -> set[str]:
    return {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)}


def _calls(stmts: list[ast.stmt], name: str) -> list[ast.Call]:
    return [
        n for s in stmts for n in ast.walk(s)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def _methods(stmts: list[ast.stmt], class_name: str) -> dict[str, list[str]]:
    """Methods called on instances of the class (names bound to ``ClassName(...)``)."""
    instances: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if isinstance(func, ast.Name) and func.id == class_name:
                instances.update(_unparse(t) for t in stmt.targets)
    methods: dict[str, list[ast.Call]] = {}
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = _unparse(node.func.value)
                if owner in instances or owner == class_name:
                    methods.setdefault(node.func.attr, []).append(node)
    return {name: params_from_calls(calls) for name, calls in methods.items()}


def _instances(stmts: list[ast.stmt], names: list[str]) -> dict[str, str]:
    """Variables bound to an instance of an imported class (``cart = Cart()``), to their class."""
    found: dict[str, str] = {}
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            cls = _call_name(stmt.value)
            if cls in names:
                found.update((_unparse(t), cls) for t in stmt.targets)
    return found


def _is_assertion(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Assert) or (isinstance(stmt, ast.Expr) and _assert_kind(stmt.value)):
        return True
    if isinstance(stmt, ast.With) and any(_call_name(i.context_expr).startswith("assert") for i in stmt.items):
        return True
    return isinstance(stmt, ast.For | ast.While | ast.If | ast.With) and any(
        _is_assertion(inner) for inner in stmt.body
    )


def _checked(stmt: ast.stmt) -> ast.AST:
    """What an assertion checks: the actual side of ``assertEqual``, the call that should raise."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and stmt.value.args:
        return stmt.value.args[0]
    if isinstance(stmt, ast.With | ast.For) and stmt.body:
        return _checked(stmt.body[0])
    return stmt


def _owner(stmt: ast.stmt, names: list[str], instances: dict[str, str]) -> str | None:
    """The imported name an assertion is about: the outermost one in what it checks."""
    for where in (_checked(stmt), stmt):
        for node in ast.walk(where):  # breadth first: ``decode(encode(x))`` is about decode
            if isinstance(node, ast.Name):
                if node.id in names:
                    return node.id
                if node.id in instances:
                    return instances[node.id]
    return None


def _inlined(stmts: list[ast.stmt], consts: dict[str, str]) -> set[str]:
    """Literal names used only as an assertion's expected value: their assignment need not be shown."""
    loads = [n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    as_expected: list[str] = []
    for stmt in stmts:
        for call in ast.walk(stmt):
            if isinstance(call, ast.Call) and _assert_kind(call) in _EQUAL:
                as_expected += [a.id for a in call.args[:2] if isinstance(a, ast.Name) and a.id in consts]
    return {name for name in set(as_expected) if loads.count(name) == as_expected.count(name)}


def _examples_by_owner(
    setup: list[ast.stmt], stmts: list[ast.stmt], names: list[str], default: str
) -> dict[str, list[ast.stmt]]:
    """Each assertion goes to the name it checks, preceded by the earlier steps it depends on."""
    everything = [*setup, *stmts]
    instances = _instances(everything, names)
    hidden = _inlined(everything, _literals(everything))
    steps = [
        s for s in everything
        if not (isinstance(s, ast.Assign) and all(isinstance(t, ast.Name) and t.id in hidden for t in s.targets))
    ]
    owners = {id(s): _owner(s, names, instances) or default for s in steps if _is_assertion(s)}
    if len(set(owners.values())) <= 1:  # one name checked: the whole test, in order
        return {next(iter(owners.values()), default): steps}
    out: dict[str, list[ast.stmt]] = {}
    for index, stmt in enumerate(steps):
        if id(stmt) not in owners:
            continue
        needed = _names_in([stmt])
        chosen = [stmt]
        for earlier in reversed(steps[:index]):  # the steps that bind or touch what it uses
            if id(earlier) not in owners and _names_in([earlier]) & needed:
                chosen.insert(0, earlier)
                needed |= _names_in([earlier])
        shown = out.setdefault(owners[id(stmt)], [])
        shown.extend(s for s in chosen if all(s is not t for t in shown))
    return out


def _mentioned_at(name: str, prompt: str) -> int:
    """Where the request first names a stub (``name(`` preferred), or -1."""
    match = re.search(rf"\b{re.escape(name)}\(", prompt) or re.search(rf"\b{re.escape(name)}\b", prompt)
    return match.start() if match else -1


# What joins one stub's part of a request to the next: ", and a class", "; ", " and ".
_TRAILING = re.compile(r"[\s,;:]*(\band\b)?\s*(\b(a|an|the|two|one)\b)?\s*(\b(class|function|method|dataclass)\b)?[\s,;:]*$")


# The end of a sentence inside a request: ". ", ".) ", '." ' or a line break after the stop.
_SENTENCE_END = re.compile(r"[.!?][)\]\"']*\s+(?=\S)")


def _descriptions(names: list[str], prompt: str) -> dict[str, str]:
    """The part of a request about each stub: from its first mention to the next stub's."""
    found = sorted((at, name) for name in names if (at := _mentioned_at(name, prompt)) >= 0)
    out: dict[str, str] = {}
    if not found:  # the request names none of them: each stub shows only its examples
        return out
    for (at, name), following in zip(found, [*found[1:], (len(prompt), "")], strict=True):
        clause = _TRAILING.sub("", prompt[at : following[0]]).strip()
        ends = list(_SENTENCE_END.finditer(clause))
        tail = clause[ends[-1].end():] if ends else ""
        if tail and len(tail.split()) <= 4 and not tail.endswith("."):  # "... a separator. Also write"
            clause = clause[: ends[-1].end()].rstrip()
        if clause and clause != name:
            ended = clause.rstrip(")]\"'").endswith((".", "!", "?"))
            out[name] = clause.rstrip(",;") + ("" if ended else ".")
    return out


def _stdlib_imports(tree: ast.Module, module_name: str) -> list[str]:
    """The test file's own standard-library imports (``import dataclasses``), which examples may use;
    not ``__future__`` ones, which would have to come first and mean nothing to the module."""
    def wanted(module: str) -> bool:
        root = module.split(".")[0]
        return root in sys.stdlib_module_names and root not in {"unittest", "doctest", "__future__", module_name}

    lines = []
    for node in tree.body:
        if isinstance(node, ast.Import) and (kept := [a for a in node.names if wanted(a.name)]):
            lines.append(_unparse(ast.Import(names=kept)))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and wanted(node.module):
            lines.append(_unparse(node))
    return lines


def module_skeleton(test_source: str, module_name: str, names: list[str], prompt: str) -> str:
    """A stub per imported name, with the request and the tests as doctest examples.

    Stubs come in the order the request names them, each with its part of the request; each
    assertion becomes an example of the name it checks (``decode(encode(x))`` is decode's).
    """
    tree = ast.parse(test_source)
    bodies = [
        ([_DropSelf().visit(s) for s in setup], [_DropSelf().visit(s) for s in stmts])
        for _name, setup, stmts in _test_bodies(tree)
    ]
    all_stmts = [s for setup, stmts in bodies for s in [*setup, *stmts]]
    order = sorted(names, key=lambda n: (_mentioned_at(n, prompt) < 0, max(_mentioned_at(n, prompt), 0)))
    stubs: dict[str, _Stub] = {}
    for name in order:
        is_class = name[:1].isupper()
        stub = _Stub(name, is_class, dataclass=is_class and is_dataclass(name, test_source, prompt))
        stub.params = signature_from_prompt(name, prompt) or params_from_calls(_calls(all_stmts, name))
        if is_class:
            stub.methods = {
                method: signature_from_prompt(method, prompt) or params
                for method, params in _methods(all_stmts, name).items()
            }
        stubs[name] = stub
    shown_setup: set[str] = set()
    for setup, stmts in bodies:
        in_body, in_setup = _names_in(stmts), _names_in(setup)
        default = next((n for n in order if n in in_body), None) or next((n for n in order if n in in_setup), None)
        default = default or (order[0] if order else None)
        if default is None:
            continue
        consts = _literals([*setup, *stmts])
        for owner, steps in _examples_by_owner(setup, stmts, order, default).items():
            stub = stubs[owner]
            lines = [
                line for s in steps
                if not (any(s is t for t in setup) and f"{owner}:{_unparse(s)}" in shown_setup)
                for line in _statement(s, consts)
            ]
            if len(stub.examples) + len(lines) <= MAX_EXAMPLE_LINES:
                stub.examples.extend(lines)
                shown_setup.update(f"{owner}:{_unparse(s)}" for s in setup)
    imports = _stdlib_imports(tree, module_name)
    if any(stub.dataclass for stub in stubs.values()) and "import dataclasses" not in imports:
        imports.insert(0, "import dataclasses")
    # One stub: the request is its docstring (HumanEval's shape). Several: the module's docstring,
    # and each stub gets the part of it that is about that stub.
    if len(stubs) == 1:
        parts = [_render(stub, prompt, prompt) for stub in stubs.values()]
    else:
        described = _descriptions(order, prompt)
        parts = [_docstring(prompt, [], "")] if prompt else []
        parts += [_render(stub, described.get(stub.name, ""), prompt) for stub in stubs.values()]
    head = "\n".join(imports)
    if head and parts and parts[0].startswith('"""'):
        parts[0] = f"{parts[0]}\n\n{head}"
    elif head:
        parts.insert(0, head)
    return "\n\n\n".join(parts) + "\n"


def _docstring(prompt: str, examples: list[str], indent: str) -> str:
    body: list[str] = []
    if prompt:
        body.extend(textwrap.wrap(" ".join(prompt.split()), 88))
    if examples:
        if body:
            body.append("")
        body.extend(examples)
    text = "\n".join(body)
    quote = "'''" if '"""' in text else '"""'
    if quote in text or "\0" in text:  # both kinds of triple quote, or a NUL: escape, as a last resort
        text = text.replace("\\", "\\\\").replace(quote, "\\" + "\\".join(quote)).replace("\0", "\\x00")
        prefix = ""
    else:  # raw, so the examples read exactly as the tests wrote them
        prefix = "r" if "\\" in text else ""
    # One line says it all ("""Returns 0 if it is unknown."""), unless its end would run into the
    # closing quotes: a text ending in the quote character, or (raw) in a backslash.
    if len(body) == 1 and not examples and not text.endswith((quote[0], "\\")):
        return indent + prefix + quote + text + quote
    opening = "" if prompt else "\n" + indent  # examples alone start on a line of their own
    return indent + prefix + quote + opening + textwrap.indent(text, indent).lstrip() + "\n" + indent + quote


def _render(stub: _Stub, description: str, prompt: str) -> str:
    if not stub.is_class:
        return f"def {stub.name}({', '.join(unique(stub.params))}):\n" + _docstring(description, stub.examples, "    ")
    head = ["@dataclasses.dataclass"] if stub.dataclass else []
    lines = [*head, f"class {stub.name}:", _docstring(description, stub.examples, "    ")]
    if stub.dataclass:
        lines.append("\n" + "\n".join(f"    {line}" for line in dataclass_fields(stub.params, prompt)))
    elif stub.params or stub.methods:
        # Shown even without parameters: asked to fill only the methods the tests call, a small
        # model uses state (`self.items[...]`) that no __init__ creates.
        lines.append(f"\n    def __init__({', '.join(['self', *unique(stub.params, ('self',))])}):\n        ...")
    notes = _method_notes(list(stub.methods), description)
    for method, params in stub.methods.items():
        doc = _docstring(notes[method], [], "        ") + "\n" if method in notes else ""
        lines.append(f"\n    def {method}({', '.join(['self', *unique(params, ('self',))])}):\n{doc}        ...")
    return "\n".join(lines)


def _method_notes(methods: list[str], description: str) -> dict[str, str]:
    """Each method's own part of its class's description, when the request describes every one.

    Shown the whole class's description once, a small model hands one method's rule (an error
    to raise) to another; the clause under the method's own ``def`` keeps each rule with its
    method. A request that lists the methods and describes them
    together ("methods a(x), b(y) and c(z) that ...") gives no note at all: the note would hand
    the shared rule to the last method only.
    """
    named = [m for m in methods if re.search(rf"\b{re.escape(m)}\(", description)]
    if not named:
        return {}
    notes = _descriptions(named, description)
    own_words = {
        m: re.sub(rf"^{re.escape(m)}\([^)]*\)", "", notes.get(m, "")).strip(" .,;:")
        for m in named
    }
    if any(len(words.split()) < 2 for words in own_words.values()):
        return {}
    return {m: notes[m] for m in named}
