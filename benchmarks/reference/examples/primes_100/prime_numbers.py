"""Reference solution for examples/primes_100.

The prompt ("Compute the sum of the first 100 prime numbers") is kept verbatim from the old
project and names no function; the test file calls ``prime_sum()`` with no argument.
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


def prime_sum(n: int = 100) -> int:
    """The sum of the first n prime numbers, by default the first 100 (24133)."""
    return sum(first_primes(n))


if __name__ == "__main__":
    print(prime_sum())
