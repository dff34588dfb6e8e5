"""Reference solution for benchmarks/validation/caesar_cipher, written from prompt.txt."""

import string


def _shift(text: str, shift: int) -> str:
    shift %= 26
    lower, upper = string.ascii_lowercase, string.ascii_uppercase
    table = str.maketrans(lower + upper,
                          lower[shift:] + lower[:shift] + upper[shift:] + upper[:shift])
    return text.translate(table)


def encode(text: str, shift: int) -> str:
    """Move every ASCII letter shift places forward, wrapping around; the rest unchanged."""
    return _shift(text, shift)


def decode(text: str, shift: int) -> str:
    """Undo encode(text, shift)."""
    return _shift(text, -shift)
