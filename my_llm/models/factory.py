"""One factory from a model spec string to a LangChain chat model.

Specs: ``local`` (the default embedded tier), ``local:0.5b`` / ``local:1.5b`` (a tier by name,
see `my_llm.models.model_tiers`), ``local:/path/model.gguf`` (any GGUF),
``openai:<model>`` (OpenAI, or any OpenAI-compatible server with ``base_url`` /
``OPENAI_BASE_URL``: Ollama, vLLM, a llama.cpp server). LangChain's ``init_chat_model`` cannot
take custom providers, so this module decides.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from rich.console import Console

from my_llm import config
from my_llm.errors import ModelError
from my_llm.models.model_tiers import (
    DEFAULT_TIER,
    FALLBACK_TIER,
    LOCAL_FILE_PROFILE,
    REMOTE_PROFILE,
    TIERS,
    ModelProfile,
    Tier,
    tier_for_file,
    tier_named,
)

DEFAULT_OPENAI_MODEL = "openai:gpt-4o-mini"

__all__ = ["ModelError", "describe_model", "explain_error", "get_chat_model", "profile_of", "resolve_model_spec"]


def resolve_model_spec(spec: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """`--model`, else MY_LLM_MODEL or the config files' `model`, else OpenAI when a key is set,
    else the embedded model."""
    env = os.environ if env is None else env
    if spec:
        return spec.strip()
    configured = config.text("model", env)
    if configured and configured.strip():
        return configured.strip()
    if env.get("OPENAI_API_KEY"):
        return DEFAULT_OPENAI_MODEL
    return "local"


def get_chat_model(
    spec: str | None = None,
    *,
    base_url: str | None = None,
    temperature: float = 0.2,
    verbose: bool = False,
    max_tokens: int | None = None,
    seed: int | None = None,
    show_progress: bool = True,
) -> BaseChatModel:
    """Build the chat model a spec names; configuration problems raise `ModelError`."""
    resolved = resolve_model_spec(spec)
    provider, _, name = resolved.partition(":")
    provider = provider.lower()
    from my_llm.models.server_route import local_over_server, server_url_for

    served = server_url_for(spec, base_url)  # MY_LLM_BASE_URL / --base-url: a server holds the model
    if served and provider in ("local", "openai"):
        chat = local_over_server(served, name if provider == "local" else "", temperature, max_tokens, seed,
                                 show_progress)
        if chat is not None:
            return chat  # type: ignore[return-value]
    if provider == "local":
        return _local_model(name, temperature, max_tokens, seed, show_progress)
    if provider == "openai":
        return _openai_model(name, base_url, temperature, max_tokens, seed)
    raise ModelError(
        f"unknown model '{resolved}': use 'local', 'local:0.5b', 'local:1.5b', 'local:/path/to/model.gguf' "
        "or 'openai:<model>'"
    )


def _local_model(
    name: str, temperature: float, max_tokens: int | None, seed: int | None, show_progress: bool
) -> BaseChatModel:
    from my_llm.models.local_model import LocalChatModel

    model_path, tier = _local_file(name, show_progress)
    profile = tier.profile if tier else LOCAL_FILE_PROFILE
    kwargs: dict = {
        "model_path": model_path, "temperature": temperature, "show_progress": show_progress,
        "profile": profile, "n_ctx": profile.n_ctx, "n_parallel": profile.n_parallel,
        "speculative": profile.speculative, "draft_max": profile.draft_max,
    }
    if max_tokens:
        kwargs["max_tokens"] = max_tokens
    if seed is not None:
        kwargs["seed"] = seed
    return LocalChatModel(**kwargs)


def _local_file(name: str, show_progress: bool) -> tuple[str, Tier | None]:
    """`local` (the default tier, or the fallback where it does not fit), `local:TIER`, `local:PATH`."""
    from my_llm.models.local_model import ensure_tier_file, is_ready, tier_file

    if not name:
        tier = choose_default_tier(available_memory_gib(), _free_disk(tier_file(TIERS[DEFAULT_TIER])),
                                   is_ready(TIERS[DEFAULT_TIER]), warn=show_progress)
        return str(ensure_tier_file(tier, show_progress=show_progress)), tier
    tier = tier_named(name)
    if tier is not None:
        return str(ensure_tier_file(tier, show_progress=show_progress)), tier
    model_path = os.path.expanduser(name)
    if not os.path.isfile(model_path):
        known = ", ".join(f"local:{t}" for t in TIERS)
        raise ModelError(f"model file {model_path} does not exist: use {known}, or local:PATH to a GGUF file")
    return model_path, tier_for_file(model_path)


def choose_default_tier(memory_gib: float | None, disk_gib: float | None, assembled: bool,
                        warn: bool = True) -> Tier:
    """The default tier where it fits in memory (and on disk, before it is assembled); else the fallback."""
    tier = TIERS[DEFAULT_TIER]
    need_disk = tier.weights.size / 2**30
    short = None
    if memory_gib is not None and memory_gib < tier.profile.min_memory_gib:
        short = f"{memory_gib:.1f} GiB of memory free, {tier.profile.min_memory_gib:.1f} GiB needed"
    elif not assembled and disk_gib is not None and disk_gib < need_disk:
        short = f"{disk_gib:.1f} GiB of disk free in the model cache, {need_disk:.1f} GiB needed"
    if short is None:
        return tier
    fallback = TIERS[FALLBACK_TIER]
    if warn:
        Console(stderr=True).print(f"[yellow]{tier.label} does not fit ({short}): using {fallback.label}[/yellow]")
    return fallback


def available_memory_gib() -> float | None:
    """MemAvailable from /proc/meminfo (None where there is no such file)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        return None
    return None


