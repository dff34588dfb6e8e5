"""LangChain's ``ChatOpenAI`` for any OpenAI-compatible server, as the tools need it.

Over plain ``ChatOpenAI`` it adds what real servers require: failures as one-line `ModelError`s
(after the OpenAI client's own retries with backoff), a request sent again without ``seed`` or
``stop`` when a server refuses them, a prompt the server cut to fit its context detected from the
usage figures, llama.cpp's ``timings`` kept on the reply (prompt-cache figures per call), and the
profile and prefill ability of whatever the server says it is (`my_llm.models.server_info`).
``.stream()`` gets the same, and a stream cut part-way is a one-line error too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import PrivateAttr

from my_llm.errors import ModelError
from my_llm.models.http_errors import OPTIONAL_PARAMS, explain, refused_param, truncation
from my_llm.models.model_tiers import REMOTE_PROFILE, ModelProfile
from my_llm.models.server_info import ServerInfo, probe_server


class ServerChatModel(ChatOpenAI):
    """A chat model behind an OpenAI-compatible HTTP API (OpenAI, llama.cpp, vLLM, Ollama ...)."""

    _info: ServerInfo | None = PrivateAttr(default=None)
    _dropped: set[str] = PrivateAttr(default_factory=set)
    _warned: set[str] = PrivateAttr(default_factory=set)

    @property
    def server_info(self) -> ServerInfo | None:
        """What the server says it is, asked on first use (None for OpenAI itself: no base URL)."""
        if not self.openai_api_base:
            return None
        if self._info is None:
            self._info = probe_server(self.openai_api_base, self._api_key())
        return self._info

    def use_server_info(self, info: ServerInfo) -> None:
        """Take what a caller already asked the server (no second probe)."""
        self._info = info

    @property
    def tool_profile(self) -> ModelProfile:
        """How the tools drive this model: the served tier's profile, or the one for paid APIs."""
        info = self.server_info
        return info.profile if info is not None else REMOTE_PROFILE

    @property
    def continues_final_message(self) -> bool:
        """True when the server continues a final assistant message (llama.cpp): the loop's prefill."""
        info = self.server_info
        return bool(info and info.continues_final_message)

    def _api_key(self) -> str | None:
        key = self.openai_api_key
        return key.get_secret_value() if key is not None and hasattr(key, "get_secret_value") else None

    @property
    def _default_params(self) -> dict[str, Any]:
        params = super()._default_params
        for name in self._dropped:
            params.pop(name, None)
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        for _ in range(len(OPTIONAL_PARAMS) + 1):
            call_stop = None if "stop" in self._dropped else stop
            call_kwargs = {k: v for k, v in kwargs.items() if k not in self._dropped}
            try:
                result = super()._generate(messages, stop=call_stop, run_manager=run_manager, **call_kwargs)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # the client reads any 200 body as JSON
                raise self._not_a_completion(f"not JSON: {' '.join(str(exc).split())[:120]}") from exc
            except openai.OpenAIError as exc:
                self._drop_refused(exc)
                continue
            message = result.generations[0].message if result.generations else None
            if isinstance(message, AIMessage):
                self._check_usage(messages, message.usage_metadata)
            return result
        raise ModelError("the model server refused every request: check its log")  # pragma: no cover

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """ChatOpenAI's stream, failing as `_generate` does: one-line `ModelError`s, a refused
        ``seed``/``stop`` dropped and sent again (before any text came), usage checked at the end.

        A stream that breaks or ends before a chunk with a ``finish_reason`` is an error, not a
        short answer: the server stopped or the connection was cut mid-reply.
        """
        for _ in range(len(OPTIONAL_PARAMS) + 1):
            call_stop = None if "stop" in self._dropped else stop
            call_kwargs = {k: v for k, v in kwargs.items() if k not in self._dropped}
            seen = _StreamSeen()
            try:
                for chunk in super()._stream(messages, stop=call_stop, run_manager=run_manager, **call_kwargs):
                    seen.take(chunk)
                    yield chunk
            except openai.OpenAIError as exc:  # an error event in the stream is neither status nor connection
                if seen.chunks or not isinstance(exc, openai.APIStatusError | openai.APIConnectionError):
                    raise ModelError(self._cut(exc)) from exc
                self._drop_refused(exc)
                continue
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # JSON errors too
                raise self._not_a_completion(" ".join(str(exc).split())[:160] or type(exc).__name__) from exc
            if not seen.finished:
                raise ModelError(self._cut(None))
            self._check_usage(messages, seen.usage)
            if seen.timings is not None:  # one chunk carries them, so merging chunks cannot mangle them
                yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"timings": seen.timings}))
            return
        raise ModelError("the model server refused every request: check its log")  # pragma: no cover

    def _drop_refused(self, exc: openai.OpenAIError) -> None:
        """Forget a parameter the server refused (the caller sends again), or raise the failure."""
        param = refused_param(exc)
        if param is None or param in self._dropped:
            raise ModelError(self._explain(exc)) from exc
        self._dropped.add(param)
        self._warn(param, f"the model server does not accept `{param}`: requests go without it"
                   + (" (runs are not repeatable)" if param == "seed" else ""))

    def _cut(self, exc: BaseException | None) -> str:
        where = f"the model server at {self.openai_api_base}" if self.openai_api_base else "the model server"
        if isinstance(exc, openai.APIConnectionError):
            why = " (the connection broke)"
        else:
            why = f" ({' '.join(str(exc).split())[:120]})" if exc is not None else ""
        return f"{where} stopped sending the reply before its end{why}: it may have stopped or crashed; run again"

    def _explain(self, exc: openai.OpenAIError) -> str:
        retried = isinstance(exc, openai.APIConnectionError | openai.RateLimitError) or (
            isinstance(exc, openai.APIStatusError) and exc.status_code >= 500)
        tries = (self.max_retries or 0) + 1 if retried else None
        models = None
        if isinstance(exc, openai.NotFoundError) and self.openai_api_base:
            models = list(probe_server(self.openai_api_base, self._api_key()).models) or None
        return explain(exc, tries, models) or " ".join(str(exc).split())[:300]

    def _check_usage(self, messages: list[BaseMessage], usage: Any) -> None:
        """A reply without usage gets estimated counts (said once); a cut prompt is an error."""
        where = f"the model server at {self.openai_api_base}" if self.openai_api_base else "the model server"
        if not usage:
            self._warn("usage", f"{where} reports no token usage: token counts are estimates")
            return
        cut = truncation(count_tokens_approximately(messages), usage["input_tokens"], where)
        if cut:
            raise ModelError(cut)

    def _warn(self, key: str, line: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            print(f"warning: {line}", file=sys.stderr)

    def _not_a_completion(self, reason: str) -> ModelError:
        where = f"the model server at {self.openai_api_base}" if self.openai_api_base else "the model server"
        return ModelError(f"{where} sent a reply that is not an OpenAI chat completion ({reason}): check that "
                          "--base-url / MY_LLM_BASE_URL points at an OpenAI-compatible server")

    def _create_chat_result(self, response: Any, generation_info: dict | None = None) -> ChatResult:
        """As ChatOpenAI's, plus llama.cpp's `timings` (prompt tokens computed and cached, speeds).

        A reply that is not a chat completion (no ``choices``, a message of the wrong type, usage
        figures as text, an ``error`` object with status 200) is a one-line ModelError: LangChain
        would raise whatever its parsing ran into, with a traceback.
        """
        try:
            result = super()._create_chat_result(response, generation_info)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise self._not_a_completion(" ".join(str(exc).split())[:160] or type(exc).__name__) from exc
        if not result.generations:  # LangChain's invoke would take generations[0]: an IndexError
            raise self._not_a_completion("no choices")
        usage = (result.llm_output or {}).get("token_usage")
        if usage is not None and not isinstance(usage, dict):  # LangChain adds up usages with .items()
            raise self._not_a_completion(f"its usage is {type(usage).__name__}, not an object")
        timings = response.get("timings") if isinstance(response, dict) else getattr(response, "timings", None)
        if isinstance(timings, dict):
            for generation in result.generations:
                generation.message.response_metadata["timings"] = timings
        return result

    def _convert_chunk_to_generation_chunk(
        self, chunk: dict, default_chunk_class: type, base_generation_info: dict | None
    ) -> ChatGenerationChunk | None:
        """As ChatOpenAI's, keeping llama.cpp's ``timings`` (on a stream's last chunk) for `_stream`."""
        generation = super()._convert_chunk_to_generation_chunk(chunk, default_chunk_class, base_generation_info)
        timings = chunk.get("timings") if isinstance(chunk, dict) else None
        if generation is not None and isinstance(timings, dict):
            generation.message.response_metadata[_TIMINGS_SEEN] = timings
        return generation


_TIMINGS_SEEN = "_llama_timings"  # where a chunk carries llama.cpp's timings until `_stream` takes them


class _StreamSeen:
    """What a stream showed so far: chunks, whether one finished the reply, usage, timings."""

    def __init__(self) -> None:
        self.chunks = 0
        self.finished = False
        self.usage: Any = None
        self.timings: dict | None = None

    def take(self, chunk: ChatGenerationChunk) -> None:
        self.chunks += 1
        self.finished = self.finished or bool((chunk.generation_info or {}).get("finish_reason"))
        message = chunk.message
        self.usage = getattr(message, "usage_metadata", None) or self.usage
        timings = message.response_metadata.pop(_TIMINGS_SEEN, None)
        self.timings = timings if isinstance(timings, dict) else self.timings
