"""Checks of a Rust module's text for ways to pass its tests without computing anything.

The compiled tests compare values with ``==`` (``assert_eq!``); a module that returns a type of
its own whose ``PartialEq`` says "equal" to everything would pass them all. The sandbox's proof
cannot see that (the test function really comes back), so the text is checked before the build.
"""

from __future__ import annotations

import re

from code_generation.rust import syntax

_ALWAYS = re.compile(r"\bfn\s+(eq|ne)\s*\([^)]*\)\s*->\s*bool\s*\{\s*(true|false)\s*\}")


def lying_equality(module_source: str) -> str | None:
    """Why the module's equality cannot be trusted (an ``eq`` that is always true, a ``ne`` that is
    always false), or None."""
    for match in _ALWAYS.finditer(syntax.mask(module_source)):
        if (match.group(1), match.group(2)) in {("eq", "true"), ("ne", "false")}:
            return (f"a PartialEq whose `{match.group(1)}` always returns {match.group(2)} makes every "
                    "comparison of the tests pass (line " f"{syntax.line_of(module_source, match.start())})")
    return None
