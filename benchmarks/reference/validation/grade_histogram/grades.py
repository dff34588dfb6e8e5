"""Reference solution for benchmarks/validation/grade_histogram, written from prompt.txt."""

from collections.abc import Iterable


def letter_grade(score: float) -> str:
    """A (90+), B (80-89.x), C (70-79.x), D (60-69.x), F (below 60); ValueError outside 0-100."""
    if not 0 <= score <= 100:
        raise ValueError(f"score must be from 0 to 100, got {score!r}")
    for bound, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
        if score >= bound:
            return letter
    return "F"


def grade_histogram(scores: Iterable[float]) -> dict[str, int]:
    """{"A": n, "B": n, "C": n, "D": n, "F": n}: how many scores get each letter."""
    histogram = dict.fromkeys("ABCDF", 0)
    for score in scores:
        histogram[letter_grade(score)] += 1
    return histogram
