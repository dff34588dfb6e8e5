"""Reference solution for examples/fizzbuzz, written from prompt.txt."""


def fizzbuzz(n: int) -> list[str]:
    """Fizz (3), Buzz (5), Bazz (7), joined in that order, else the number, for 1..n."""
    result: list[str] = []
    for i in range(1, n + 1):
        word = ""
        for divisor, name in ((3, "Fizz"), (5, "Buzz"), (7, "Bazz")):
            if i % divisor == 0:
                word += name
        result.append(word or str(i))
    return result
