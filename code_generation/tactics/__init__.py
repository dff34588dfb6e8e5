"""The small-model tactics, each one named unit behind the `Tactic` interface.

Importing this package registers the built-in tactics in the order the loop calls them; a run
picks them by name (`LoopSettings.tactics`, `--tactics`, or the model profile's `tactics`). What
each does, and the evidence for it, is in docs/tactics.md. Add one with::

    @register_tactic("my_tactic", "what it does")
    class MyTactic(Tactic):
        def feedback_note(self, code, state): ...
"""

from __future__ import annotations

from code_generation.loop_state import (
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
from code_generation.tactics import (  # noqa: F401  (registers them)
    compiler_fixes,
    notes,
    repairs,
    request,
    rounds,
    tracing,
)

__all__ = [
    "DEFAULT_TACTICS", "Tactic", "available_tactics", "check_tactics", "make_tactics", "parse_tactics",
    "register_tactic", "tactic_names", "tactics_for",
]
