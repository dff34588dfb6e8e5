"""Target languages, each one plug-in behind the `Language` interface (base.py).

    get_language("rust")            -> the Rust implementation
    language_for(Path("src/lib.rs")) -> chosen by the output file's extension

Add one with::

    @register_language
    class Go(Language):
        name, extensions, fence = "go", (".go",), "go"
        ...
"""

from __future__ import annotations

from pathlib import Path

from code_generation.languages.base import REGISTRY as _REGISTRY
from code_generation.languages.base import Language, close_sandbox, register_language
from code_generation.plugins import load_plugins
from my_llm.errors import MyLLMError

DEFAULT = "python"


def available_languages() -> list[str]:
    load_plugins()
    return sorted(_REGISTRY)


def get_language(name: str | None) -> Language:
    """The language called `name` (None: Python); an unknown name is one line listing the known ones."""
    load_plugins()
    chosen = (name or DEFAULT).strip().lower()
    if chosen not in _REGISTRY:
        raise MyLLMError(f"unknown language {name!r}: choose from {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[chosen]


def language_for(path: Path, explicit: str | None = None) -> Language:
    """The explicit language, else the one whose extension the file has, else Python."""
    if explicit:
        return get_language(explicit)
    load_plugins()
    suffix = path.suffix.lower()
    return next((lang for lang in _REGISTRY.values() if suffix in lang.extensions), get_language(DEFAULT))


__all__ = ["Language", "available_languages", "close_sandbox", "get_language", "language_for", "register_language"]
