"""What the loop tests share: a prime-sum task, replies to it, and a spy on the engine.

Several test modules drive the loop with this same task, so its sources and the observer
live here once instead of in any one test module.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.loop import Attempt, CodeTask, LoopSettings
from code_generation.sandbox.runner import SandboxLimits
from my_llm.models.usage import CallUsage

TESTS = '''import unittest

from prime_numbers import prime_sum


class TestPrimeNumberFunctions(unittest.TestCase):
    def test_sum_of_first_100_prime_numbers(self):
        self.assertEqual(prime_sum(100), 24133)

    def test_sum_of_first_10_prime_numbers(self):
        self.assertEqual(prime_sum(10), 129)

    def test_zero(self):
        self.assertEqual(prime_sum(0), 0)


if __name__ == '__main__':
    unittest.main()
'''

RIGHT = '''```python
def prime_sum(n):
    primes = []
    candidate = 2
    while len(primes) < n:
        if all(candidate % p for p in primes):
            primes.append(candidate)
        candidate += 1
    return sum(primes)
```'''

# Passes only test_zero: sums the first n integers from 2.
WRONG = '''```python
def prime_sum(n):
    return sum(range(2, n + 2)) if n else 0
```'''

# Passes nothing.
WORSE = '''```python
def prime_sum(n):
    return -1
```'''


class Spy:
    """Keeps what the engine sent to the model and every attempt, as an observer would."""

    def __init__(self) -> None:
        self.prompts: list[list[BaseMessage]] = []
        self.attempts: list[Attempt] = []
        self.events: list[str] = []

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.prompts.append(list(messages))

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        self.attempts.append(attempt)

    def event(self, message: str) -> None:
        self.events.append(message)


def task() -> CodeTask:
    return CodeTask("Compute the sum of the first N prime numbers", "prime_numbers", TESTS, "test_prime_numbers.py")


SETTINGS = LoopSettings(max_iterations=3, limits=SandboxLimits(timeout=20))
