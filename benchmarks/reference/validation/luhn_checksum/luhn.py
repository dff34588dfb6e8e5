"""Reference solution for benchmarks/validation/luhn_checksum, written from prompt.txt."""


def _luhn_sum(digits: str) -> int:
    """The Luhn sum of a string of digits 0-9, doubling every second digit from the right."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def _digits(text: str) -> str | None:
    """text without spaces, or None when anything else is not a digit 0-9."""
    digits = text.replace(" ", "")
    if not all(char in "0123456789" for char in digits):
        return None
    return digits


def luhn_valid(number: str) -> bool:
    """True if number (spaces ignored) has at least two digits and passes the Luhn checksum."""
    digits = _digits(number)
    if digits is None or len(digits) < 2:
        return False
    return _luhn_sum(digits) % 10 == 0


def luhn_check_digit(partial: str) -> int:
    """The digit that, appended to partial, makes a valid Luhn number."""
    digits = _digits(partial)
    if digits is None:
        raise ValueError(f"not a digit string: {partial!r}")
    return (10 - _luhn_sum(digits + "0") % 10) % 10
