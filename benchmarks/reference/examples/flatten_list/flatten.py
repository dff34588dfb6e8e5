"""Reference solution for examples/flatten_list, written from prompt.txt."""

from typing import Any


def flatten(nested: list[Any]) -> list[Any]:
    """A new flat list of all the non-list items of nested, in order, at any depth."""
    flat: list[Any] = []
    stack = [iter(nested)]
    while stack:  # iterative, so deep nesting does not hit the recursion limit
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat
