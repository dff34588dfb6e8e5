"""Reference solution for examples/run_length_encoding, written from prompt.txt."""

import re
from itertools import groupby


def rle_encode(text: str) -> str:
    """Each run as its count followed by the character: "aaab" -> "3a1b"."""
    return "".join(f"{len(list(run))}{char}" for char, run in groupby(text))


def rle_decode(encoded: str) -> str:
    """Reverse rle_encode; counts may have several digits."""
    pairs = re.findall(r"(\d+)(\D)", encoded, flags=re.DOTALL)
    if "".join(count + char for count, char in pairs) != encoded:
        raise ValueError(f"not a run-length encoded string: {encoded!r}")
    return "".join(char * int(count) for count, char in pairs)
