"""Plug-ins: the packages that register languages and tactics, the built-in ones too.

As in simonw/llm, the core names its built-in plug-ins by module path and imports them on first
use, so the engine never imports a language and a language may build on the engine (its own
tactics). Other packages add theirs through the ``tdd_scriptgen.plugins`` entry point group.
"""

from __future__ import annotations

import importlib
import threading
from importlib.metadata import entry_points

BUILTIN = ("code_generation.languages.python.plugin", "code_generation.languages.rust.plugin")
GROUP = "tdd_scriptgen.plugins"
_lock = threading.RLock()  # re-entrant: a plug-in may look a language up while it loads
_state = {"loaded": False, "loading": False}


def load_plugins() -> None:
    """Import every plug-in module once: the built-in ones, then the installed ones.

    Other threads wait until loading is over (a thread that saw "loading" and went on would find
    nothing registered); the loading thread itself, re-entering through a plug-in, returns at once.
    """
    if _state["loaded"]:
        return
    with _lock:
        if _state["loaded"] or _state["loading"]:
            return
        _state["loading"] = True
        try:
            for name in BUILTIN:
                importlib.import_module(name)
            for point in entry_points(group=GROUP):
                point.load()
            _state["loaded"] = True
        finally:
            _state["loading"] = False
