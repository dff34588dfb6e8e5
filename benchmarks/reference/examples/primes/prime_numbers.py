"""Reference solution for examples/primes.

The prompt ("Compute the sum of the first N prime numbers") is kept verbatim from the old
project and names no function; the test file imports ``prime_sum(n)``, so that is the name used.
"""


def first_primes(n: int) -> list[int]:
    """The first n prime numbers."""
    primes: list[int] = []
    candidate = 2
    while len(primes) < n:
        if all(candidate % p for p in primes if p * p <= candidate):
            primes.append(candidate)
        candidate += 1
    return primes


def prime_sum(n: int) -> int:
    """The sum of the first n prime numbers (0 for n = 0)."""
    return sum(first_primes(n))
