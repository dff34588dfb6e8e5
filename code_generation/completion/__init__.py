"""Complete a partial Python file: a model writes the missing code, analyzers check it.

    from code_generation.completion import complete_source, complete_file, CompletionSettings

`complete_source` works on text in memory (an editor's buffer); `complete_file` is the
`complete-file` command's engine (input checks, run folder, memory, --write).
"""

from code_generation.completion.api import (
    CompletionResult,
    CompletionSettings,
    complete_file,
    complete_source,
)
from code_generation.completion.search import SearchOutcome, SearchSettings

__all__ = ["CompletionResult", "CompletionSettings", "SearchOutcome", "SearchSettings", "complete_file", "complete_source"]
