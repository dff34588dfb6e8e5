"""The small-model tactics, each one named unit behind the `Tactic` interface.

Importing this package registers the tactics that work on any language; a language's own tactics
come with its plug-in (code_generation/languages/*/tactics, loaded by code_generation.plugins). The
loop calls them in a fixed order (`DEFAULT_TACTICS`, then registration order); a run picks them
by name (`LoopSettings.tactics`, `--tactics`, or the model profile's `tactics`). What each does, and the evidence for it, is in docs/tactics.md. Add one with::

    @register_tactic("my_tactic", "what it does")
    class MyTactic(Tactic):
        def feedback_note(self, code, state): ...
"""

from __future__ import annotations

from code_generation.engine.loop_state import (
    DEFAULT_TACTICS,
    Tactic,
    available_tactics,
    check_tactics,
    make_tactics,
    parse_tactics,
    register_tactic,
    tactic_names,
    tactics_for,
)
from code_generation.engine.tactics import plans, rounds  # noqa: F401  (registers the tactics for any language)

__all__ = [
    "DEFAULT_TACTICS", "Tactic", "available_tactics", "check_tactics", "make_tactics", "parse_tactics",
    "register_tactic", "tactic_names", "tactics_for",
]
