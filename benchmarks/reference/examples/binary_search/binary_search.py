"""Reference solution for examples/binary_search, written from prompt.txt."""

from collections.abc import Sequence
from typing import Any


def binary_search(items: Sequence[Any], target: Any) -> int:
    """Index of the first occurrence of target in the ascending list items, or -1."""
    low, high = 0, len(items)
    while low < high:  # first index whose item is >= target
        mid = (low + high) // 2
        if items[mid] < target:
            low = mid + 1
        else:
            high = mid
    if low < len(items) and items[low] == target:
        return low
    return -1
