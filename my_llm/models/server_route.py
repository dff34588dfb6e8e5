"""When a tool asks for the embedded model and a server already holds it, use the server.

Every tool that loads the embedded model keeps its own 1-2.5 GB copy, and two of them on one
machine share its cores badly. `MY_LLM_BASE_URL` (or a tool's ``--base-url``) names a server,
normally ``my-llm serve``: ``local`` and an unnamed model then go to it, and ``local:TIER`` or
``local:PATH`` go to it when it serves that very file (llama.cpp says which in ``/props``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import PurePath

from rich.console import Console

from my_llm.errors import ModelError
from my_llm.models.model_tiers import tier_named
from my_llm.models.server_info import ServerInfo, probe_server

# What the in-process model does by default, so a served model answers the same.
LOCAL_MAX_TOKENS = 1024
LOCAL_TOP_P = 0.95
SERVER_TIMEOUT = 600.0  # seconds: a request may queue behind others on a busy local server
SERVER_RETRIES = 3


def server_url_for(spec: str | None, base_url: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The server to use instead of loading the model here, or None.

    Only a spec that means the embedded model (none given, ``local``, ``local:...``) is redirected;
    ``openai:NAME`` keeps its own base URL (``--base-url`` or ``OPENAI_BASE_URL``).
    """
    env = os.environ if env is None else env
    url = (base_url or env.get("MY_LLM_BASE_URL") or "").strip()
    if not url:
        return None
    named = (spec or env.get("MY_LLM_MODEL") or "").strip()
    if named and named.partition(":")[0].lower() != "local":
        return None
    return url


def _wanted_file(name: str) -> str | None:
    """The GGUF file name a ``local:`` name stands for (None: any, i.e. the server's)."""
    if not name:
        return None
    tier = tier_named(name)
    return tier.weights.filename if tier is not None else PurePath(os.path.expanduser(name)).name


def serves(info: ServerInfo, name: str) -> bool:
    """Whether the server holds the model ``local:<name>`` means (``local`` alone: whatever it holds)."""
    wanted = _wanted_file(name)
    if wanted is None:
        return True
    return bool(info.model_path) and PurePath(info.model_path or "").name == wanted


def local_over_server(
    url: str, name: str, temperature: float, max_tokens: int | None, seed: int | None, show_progress: bool = True,
) -> object | None:
    """A chat model for the served copy of ``local:<name>``, or None to load it in-process."""
    from my_llm.models.server_chat import ServerChatModel

    api_key = os.environ.get("OPENAI_API_KEY") or None
    info = probe_server(url, api_key)
    if not info.reachable:
        raise ModelError(f"nothing answers at {url} (MY_LLM_BASE_URL / --base-url): start `my-llm serve` "
                         "there, or unset MY_LLM_BASE_URL to load the model in this process")
    if not serves(info, name):
        if show_progress:
            held = PurePath(info.model_path).name if info.model_path else "another model"
            Console(stderr=True).print(f"[yellow]{url} serves {held}, not local:{name}: loading it in this "
                                       "process[/yellow]")
        return None
    kwargs: dict = {
        "model": info.models[0] if info.models else "local", "base_url": url, "api_key": api_key or "not-needed",
        "temperature": temperature, "max_tokens": max_tokens or LOCAL_MAX_TOKENS, "top_p": LOCAL_TOP_P,
        "max_retries": SERVER_RETRIES, "timeout": SERVER_TIMEOUT, "stream_usage": True,
    }
    if seed is not None:
        kwargs["seed"] = seed
    chat = ServerChatModel(**kwargs)
    chat.use_server_info(info)
    return chat
