"""LLM plumbing every tool shares: models (my_llm.models) and the message memory (my_llm.memory)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tdd-scriptgen")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