def _free_disk(path: Path) -> float | None:
    for folder in (path.parent, *path.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free / 2**30
    return None


def _openai_model(
    name: str, base_url: str | None, temperature: float, max_tokens: int | None, seed: int | None
) -> BaseChatModel:
    from my_llm.models.server_chat import ServerChatModel
    from my_llm.models.server_route import SERVER_RETRIES, SERVER_TIMEOUT

    base_url = base_url or config.text("base_url") or None
    api_key = os.environ.get("OPENAI_API_KEY")
    if not name:
        raise ModelError("no model name after 'openai:': use e.g. --model openai:gpt-4o-mini")
    if not api_key and not base_url:
        raise ModelError(
            "OPENAI_API_KEY is not set: export it, or use --base-url for a local OpenAI-compatible "
            "server, or --model local for the embedded model"
        )
    kwargs: dict = {
        "model": name,
        "temperature": temperature,
        "api_key": api_key or "not-needed",
        "max_retries": SERVER_RETRIES,  # the OpenAI client backs off between tries (429, 5xx, connection)
        "timeout": SERVER_TIMEOUT if base_url else 120,  # a local server may queue a request
        "stream_usage": True,
    }
    if base_url:
        kwargs["base_url"] = base_url
    if max_tokens:
        kwargs["max_tokens"] = max_tokens
    if seed is not None:
        kwargs["seed"] = seed
    return ServerChatModel(**kwargs)


def profile_of(chat: BaseChatModel) -> ModelProfile:
    """How the tools drive this chat model: its tier's profile, else the one for remote models."""
    from my_llm.models.response_cache import CachedChatModel

    if isinstance(chat, CachedChatModel):
        return profile_of(chat.inner)
    profile = getattr(chat, "tool_profile", None)  # a server's chat model: what the server says it is
    if not isinstance(profile, ModelProfile):
        profile = getattr(chat, "profile", None)
    return profile if isinstance(profile, ModelProfile) else REMOTE_PROFILE


def describe_model(chat: BaseChatModel) -> str:
    """A short human label for the model in use, printed by every tool."""
    from my_llm.models.local_model import LocalChatModel
    from my_llm.models.response_cache import CachedChatModel

    if isinstance(chat, CachedChatModel):
        return describe_model(chat.inner)
    if isinstance(chat, LocalChatModel):
        return f"local:{chat.model_path} (embedded llama.cpp)"
    name = getattr(chat, "model_name", None) or getattr(chat, "model", None)
    base = getattr(chat, "openai_api_base", None)
    if name and base:
        return f"openai:{name} at {base}"
    if name:
        return f"openai:{name}" if chat._llm_type == "openai-chat" else f"{chat._llm_type}:{name}"
    return chat._llm_type


def explain_error(exc: BaseException) -> str | None:
    """Turn a model call failure into one line naming the fix, or None if it is not ours to explain."""
    if isinstance(exc, ModelError):
        return str(exc)
    try:
        from my_llm.models.http_errors import explain
    except ImportError:  # langchain-openai always brings openai and httpx
        return None
    return explain(exc)
