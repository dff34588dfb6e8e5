"""Reference solution for benchmarks/validation/parse_duration, written from prompt.txt."""

import re

UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
PATTERN = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")


def parse_duration(text: str) -> int:
    """"1h30m" -> 5400: digits and a unit d, h, m or s, units in that order, each at most once."""
    match = PATTERN.fullmatch(text) if isinstance(text, str) else None
    if not text or match is None:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(number) * seconds
               for number, (_, seconds) in zip(match.groups(), UNITS, strict=True) if number)


def format_duration(seconds: int) -> str:
    """5400 -> "1h30m", largest units first, zero parts left out; 0 -> "0s"."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"seconds must be a non-negative int, got {seconds!r}")
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
