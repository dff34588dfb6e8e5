"""Tokens, cost and time for each model call and for a whole run."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately

# USD per million tokens (input, output) for models with a published price.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}


def price_for(model_name: str | None) -> tuple[float, float] | None:
    """Known price of a model; local models cost nothing; unknown remote models have no price."""
    if not model_name:
        return None
    name = model_name.split(":", 1)[-1]
    if name.endswith(".gguf") or model_name.startswith("local"):
        return (0.0, 0.0)
    if name in PRICES_PER_MILLION:
        return PRICES_PER_MILLION[name]
    # Dated snapshots ("gpt-4o-mini-2024-07-18") share the base model's price.
    for known in sorted(PRICES_PER_MILLION, key=len, reverse=True):
        if name.startswith(known + "-"):
            return PRICES_PER_MILLION[known]
    return None


@dataclass
class CallUsage:
    """One model call."""

    label: str
    tokens_in: int
    tokens_out: int
    seconds: float
    cost_usd: float | None
    estimated: bool = False  # True when the model reported no usage and we counted ourselves
    # What llama.cpp reports (None elsewhere): prompt tokens computed, prompt tokens served from
    # the prompt cache, speeds, and drafted tokens accepted when speculation is on.
    prompt_n: int | None = None
    cache_n: int | None = None
    prompt_tokens_per_s: float | None = None
    tokens_per_s: float | None = None
    draft_n: int | None = None
    draft_accepted: int | None = None
    # What the call was for, when its caller says (the loop: "opening", "append", "focus", ...),
    # so the prompt cache's figures can be read per kind of request.
    purpose: str | None = None
    # The reply stopped at the token limit, not at its end: its code is likely cut mid-way.
    truncated: bool = False


def runtime_figures(reply: AIMessage) -> dict[str, int | float | None]:
    """The runtime's own timings of a reply (llama.cpp's `timings` object), when it gave them."""
    timings = reply.response_metadata.get("timings") or {}
    if not isinstance(timings, dict) or "prompt_n" not in timings:
        return {}

    def number(key: str, kind: type) -> int | float | None:
        value = timings.get(key)
        return kind(round(value, 1) if kind is float else value) if isinstance(value, int | float) else None

    return {
        "prompt_n": number("prompt_n", int),
        "cache_n": number("cache_n", int),
        "prompt_tokens_per_s": number("prompt_per_second", float),
        "tokens_per_s": number("predicted_per_second", float),
        "draft_n": number("draft_n", int),
        "draft_accepted": number("draft_n_accepted", int),
    }


@dataclass
class UsageTracker:
    """Collects calls so a run can report per-call and total figures."""

    model_name: str | None = None
    calls: list[CallUsage] = field(default_factory=list)

    def record(
        self, label: str, prompt: Sequence[BaseMessage], reply: AIMessage, seconds: float
    ) -> CallUsage:
        usage = reply.usage_metadata
        if usage:
            tokens_in, tokens_out, estimated = usage["input_tokens"], usage["output_tokens"], False
        else:
            tokens_in = count_tokens_approximately(list(prompt))
            tokens_out = count_tokens_approximately([reply])
            estimated = True
        price = price_for(self.model_name or reply.response_metadata.get("model_name"))
        cost = None if price is None else (tokens_in * price[0] + tokens_out * price[1]) / 1e6
        call = CallUsage(label, tokens_in, tokens_out, seconds, cost, estimated, **runtime_figures(reply),
                         truncated=reply.response_metadata.get("finish_reason") == "length")
        self.calls.append(call)
        return call

    @contextmanager
    def timed(self) -> Iterator[list[float]]:
        """Measure a block; yields a one-item list holding the elapsed seconds afterwards."""
        box = [0.0]
        started = time.monotonic()
        try:
            yield box
        finally:
            box[0] = time.monotonic() - started

    @property
    def tokens_in(self) -> int:
        return sum(c.tokens_in for c in self.calls)

    @property
    def tokens_out(self) -> int:
        return sum(c.tokens_out for c in self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def cost_usd(self) -> float | None:
        costs = [c.cost_usd for c in self.calls]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    @property
    def cache_hit_rate(self) -> float | None:
        """Share of prompt tokens the runtime served from its prompt cache (None: not reported)."""
        return cache_hit_rate(self.calls)

    def to_dict(self) -> dict:
        return {
            "model": self.model_name,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "model_seconds": round(self.seconds, 3),
            "cost_usd": self.cost_usd,
            "cache_hit_rate": self.cache_hit_rate,
            "calls": [asdict(c) for c in self.calls],
        }


def cache_hit_rate(calls: Sequence[CallUsage]) -> float | None:
    """`cache_n / (cache_n + prompt_n)` over the calls that report both."""
    reported = [c for c in calls if c.cache_n is not None and c.prompt_n is not None]
    total = sum(c.cache_n + c.prompt_n for c in reported)  # type: ignore[operator]
    return round(sum(c.cache_n for c in reported) / total, 4) if total else None  # type: ignore[misc]
