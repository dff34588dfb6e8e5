"""Models: one factory from a spec string to a LangChain chat model (factory.py), the embedded
llama.cpp model and its tiers, OpenAI-compatible servers, `my-llm serve`, usage and the reply cache.

``from my_llm.models import get_chat_model`` keeps working: the factory's API is this package's.
"""

from my_llm.models.factory import (
    ModelError,
    describe_model,
    explain_error,
    get_chat_model,
    profile_of,
    resolve_model_spec,
)

__all__ = ["ModelError", "describe_model", "explain_error", "get_chat_model", "profile_of", "resolve_model_spec"]
