"""Errors a user can fix: each carries one line that says what is wrong and what to do."""


class MyLLMError(Exception):
    """Base class; CLIs print `str(exc)` on one line and exit 2 (traceback only with --verbose)."""


class ModelError(MyLLMError):
    """The model cannot be chosen, loaded or reached."""
