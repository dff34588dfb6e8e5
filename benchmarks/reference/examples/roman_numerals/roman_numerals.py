"""Reference solution for examples/roman_numerals, written from prompt.txt."""

NUMERALS = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]


def to_roman(n: int) -> str:
    """n (1 to 3999) as an uppercase Roman numeral; ValueError outside that range."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 3999:
        raise ValueError(f"only integers from 1 to 3999 have a Roman numeral, not {n!r}")
    parts: list[str] = []
    for value, numeral in NUMERALS:
        count, n = divmod(n, value)
        parts.append(numeral * count)
    return "".join(parts)


def from_roman(s: str) -> int:
    """The integer of a standard Roman numeral; ValueError if s is not one."""
    total, i = 0, 0
    for value, numeral in NUMERALS:
        while s.startswith(numeral, i):
            total += value
            i += len(numeral)
    if i != len(s) or not 1 <= total <= 3999 or to_roman(total) != s:
        raise ValueError(f"not a standard Roman numeral: {s!r}")
    return total
