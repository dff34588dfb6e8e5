"""A content-addressed cache of model replies on disk, for requests that are deterministic.

A request is cached only when the same request must give the same reply: temperature 0, or a
fixed sampling seed. Hot, unseeded samples are never cached, because a loop that asks afresh
wants a new program, not the old one back. The key is a sha256 over the model's identity, its
sampling parameters, the call's parameters and the messages, so any change is a new entry.

Cached replies report zero tokens (no model ran) and ``response_metadata["cached"] = True``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from my_llm.files import write_atomically

PRIVATE_MODE = 0o600  # entries hold prompts and replies: the owner's alone, as they always were
# Model fields that change what a model answers; everything else (timeouts, keys) does not.
_MODEL_FIELDS = ("model_path", "model_name", "model", "openai_api_base", "temperature", "seed",
                 "max_tokens", "top_p", "n_ctx")  # fmt: skip


def default_cache_dir() -> Path:
    """``MY_LLM_RESPONSE_CACHE``, else ``responses`` in the user cache folder."""
    from platformdirs import user_cache_dir

    from my_llm import config

    override = os.environ.get("MY_LLM_RESPONSE_CACHE")
    return Path(override) if override else config.app_path("cache", "responses", Path(user_cache_dir("my_llm")) / "responses")


class ResponseCache:
    """Replies stored as ``<dir>/<first two hex digits>/<sha256>.json``, each written atomically."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> AIMessage | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            message = messages_from_dict([data["reply"]])[0]
        except (OSError, ValueError, KeyError, IndexError):  # missing or damaged: ask the model
            return None
        return message if isinstance(message, AIMessage) else None

    def put(self, key: str, request: dict[str, Any], reply: AIMessage) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"request": request, "reply": message_to_dict(reply)}, ensure_ascii=False)
        write_atomically(path, body, new_mode=PRIVATE_MODE)


def model_identity(chat: BaseChatModel) -> dict[str, Any]:
    """The model's type and the fields that decide its replies."""
    fields = {name: getattr(chat, name) for name in _MODEL_FIELDS if getattr(chat, name, None) is not None}
    return {"type": type(chat).__name__, **{k: v if isinstance(v, int | float | str | bool) else str(v)
                                            for k, v in fields.items()}}


def request_key(chat: BaseChatModel, messages: list[BaseMessage], params: dict[str, Any]) -> tuple[str, dict] | None:
    """The cache key and the request it stands for, or None when the reply may vary."""
    identity = model_identity(chat)
    temperature = params.get("temperature", identity.get("temperature"))
    seed = params.get("seed", identity.get("seed"))
    if temperature != 0 and seed is None:
        return None
    request = {"model": identity, "params": {k: v for k, v in sorted(params.items())},
               "messages": [message_to_dict(m) for m in messages]}
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest(), request


class CachedChatModel(BaseChatModel):
    """Wraps any chat model; deterministic requests are answered from the cache when seen before."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    store: ResponseCache  # not `cache`: BaseChatModel's own field of that name means LangChain's cache

    @property
    def _llm_type(self) -> str:
        return f"cached-{self.inner._llm_type}"

    @property
    def seed(self) -> int | None:
        return getattr(self.inner, "seed", None)

    @property
    def model_name(self) -> str | None:  # pricing looks the model up by this name
        return getattr(self.inner, "model_name", None)

    @property
    def temperature(self) -> float | None:
        return getattr(self.inner, "temperature", None)

    @property
    def continues_final_message(self) -> bool:  # the loop's reply prefill asks the model inside
        return bool(getattr(self.inner, "continues_final_message", False))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params = {**kwargs, **({"stop": stop} if stop else {})}
        keyed = request_key(self.inner, messages, params)
        if keyed is not None:
            hit = self.store.get(keyed[0])
            if hit is not None:
                reply = AIMessage(
                    content=hit.content,
                    response_metadata={**hit.response_metadata, "cached": True},
                    usage_metadata={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
                )
                return ChatResult(generations=[ChatGeneration(message=reply)])
        reply = self.inner.invoke(messages, stop=stop, **kwargs)
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=str(reply.content))
        if keyed is not None:
            self.store.put(keyed[0], keyed[1], reply)
        return ChatResult(generations=[ChatGeneration(message=reply)])
