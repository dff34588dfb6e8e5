"""LangChain's ``ChatOpenAI`` for any OpenAI-compatible server, as the tools need it.

Over plain ``ChatOpenAI`` it adds what real servers require: failures as one-line `ModelError`s
(after the OpenAI client's own retries with backoff), a request sent again without ``seed`` or
``stop`` when a server refuses them, a prompt the server cut to fit its context detected from the
usage figures, llama.cpp's ``timings`` kept on the reply (prompt-cache figures per call), and the
profile and prefill ability of whatever the server says it is (`my_llm.models.server_info`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatResult
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
                param = refused_param(exc)
                if param is None or param in self._dropped:
                    raise ModelError(self._explain(exc)) from exc
                self._dropped.add(param)
                self._warn(param, f"the model server does not accept `{param}`: requests go without it"
                           + (" (runs are not repeatable)" if param == "seed" else ""))
                continue
            self._check_usage(messages, result)
            return result
        raise ModelError("the model server refused every request: check its log")  # pragma: no cover

    def _explain(self, exc: openai.OpenAIError) -> str:
        retried = isinstance(exc, openai.APIConnectionError | openai.RateLimitError) or (
            isinstance(exc, openai.APIStatusError) and exc.status_code >= 500)
        tries = (self.max_retries or 0) + 1 if retried else None
        models = None
        if isinstance(exc, openai.NotFoundError) and self.openai_api_base:
            models = list(probe_server(self.openai_api_base, self._api_key()).models) or None
        return explain(exc, tries, models) or " ".join(str(exc).split())[:300]

    def _check_usage(self, messages: list[BaseMessage], result: ChatResult) -> None:
        """A reply without usage gets estimated counts (said once); a cut prompt is an error."""
        message = result.generations[0].message if result.generations else None
        if not isinstance(message, AIMessage):
            return
        where = f"the model server at {self.openai_api_base}" if self.openai_api_base else "the model server"
        if not message.usage_metadata:
            self._warn("usage", f"{where} reports no token usage: token counts are estimates")
            return
        cut = truncation(count_tokens_approximately(messages), message.usage_metadata["input_tokens"], where)
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
