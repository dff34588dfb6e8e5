"""Plug-ins: the packages that register languages and tactics, the built-in ones too.

As in simonw/llm, the core names its built-in plug-ins by module path and imports them on first
use, so the engine never imports a language and a language may build on the engine (its own
tactics). Other packages add theirs through the ``tdd_scriptgen.plugins`` entry point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

BUILTIN = ("code_generation.languages.python.plugin", "code_generation.languages.rust.plugin")
GROUP = "tdd_scriptgen.plugins"
_loaded = False


def load_plugins() -> None:
    """Import every plug-in module once: the built-in ones, then the installed ones."""
    global _loaded
    if _loaded:
        return
    _loaded = True  # first, so a plug-in that looks a language up while loading does not recurse
    for name in BUILTIN:
        importlib.import_module(name)
    for point in entry_points(group=GROUP):
        point.load()
