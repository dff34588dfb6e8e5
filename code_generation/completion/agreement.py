"""Choosing among completions the analyzers all accept, by what they do (MBR-exec: Shi et al., 2022).

Analyzers catch code that cannot run; a wrong result runs fine. When several candidates pass
every analyzer, the one whose results most of the others share on the same inputs is the most
likely to be right: wrong programs tend to be wrong in different ways. The inputs are the calls
in the function's own docstring examples and calls the model proposes from the function's header
(calls only, never expected values, so the model cannot be wrong about them, only more or less
thorough). Every argument is a literal, checked with `ast.literal_eval` before it is written
into the probe file; every candidate runs in the project's sandbox, one run each, and only
the digests of its results (with the arguments after the call, for functions that work in place)
come back. No hidden test is read: this chooses, it does not judge.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from code_generation.languages.python.signatures import is_literal
from code_generation.sandbox.runner import SandboxLimits, run_tests

PROBE_COUNT = 8  # calls asked of the model
MAX_PROBES = 12  # calls run per candidate, docstring examples first
PROBE_FILE = "test_agreement_probes.py"
_MARK = re.compile(r"\[\[probe:([\w-]+)\]\]")
NO_RESULT = "no-result"
PROBE_SECONDS = 10.0  # per candidate: a proposed input too large for a slow program gives no result


@dataclass(frozen=True)
class Target:
    """The function the completion writes or finishes: its name and its header as the file has it."""

    name: str
    header: str
    docstring: str


def target(text: str, first_line: int, last_line: int) -> Target | None:
    """The top-level function whose lines the completion touches, or None (a method, a class, a script)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.splitlines()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not (node.lineno <= last_line and (node.end_lineno or 0) >= first_line):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        docstring = ast.get_docstring(node) or ""
        first = node.body[0]
        end = (first.end_lineno or first.lineno) if docstring else max(node.lineno, first.lineno - 1)
        return Target(node.name, "\n".join(lines[start - 1:end]), docstring)
    return None


def literal_call(line: str, name: str) -> str | None:
    """``name(literal, key=literal)`` as normalised source, or None for anything else."""
    try:
        node = ast.parse(line.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name):
        return None
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return None
    if not all(is_literal(a) for a in node.args) or not all(is_literal(k.value) for k in node.keywords):
        return None
    return ast.unparse(node)


def calls_in(text: str, name: str) -> list[str]:
    """The literal calls of `name` in a text, one per line (``>>>`` prompts allowed), in order, once each."""
    found: list[str] = []
    for line in text.splitlines():
        stripped = line.strip().removeprefix(">>>").strip()
        call = literal_call(stripped, name) if stripped.startswith(name) else None
        if call is not None and call not in found:
            found.append(call)
    return found


_CANON = '''
def _canon(value, depth=0):
    """The value as text that two equal results share (sets and dicts in sorted order)."""
    if depth > 30:
        return "..."
    if isinstance(value, (set, frozenset)):
        return type(value).__name__ + "{" + ",".join(sorted(_canon(v, depth + 1) for v in value)) + "}"
    if isinstance(value, dict):
        items = sorted(_canon(k, depth + 1) + ":" + _canon(v, depth + 1) for k, v in value.items())
        return "dict{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + "[" + ",".join(_canon(v, depth + 1) for v in value) + "]"
    if isinstance(value, float):
        return "float:" + repr(round(value, 9))
    if hasattr(value, "__next__"):
        return "iter[" + ",".join(_canon(v, depth + 1) for v in itertools.islice(value, 1000)) + "]"
    return type(value).__name__ + ":" + repr(value)
'''


def probe_source(module_name: str, name: str, calls: list[str]) -> str:
    """A unittest file whose test i calls the function with the arguments of call i and fails with
    a digest of what came back (or the exception's type), so each case's message carries it."""
    tests = []
    for index, call in enumerate(calls):
        node = ast.parse(call, mode="eval").body
        assert isinstance(node, ast.Call)
        args = ", ".join(ast.unparse(a) for a in node.args)
        kwargs = ", ".join(f"{k.arg!r}: {ast.unparse(k.value)}" for k in node.keywords)
        tests.append(f"    def test_p{index:02d}(self):\n        self._probe([{args}], {{{kwargs}}})\n")
    return (f"import hashlib\nimport itertools\nimport unittest\n\nfrom {module_name} import {name} as _target\n"
            f"{_CANON}\n\nclass Probes(unittest.TestCase):\n"
            "    def _probe(self, args, kwargs):\n"
            "        try:\n"
            "            value = _target(*args, **kwargs)\n"
            "            shown = hashlib.sha256(_canon((value, args, kwargs)).encode()).hexdigest()[:16]\n"
            "        except Exception as exc:\n"
            "            shown = 'raises-' + type(exc).__name__\n"
            "        self.fail('[[probe:' + shown + ']]')\n\n" + "\n".join(tests))


def behaviour(text: str, module_name: str, name: str, calls: list[str], limits: SandboxLimits) -> tuple[str, ...]:
    """What the completed file does on each call, run in the sandbox: a digest, ``raises-X`` or no result."""
    limits = replace(limits, timeout=min(limits.timeout, PROBE_SECONDS))
    result = run_tests(text, module_name, probe_source(module_name, name, calls), PROBE_FILE, limits=limits)
    by_test: dict[str, str] = {}
    for case in result.cases:
        found = _MARK.search(case.message or "")
        by_test[case.name.rsplit(".", 1)[-1]] = found.group(1) if found else NO_RESULT
    return tuple(by_test.get(f"test_p{i:02d}", NO_RESULT) for i in range(len(calls)))


def agreement(behaviours: list[tuple[str, ...]], weights: list[int] | None = None) -> list[int]:
    """For each distinct candidate, how many (other candidate, input) pairs gave the same result.

    `weights[i]` is how many candidates wrote program i (its copies agree with it everywhere it
    gave a result); no result counts nothing.
    """
    weights = weights or [1] * len(behaviours)
    scores = []
    for i, mine in enumerate(behaviours):
        shared = sum(weights[j] for j, theirs in enumerate(behaviours) if j != i
                     for a, b in zip(mine, theirs, strict=True) if a == b and a != NO_RESULT)
        scores.append(shared + (weights[i] - 1) * sum(1 for a in mine if a != NO_RESULT))
    return scores
