"""Picking the module out of a model reply, for any language: which block, and when none is usable.

A language supplies the rules (`BlockRules`: what a block defines, whether it is test code);
the choice itself is the same for every language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Extraction:
    """The module a reply holds (None when it holds none) and what cleaning did."""

    code: str | None
    notes: list[str] = field(default_factory=list)
    syntax_error: str | None = None


@dataclass(frozen=True)
class BlockRules:
    """What a language tells `pick_block`: the names a block defines, whether it is test code,
    whether unfenced text is code, and whether blocks joined together still make one module."""

    defined_names: Callable[[str], set[str]]
    is_test: Callable[[str], bool]
    looks_like_code: Callable[[str], bool]
    joins: Callable[[str], bool]


def unusable(result: Extraction, defined: set[str], required: list[str] | None) -> Extraction | None:
    """No code, with the reason in its notes, when the cleaned module defines nothing or none of
    the names the tests use; None when it can be tested."""
    if not defined:
        return Extraction(code=None, notes=[*result.notes, "the code defines nothing"])
    if required and not defined & set(required):
        wanted = ", ".join(f"`{name}`" for name in required)
        return Extraction(code=None, notes=[*result.notes, f"the code does not define {wanted}"])
    return None


def pick_block(blocks: list[str], reply: str, required: list[str], rules: BlockRules) -> str | None:
    """The module among a reply's code blocks: the longest that defines every name the tests use,
    else the blocks that are not tests, joined when they still make one module; unfenced code
    when the reply has no block."""
    if not blocks:
        stripped = reply.strip()
        return stripped if stripped and rules.looks_like_code(stripped) else None
    if required:
        complete = [b for b in blocks if set(required) <= rules.defined_names(b)]
        if complete:
            return max(complete, key=len)
    useful = [b for b in blocks if not rules.is_test(b)] or blocks
    if len(useful) == 1:
        return useful[0]
    joined = "\n\n".join(b.rstrip() for b in useful)
    return joined if rules.joins(joined) else max(useful, key=len)
