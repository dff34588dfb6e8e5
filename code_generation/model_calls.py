"""Model calls, measured and reported: one at a time or several at once on the model's parallel
slots. Provider errors become one-line `ModelError`s."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.types import Observer
from my_llm.errors import ModelError
from my_llm.models import explain_error
from my_llm.models.usage import CallUsage, UsageTracker


def _invoke(chat: BaseChatModel, messages: Sequence[BaseMessage], params: dict[str, Any]) -> tuple[AIMessage, float]:
    """The bare model call, timed; provider errors become one-line `ModelError`s."""
    started = time.monotonic()
    try:
        reply = chat.invoke(list(messages), **params)
    except ModelError:
        raise
    except Exception as exc:  # any provider error: explain it if we can
        explained = explain_error(exc)
        if explained is None:
            raise
        raise ModelError(explained) from exc
    if not isinstance(reply, AIMessage):
        reply = AIMessage(content=str(reply.content))
    return reply, time.monotonic() - started


def call_model(
    chat: BaseChatModel,
    messages: Sequence[BaseMessage],
    label: str,
    usage: UsageTracker,
    observer: Observer,
    **params: Any,
) -> AIMessage:
    """One model call, measured and reported."""
    reply, seconds = _invoke(chat, messages, params)
    call = usage.record(label, messages, reply, seconds)
    observer.model_call(label, messages, reply, call)
    return reply


def call_model_many(
    chat: BaseChatModel,
    requests: Sequence[tuple[Sequence[BaseMessage], str, dict[str, Any]]],
    usage: UsageTracker,
    observer: Observer,
) -> list[tuple[AIMessage, CallUsage]]:
    """Several calls at once (the local model serves them on its parallel slots).

    Recording happens afterwards, in request order, on this thread: observers need not be
    thread-safe and the run folder reads the same on every run.
    """
    if len(requests) == 1:
        messages, label, params = requests[0]
        reply = call_model(chat, messages, label, usage, observer, **params)
        return [(reply, usage.calls[-1])]
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(_invoke, chat, messages, params) for messages, _, params in requests]
        replies = [future.result() for future in futures]
    out: list[tuple[AIMessage, CallUsage]] = []
    for (messages, label, _), (reply, seconds) in zip(requests, replies, strict=True):
        call = usage.record(label, messages, reply, seconds)
        observer.model_call(label, messages, reply, call)
        out.append((reply, call))
    return out
