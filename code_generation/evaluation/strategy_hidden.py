"""A strategy for tasks whose tests the search may not see (HumanEval's hidden tests).

The loop is judged only by the request's own docstring examples (``>>>`` lines, and prose lines
like ``f(1) == 2``), turned into a test file; among the attempts that pass the most of them, agreement on the example calls picks
one (complete-file's rule, code_generation/completion/agreement.py); only that pick meets the
hidden tests, once, for the verdict. Nothing the hidden tests say reaches the model or the choice.
"""

from __future__ import annotations

import ast
import doctest
import re
from collections import Counter
from dataclasses import replace

from code_generation.completion import agreement
from code_generation.evaluation.strategies import StrategyContext, register_strategy, run_with
from code_generation.languages import close_sandbox, get_language
from code_generation.languages.python import extract
from code_generation.sandbox.runner import SandboxLimits
from code_generation.types import Attempt, CodeTask, LoopOutcome, digest, rank

VISIBLE_FILE = "test_docstring_examples.py"


def _expected(want: str) -> str | None:
    """The expected value as Python source: the literal doctest shows, else None."""
    try:
        node = ast.parse(want.strip(), mode="eval")
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return ast.unparse(node.body)  # as source again: a trailing comment in the docstring dropped


def _code(prompt: str) -> list[ast.Module]:
    """The prompt's code that parses: its fenced blocks, else the whole text."""
    trees = []
    for block in extract.code_blocks(prompt) or [prompt]:
        try:
            trees.append(ast.parse(block))
        except (SyntaxError, ValueError):
            continue
    return trees


def _docstrings(prompt: str) -> list[str]:
    """The docstrings of the functions in the prompt's code."""
    return [doc for tree in _code(prompt) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (doc := ast.get_docstring(node))]


# Prose examples: "f(1, 2) == 3", "f([1]) ➞ 1", "f(x) => y", "f(x) -> y", "f(x) should return y".
_PROSE = re.compile(r"^\s*(?:for example:?\s*|e\.g\.?\s*)?(?P<call>\w+\(.*\))\s*"
                    r"(?:==|➞|=>|->|should return|returns?)\s*(?P<want>.+?)\.?\s*$", re.IGNORECASE)


def _called_name(source: str) -> str | None:
    """The function a call with literal arguments only calls, else None: such a call needs nothing
    the example set up (prose examples often write strings unquoted: ``is_happy(a)``)."""
    name = source.split("(", 1)[0].strip()
    return name if name.isidentifier() and agreement.literal_call(source, name) is not None else None


def _doctest_pairs(docstring: str) -> list[tuple[str, str | None]]:
    try:
        return [(e.source.strip(), _expected(e.want)) for e in doctest.DocTestParser().get_examples(docstring)]
    except ValueError:  # malformed doctest text: nothing to go on
        return []


def examples_of(prompt: str) -> list[tuple[str, str]]:
    """(call, expected literal) for each example in the prompt's docstrings, once each: ``>>>``
    examples that show a literal result, and prose lines like ``f(1) == 2`` or ``f(1) ➞ 2``."""
    pairs: list[tuple[str, str]] = []
    for docstring in _docstrings(prompt):
        found = _doctest_pairs(docstring)
        found += [(m["call"], _expected(m["want"])) for line in docstring.splitlines()
                  if ">>>" not in line and (m := _PROSE.match(line))]
        for source, expected in found:
            if expected is not None and _called_name(source) and (source, expected) not in pairs:
                pairs.append((source, expected))
    return pairs


def defined_names(prompt: str) -> list[str]:
    """The top-level functions the prompt's code defines: what a module without examples must provide."""
    return [n.name for tree in _code(prompt) for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def visible_tests(module_name: str, examples: list[tuple[str, str]], names: list[str] | None = None) -> str:
    """A unittest file with one test per docstring example; without examples, one that checks the
    module defines the prompt's functions (`names`), else that it imports."""
    lines = ["import importlib", "import unittest", "", f"from {module_name} import *  # noqa: F403", "", "",
             "class TestDocstringExamples(unittest.TestCase):"]
    width = len(str(len(examples)))
    for number, (source, expected) in enumerate(examples, start=1):
        lines += [f"    def test_example_{number:0{width}d}(self):", f"        self.assertEqual({source}, {expected})", ""]
    if not examples:
        checks = [f"        self.assertTrue(callable({name}))  # noqa: F405" for name in names or []]
        lines += ["    def test_defines_the_functions(self):",
                  *(checks or [f"        self.assertIsNotNone(importlib.import_module({module_name!r}))"]), ""]
    return "\n".join([*lines, "", "if __name__ == '__main__':", "    unittest.main()", ""])


def _called(examples: list[tuple[str, str]]) -> tuple[str, list[str]] | None:
    """The function the examples call most, and its literal calls (agreement's inputs)."""
    names = Counter(name for source, _ in examples if (name := _called_name(source)))
    if not names:
        return None
    name = names.most_common(1)[0][0]
    calls = [call for source, _ in examples if (call := agreement.literal_call(source, name)) is not None]
    return (name, calls) if calls else None


def pick(attempts: list[Attempt], module_name: str, examples: list[tuple[str, str]],
         limits: SandboxLimits) -> Attempt | None:
    """Of the attempts that pass the most examples, the one whose results on the example calls the
    others share most (copies count); ties go to the earliest."""
    tested = [a for a in attempts if a.code is not None and a.result is not None and not a.tampered]
    if not tested:
        return None
    top = max(rank(a)[:3] for a in tested)
    leaders = [a for a in tested if rank(a)[:3] == top]
    programs: dict[str, list[Attempt]] = {}
    for attempt in leaders:
        programs.setdefault(digest(attempt.code or ""), []).append(attempt)
    heads = [group[0] for group in programs.values()]
    called = _called(examples)
    if len(heads) == 1 or called is None:
        return heads[0]
    name, calls = called
    behaviours = [agreement.behaviour(h.code or "", module_name, name, calls, limits) for h in heads]
    scores = agreement.agreement(behaviours, [len(g) for g in programs.values()])
    return heads[max(range(len(heads)), key=lambda i: (scores[i], -i))]


@register_strategy("loop_examples", "the loop sees only the docstring's examples; agreement picks; hidden tests judge")
def loop_examples(task: CodeTask, ctx: StrategyContext) -> LoopOutcome:
    """The loop judged by the request's ``>>>`` examples only, then its pick judged once by the task's tests.

    With no usable example the loop has nothing to test against, so it makes one round, whose
    candidates agreement cannot tell apart: the first is taken.
    """
    examples = examples_of(task.prompt)
    source = visible_tests(task.module_name, examples, defined_names(task.prompt))
    visible = replace(task, test_source=source, test_filename=VISIBLE_FILE)
    outcome = run_with(visible, ctx, **({} if examples else {"max_iterations": 1}))
    chosen = pick(outcome.attempts, task.module_name, examples, ctx.settings.limits)
    if chosen is None or chosen.code is None:
        return replace(outcome, success=False, best=None)
    sandbox = ctx.sandbox or get_language(task.language).make_sandbox(ctx.settings)
    try:
        hidden = sandbox(chosen.code, task.module_name, task.test_source, task.test_filename, limits=ctx.settings.limits)
    finally:
        if ctx.sandbox is None:
            close_sandbox(sandbox)
    judged = replace(chosen, result=hidden, notes=[*chosen.notes, "judged by the hidden tests"])
    return replace(outcome, success=hidden.success, best=judged,
                   tests_total=hidden.tests_run or outcome.tests_total)
