"""Reference solution for examples/word_frequency, written from prompt.txt."""

import re
from collections import Counter


def word_counts(text: str) -> dict[str, int]:
    """Lowercase word -> count; a word is a run of letters a-z, case-insensitive."""
    return dict(Counter(word.lower() for word in re.findall(r"[A-Za-z]+", text)))


def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The n most frequent words as (word, count), by count descending, then alphabetically."""
    ranked = sorted(word_counts(text).items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:n]
