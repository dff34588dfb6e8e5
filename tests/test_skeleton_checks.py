"""Checks inside loops (subTest, assertRaises) rendered into the skeleton as examples that run,
or as plain sentences: never as ``with subTest(...):`` lines, which are neither doctest nor code."""

from __future__ import annotations

import ast
import doctest

from code_generation.languages.python.skeleton import module_skeleton

GRADES = '''import unittest

from grades import letter_grade


class TestGrades(unittest.TestCase):
    def test_letters(self):
        cases = {100: "A", 80: "B", 0: "F"}
        for score, letter in cases.items():
            with self.subTest(score=score):
                self.assertEqual(letter_grade(score), letter)

    def test_out_of_range_raises(self):
        for score in (-1, 101):
            with self.subTest(score=score):
                with self.assertRaises(ValueError):
                    letter_grade(score)

    def test_pairs_raise(self):
        for low, high in [(5, 1), (3, 2)]:
            with self.assertRaises(ValueError):
                letter_grade(low, high)

    def test_many_checks_per_pass(self):
        for score in range(90, 101):
            with self.subTest(score=score):
                self.assertEqual(letter_grade(score), "A")
                self.assertTrue(letter_grade(score).isupper())

    def test_raises_in_a_nested_block(self):
        for score in range(3):
            if score:
                with self.assertRaises(TypeError):
                    letter_grade(str(score))
'''

BAD_NAMES = '''import unittest

from grades import letter_grade

BAD = [-1, 101]


class TestGrades(unittest.TestCase):
    def test_bad(self):
        for score in BAD:
            with self.subTest(score=score):
                with self.assertRaises(ValueError):
                    letter_grade(score)
'''


def letter_grade(score: object, high: object = None) -> str:
    """A correct implementation: every example of the skeleton must hold for it."""
    if high is not None:
        raise ValueError("one score")
    if not isinstance(score, int | float):
        raise TypeError("a number")
    if not 0 <= score <= 100:
        raise ValueError("0 to 100")
    return "A" if score >= 90 else "B" if score >= 80 else "F"


def _examples(skeleton: str) -> doctest.TestResults:
    """The skeleton's docstring examples run against `letter_grade`."""
    docstrings = [ast.get_docstring(node) or "" for node in ast.walk(ast.parse(skeleton))
                  if isinstance(node, ast.FunctionDef)]
    test = doctest.DocTestParser().get_doctest("\n".join(docstrings), {"letter_grade": letter_grade}, "skeleton",
                                               None, 0)
    flags = doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL  # the examples name the exception only
    return doctest.DocTestRunner(optionflags=flags).run(test, out=lambda _: None)


def test_no_with_lines_reach_the_skeleton() -> None:
    skeleton = module_skeleton(GRADES, "grades", ["letter_grade"], "Letter grades.")
    assert "subTest" not in skeleton and "assertRaises" not in skeleton
    assert ">>> all(letter_grade(score) == letter for (score, letter) in cases.items())" in skeleton


def test_a_loop_over_a_literal_that_raises_is_written_out_pass_by_pass() -> None:
    skeleton = module_skeleton(GRADES, "grades", ["letter_grade"], "Letter grades.")
    expected = ">>> letter_grade(-1)\n    Traceback (most recent call last):\n        ...\n    ValueError"
    assert expected in skeleton
    assert "letter_grade(101)" in skeleton and "letter_grade(5, 1)" in skeleton and "letter_grade(3, 2)" in skeleton


def test_every_example_runs_and_holds_for_a_correct_module() -> None:
    skeleton = module_skeleton(GRADES, "grades", ["letter_grade"], "Letter grades.")
    results = _examples(skeleton)
    assert results.attempted >= 8 and results.failed == 0


def test_a_loop_over_a_name_becomes_a_sentence() -> None:
    skeleton = module_skeleton(BAD_NAMES, "grades", ["letter_grade"], "Letter grades.")
    assert ">>> # For each score in BAD: letter_grade(score) raises ValueError." in skeleton
    assert "subTest" not in skeleton and "assertRaises" not in skeleton
    assert _examples(skeleton).failed == 0  # a comment is an example with no output


def test_a_stub_description_ends_before_the_next_stubs_sentence_across_a_line_break() -> None:
    tests = (
        "import unittest\nfrom calc import double, halve\n\n\nclass T(unittest.TestCase):\n"
        "    def test_double(self):\n        self.assertEqual(double(2), 4)\n\n"
        "    def test_halve(self):\n        self.assertEqual(halve(4), 2)\n"
    )
    prompt = "Write double(x) that returns twice x (the value added to itself.)\nAlso write halve(x) that returns x // 2."
    skeleton = module_skeleton(tests, "calc", ["double", "halve"], prompt)
    double_doc = skeleton.split("def double")[1].split("def halve")[0]
    assert "(the value added to itself.)" in double_doc
    assert "Also write" not in double_doc and "itself.)." not in double_doc
