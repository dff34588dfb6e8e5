"""What the sandbox runner's tests share: a module under test and a way to run tests on it.

Both test_runner.py (ordinary test files) and test_runner_hostile.py (code that attacks the
sandbox) run test sources against the same prime-sum module, so the helpers live here once.
"""

from __future__ import annotations

import textwrap

from code_generation.sandbox.runner import CaseResult, SandboxLimits, SandboxResult, run_tests

MODULE = textwrap.dedent('''
    def prime_sum(n):
        """Sum of the first n primes."""
        primes, k = [], 2
        while len(primes) < n:
            if all(k % p for p in primes):
                primes.append(k)
            k += 1
        return sum(primes)
''')

FAST = SandboxLimits(timeout=20)

# One check of the module, for tests about what happens before any test runs (imports, exits).
ONE_TEST = '''
    import unittest
    from prime_numbers import prime_sum

    class T(unittest.TestCase):
        def test_x(self):
            self.assertEqual(prime_sum(1), 2)
'''


def run(test_source: str, module_source: str = MODULE, limits: SandboxLimits = FAST,
        **kwargs) -> SandboxResult:
    return run_tests(module_source, "prime_numbers", textwrap.dedent(test_source),
                     "test_prime_numbers.py", limits=limits, **kwargs)


def case(result: SandboxResult, name: str) -> CaseResult:
    found = [c for c in result.cases if c.name == name]
    assert found, f"no case {name!r} in {[c.name for c in result.cases]}"
    return found[0]
