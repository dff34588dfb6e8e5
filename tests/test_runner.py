"""The sandbox runner on ordinary test files: what it reports, case by case.

Everything the loop feeds back to the model comes from these results, so the cases, outcomes
and messages must match what the tests really did. Code that tries to hurt us is in
test_runner_hostile.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from code_generation.sandbox.runner import run_doctests, run_tests
from tests.runner_fixtures import FAST, MODULE, ONE_TEST, case, run


def test_all_pass_unittest_file_with_main_guard() -> None:
    result = run('''
        import unittest
        from prime_numbers import prime_sum

        class TestPrimeSum(unittest.TestCase):
            def test_five(self):
                self.assertEqual(prime_sum(5), 28)

            def test_one(self):
                self.assertEqual(prime_sum(1), 2)

        if __name__ == "__main__":
            unittest.main()
    ''')
    assert result.status == "ok", result.message
    assert result.success
    assert (result.tests_run, result.passed, result.failed, result.errors) == (2, 2, 0, 0)
    assert [c.name for c in result.cases] == ["TestPrimeSum.test_five", "TestPrimeSum.test_one"]
    assert all(c.message == "" for c in result.cases)
    assert result.message == ""
    json.dumps(result.to_dict())
    assert result.to_dict()["success"] is True


def test_unguarded_unittest_main_does_not_run_or_exit() -> None:
    result = run('''
        import unittest
        from prime_numbers import prime_sum

        class TestPrimeSum(unittest.TestCase):
            def test_five(self):
                self.assertEqual(prime_sum(5), 28)

        unittest.main()
    ''')
    assert result.status == "ok", result.message
    assert result.success and result.tests_run == 1


def test_one_failure_carries_the_assertion_message() -> None:
    module = MODULE.replace("return sum(primes)", "return sum(primes) - 2")
    result = run('''
        import unittest
        from prime_numbers import prime_sum

        class TestPrimeSum(unittest.TestCase):
            def test_five(self):
                self.assertEqual(prime_sum(5), 28)

            def test_empty(self):
                self.assertEqual(prime_sum(0), -2)
    ''', module_source=module)
    assert result.status == "ok"
    assert not result.success
    assert (result.tests_run, result.passed, result.failed) == (2, 1, 1)
    failed = case(result, "TestPrimeSum.test_five")
    assert failed.outcome == "failed"
    assert "AssertionError: 26 != 28" in failed.message
    assert 'File "test_prime_numbers.py", line 7, in test_five' in failed.message
    assert "harness" not in failed.message and "unittest/case.py" not in failed.message
    assert "TestPrimeSum.test_five" in result.message


def test_error_in_test_shows_module_frame() -> None:
    module = "def prime_sum(n):\n    return n / 0\n"
    result = run('''
        import unittest
        from prime_numbers import prime_sum

        class TestPrimeSum(unittest.TestCase):
            def test_five(self):
                self.assertEqual(prime_sum(5), 28)
    ''', module_source=module)
    assert result.status == "ok"
    err = case(result, "TestPrimeSum.test_five")
    assert err.outcome == "error" and result.errors == 1
    assert "ZeroDivisionError: division by zero" in err.message
    assert 'File "prime_numbers.py", line 2, in prime_sum' in err.message
    assert "/tmp/" not in err.message


def test_import_error_names_the_missing_function() -> None:
    result = run(ONE_TEST, module_source="def sum_primes(n):\n    return 0\n")
    assert result.status == "import_error"
    assert not result.success
    assert "ImportError: cannot import name 'prime_sum' from 'prime_numbers'" in result.message
    assert 'File "test_prime_numbers.py", line 3' in result.message


def test_syntax_error_in_module_is_an_import_error() -> None:
    result = run('''
        from prime_numbers import prime_sum

        def test_x():
            assert prime_sum(1) == 2
    ''', module_source="def prime_sum(n)\n    return 0\n")
    assert result.status == "import_error"
    assert "SyntaxError" in result.message and "prime_numbers.py" in result.message


def test_pytest_style_functions_without_pytest_machinery() -> None:
    result = run('''
        from prime_numbers import prime_sum

        def test_good():
            assert prime_sum(5) == 28

        def test_bad():
            expected = 30
            assert prime_sum(5) == expected, "sum of five primes"

        def test_truthy():
            assert not prime_sum(1)

        def helper():
            raise RuntimeError("not a test")
    ''')
    assert result.status == "ok"
    assert [c.name for c in result.cases] == ["test_good", "test_bad", "test_truthy"]
    assert case(result, "test_good").outcome == "passed"
    bad = case(result, "test_bad")
    assert bad.outcome == "failed"
    assert "assert prime_sum(5) == expected" in bad.message
    assert "where prime_sum(5) = 28" in bad.message and "where expected = 30" in bad.message
    assert "sum of five primes" in bad.message
    assert 'File "test_prime_numbers.py", line 9, in test_bad' in bad.message
    truthy = case(result, "test_truthy")
    assert truthy.outcome == "failed" and "where prime_sum(1) = 2" in truthy.message


def test_pytest_raises_parametrize_and_classes() -> None:
    pytest.importorskip("pytest")
    result = run('''
        import pytest
        from prime_numbers import prime_sum

        @pytest.mark.parametrize("n, expected", [(1, 2), (2, 5), (3, 11)])
        def test_values(n, expected):
            assert prime_sum(n) == expected

        def test_raises():
            with pytest.raises(TypeError):
                prime_sum("x")

        def test_raises_missing():
            with pytest.raises(ValueError):
                prime_sum(1)

        @pytest.mark.skip(reason="later")
        def test_skipped():
            assert False

        class TestGroup:
            def test_method(self):
                assert prime_sum(2) == 5
    ''')
    assert result.status == "ok", result.message
    outcomes = {c.name: c.outcome for c in result.cases}
    assert outcomes == {
        "test_values[1-2]": "passed", "test_values[2-5]": "passed", "test_values[3-11]": "failed",
        "test_raises": "passed", "test_raises_missing": "failed", "test_skipped": "skipped",
        "TestGroup.test_method": "passed",
    }
    assert "where prime_sum(n) = 10" in case(result, "test_values[3-11]").message
    assert "DID NOT RAISE" in case(result, "test_raises_missing").message


def test_skipped_tests_are_not_success() -> None:
    result = run('''
        import unittest

        class T(unittest.TestCase):
            def test_ok(self):
                pass

            @unittest.skip("not yet")
            def test_later(self):
                pass
    ''')
    assert result.status == "ok"
    assert (result.tests_run, result.passed, result.skipped) == (2, 1, 1)
    assert case(result, "T.test_later").outcome == "skipped"
    assert "not yet" in case(result, "T.test_later").message
    assert not result.success


def test_subtests_and_setup_class_errors() -> None:
    result = run('''
        import unittest

        class T(unittest.TestCase):
            def test_sub(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertLess(i, 2)

        class Broken(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise RuntimeError("no fixture")

            def test_never(self):
                pass
    ''')
    assert result.status == "ok"
    sub = case(result, "T.test_sub")
    assert sub.outcome == "failed" and "(i=2)" in sub.message and "2 not less than 2" in sub.message
    broken = [c for c in result.cases if c.name.startswith("setUpClass")]
    assert broken and broken[0].outcome == "error" and "no fixture" in broken[0].message
    assert result.tests_run == result.passed + result.failed + result.errors + result.skipped
    assert not result.success


def test_no_tests_is_not_success() -> None:
    result = run("import prime_numbers\n\ndef helper():\n    pass\n")
    assert result.status == "no_tests"
    assert not result.success and result.tests_run == 0
    assert "no tests" in result.message


def test_extra_files_and_name_validation(tmp_path: Path) -> None:
    result = run('''
        from pathlib import Path
        from helpers import double

        def test_data():
            assert Path("data/input.txt").read_text() == "42"
            assert double(21) == 42
    ''', extra_files={"data/input.txt": "42", "helpers.py": "def double(x):\n    return 2 * x\n"})
    assert result.success, result.cases
    with pytest.raises(ValueError):
        run_tests("", "bad-name", "", "test_x.py")
    with pytest.raises(ValueError):
        run_tests("", "m", "", "../test_x.py")
    with pytest.raises(ValueError):
        run_tests("", "m", "", "test_x.py", extra_files={"../escape.txt": ""})


def test_hash_seed_is_fixed_between_runs() -> None:
    source = '''
        def test_order():
            print(list({"apple", "pear", "plum", "fig", "kiwi", "lime"}))
    '''
    first, second = run(source), run(source)
    assert first.success and second.success
    assert first.stdout == second.stdout and "apple" in first.stdout


def test_doctests_each_docstring_is_a_case() -> None:
    module = textwrap.dedent('''
        def double(x):
            """
            >>> double(2)
            4
            """
            return 2 * x

        def triple(x):
            """
            >>> triple(2)
            6
            >>> triple(3)
            9
            """
            return 3 * x + (x == 3)

        def no_examples():
            """Nothing to run."""
    ''')
    result = run_doctests(module, "arith", limits=FAST)
    assert result.status == "ok", result.message
    assert {c.name: c.outcome for c in result.cases} == {"double": "passed", "triple": "failed"}
    msg = case(result, "triple").message
    assert "triple(3)" in msg and "Expected:" in msg and "10" in msg
    assert not result.success
    passing = run_doctests(module.replace(" + (x == 3)", ""), "arith", limits=FAST)
    assert passing.success
    none = run_doctests("def f():\n    return 1\n", "plain", limits=FAST)
    assert none.status == "no_tests" and not none.success
