"""The search: candidates per round, scored by the analyzers, best-first with backtracking.

As in LLMcoder, each branch is a conversation whose last reply is a completion with its
analysis. Every round the most promising open branch (highest score: accepted, tests passed,
fewest errors, fewest advice; the newest on a tie) is expanded: its findings go back to the
model and `candidates` new completions come back, each analyzed and added to the open set.
A branch whose children do not beat it stays open, to be tried again hotter, at most
MAX_EXPANSIONS times; so when a branch stops improving, the next round goes back to an earlier,
better one. A completion all analyzers accept ends the search; otherwise the best one found
is kept. Model calls go through the engine's `call_model_many` (usage, run folder, memory).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.completion import agreement, prompts
from code_generation.completion.agreement import Target
from code_generation.completion.analysis import Analysis, Analyst
from code_generation.completion.reply import completion_from_reply, inside_block, lf
from code_generation.completion.splice import Document
from code_generation.engine.loop import Attempt, call_model_many
from my_llm.models.usage import CallUsage, UsageTracker

MAX_EXPANSIONS = 2  # times one branch is sent back with its findings
STOP = ["\n```"]  # the end of the code block; inside a function also TAIL_STOPS
TAIL_STOPS = ["\nif __name__", "\n# Example", "\n# Test"]


@dataclass
class SearchSettings:
    max_iterations: int = 4  # rounds, each one model call per candidate
    candidates: int = 1  # completions per round, at once on the model's parallel slots
    temperature: float = 0.2
    escalate_temperature: float = 0.3  # added for each time a branch is expanded again
    prefill: bool | None = None  # None: when the model continues a final assistant message
    # Of several candidates every analyzer accepts, take the one whose results most others share
    # on the same inputs (agreement.py); needs candidates >= 3 to break a tie between two.
    agreement: bool = False


@dataclass
class Candidate:
    """One completion: where it came from, what it is, what the analyzers said."""

    round: int
    index: int
    parent: str | None
    reply: str
    completion: str | None
    analysis: Analysis | None
    temperature: float
    usage: CallUsage | None = None
    notes: list[str] = field(default_factory=list)
    messages: list[BaseMessage] = field(default_factory=list, repr=False)  # the request it answered
    expansions: int = 0

    @property
    def id(self) -> str:
        return f"{self.round}.{self.index}"

    @property
    def accepted(self) -> bool:
        return self.analysis is not None and self.analysis.accepted

    def key(self) -> tuple[bool, float, int, int]:
        return self.analysis.score() if self.analysis else (False, -1.0, -(10**6), -(10**6))

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "parent": self.parent, "temperature": self.temperature, "notes": self.notes,
                "has_code": self.completion is not None,
                "analysis": self.analysis.to_dict() if self.analysis else None}


@dataclass
class SearchOutcome:
    best: Candidate | None
    first: Candidate | None  # round 1's first candidate: what a single call would have given
    candidates: list[Candidate]
    rounds: int
    backtracks: int
    stop_reason: str  # "accepted" | "budget" | "no_code"
    seconds: float
    usage: UsageTracker

    @property
    def accepted(self) -> bool:
        return bool(self.best and self.best.accepted)


class SearchObserver(Protocol):
    """The run folder, memory and console hooks of a completion run."""

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None: ...

    def candidate(self, candidate: Candidate, best: Candidate | None) -> None: ...

    def event(self, message: str) -> None: ...


class _Calls:
    """Adapts a SearchObserver to the engine's Observer for call_model_many (model calls only)."""

    def __init__(self, observer: SearchObserver) -> None:
        self.observer = observer

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.observer.model_call(label, messages, reply, usage)

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        pass

    def event(self, message: str) -> None:
        self.observer.event(message)


def continues_reply(chat: BaseChatModel) -> bool:
    """The model continues a final assistant message (the embedded one), also behind the reply cache."""
    inner = getattr(chat, "inner", None)  # my_llm.models.response_cache.CachedChatModel does not pass it on
    return bool(getattr(chat, "continues_final_message", False) or getattr(inner, "continues_final_message", False))


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


class Search:
    """One completion search over a document; `run` does the rounds."""

    def __init__(self, document: Document, chat: BaseChatModel, analyst: Analyst, settings: SearchSettings,
                 observer: SearchObserver, usage: UsageTracker, name: str, instruction: str | None = None,
                 guard: Callable[[], None] | None = None) -> None:
        self.doc, self.chat, self.analyst, self.settings = document, chat, analyst, settings
        self.observer, self.usage, self.name, self.guard = observer, usage, name, guard
        self.continues = settings.prefill if settings.prefill is not None else continues_reply(chat)
        # What the model sees has \n line endings, whatever the file has (a CRLF prefill broke replies).
        self.prefix, self.suffix = lf(document.prefix), lf(document.suffix)
        self.opening = prompts.request_messages(name, self.prefix, self.suffix, instruction,
                                                document.todo, self.continues)
        self.candidates: list[Candidate] = []
        self.open: list[Candidate] = []
        self.seen: set[str] = set()
        self.best: Candidate | None = None
        self.backtracks = 0
        self.probes: list[str] | None = None  # the inputs candidates are compared on, asked for once

    def _params(self, round_: int, k: int, temperature: float) -> dict[str, Any]:
        stops = STOP + (TAIL_STOPS if inside_block(self.prefix) else [])
        params: dict[str, Any] = {"stop": stops[:4]}
        if temperature != self.settings.temperature:
            params["temperature"] = temperature
        seed = getattr(self.chat, "seed", None)
        if seed is not None and (round_ > 1 or k):  # the same seed would sample the same completion
            params["seed"] = seed + round_ * 8 + k
        return params

    def _request(self, parent: Candidate | None) -> list[BaseMessage]:
        if parent is None or parent.completion is None or parent.analysis is None:
            return list(self.opening)
        text = lf(self.doc.text(parent.completion))
        lines = self.doc.completion_lines(parent.completion)
        completion = parent.completion if parent.completion.endswith("\n") else parent.completion + "\n"
        return prompts.feedback_messages(self.opening, self.name, self.prefix, completion, parent.analysis,
                                         text, lines, self.continues)

    def _expand(self, round_: int, parent: Candidate | None) -> list[Candidate]:
        """Ask for this round's candidates from `parent` (None: the opening request) and analyze them."""
        messages = self._request(parent)
        hot = min(1.0, self.settings.temperature + self.settings.escalate_temperature * (1 + (parent.expansions if parent else 0)))
        again = parent.expansions > 0 if parent else round_ > 1  # a retry, or a fresh start after round 1
        base = hot if again else self.settings.temperature
        calls = []
        for k in range(self.settings.candidates):
            temperature = base if k == 0 else hot
            request = prompts.with_prefill(messages, self.prefix) if self.continues else messages
            calls.append((request, f"complete-{round_}" + (f".{k}" if k else ""), self._params(round_, k, temperature)))
        replies = call_model_many(self.chat, calls, self.usage, _Calls(self.observer))
        prefilled = prompts.prefill(self.prefix) if self.continues else None
        children = []
        for k, ((reply, call), (_, _, params)) in enumerate(zip(replies, calls, strict=True)):
            text = reply.content if isinstance(reply.content, str) else reply.text
            completion = completion_from_reply(text, self.prefix, self.suffix, prefilled)
            temperature = params.get("temperature", self.settings.temperature)
            child = Candidate(round_, k, parent.id if parent else None, text, completion, None, temperature, call,
                              messages=messages)
            if completion is None:
                child.notes.append("the reply held no code for the cursor")
            elif _digest(completion) in self.seen:
                child.notes.append("the same completion as an earlier candidate: not analyzed again")
            else:
                self.seen.add(_digest(completion))
                child.analysis = self.analyst.analyze(completion)
            children.append(child)
        return children

    def _pick(self, last: list[Candidate]) -> Candidate | None:
        """The most promising open branch (newest on a tie), taken out of the open set."""
        if not self.open:
            return None
        parent = max(self.open, key=lambda c: (c.key(), c.round, -c.index))
        self.open.remove(parent)
        if last and parent not in last:
            self.backtracks += 1
            self.observer.event(f"backtracking to candidate {parent.id}: the latest ones are no better")
        return parent

    def _probe_calls(self, round_: int, found: Target) -> list[str]:
        """The docstring's example calls, then the calls the model proposes (asked once per search)."""
        if self.probes is None:
            messages = prompts.probe_messages(found.name, found.header, agreement.PROBE_COUNT)
            params = {"stop": STOP[:1], "temperature": self.settings.temperature}
            (reply, _), = call_model_many(self.chat, [(messages, f"probes-{round_}", params)], self.usage,
                                          _Calls(self.observer))
            text = reply.content if isinstance(reply.content, str) else reply.text
            proposed = agreement.calls_in(text.replace("```python", "").replace("```", ""), found.name)
            examples = agreement.calls_in(found.docstring, found.name)
            self.probes = list(dict.fromkeys([*examples, *proposed]))[:agreement.MAX_PROBES]
        return self.probes

    def _agree(self, round_: int) -> Candidate | None:
        """Of the accepted candidates, the one whose results most others share (the best by the
        analyzers when there is nothing to compare: one candidate, no function, no inputs)."""
        accepted = [c for c in self.candidates if c.accepted and c.completion is not None]
        # A candidate that repeats an accepted one (not analyzed again) is one more vote for it.
        weights = [sum(1 for o in self.candidates if o.completion is not None
                       and _digest(o.completion) == _digest(c.completion or "")) for c in accepted]
        if len(accepted) < 2:  # one program, however many wrote it: nothing to choose
            return self.best
        first = accepted[0]
        assert first.completion is not None
        lines = self.doc.completion_lines(first.completion)
        found = agreement.target(lf(self.doc.text(first.completion)), *lines)
        calls = self._probe_calls(round_, found) if found is not None else []
        if found is None or not calls:
            return self.best
        behaviours = [agreement.behaviour(lf(self.doc.text(c.completion or "")), self.analyst.base.module_name,
                                          found.name, calls, self.analyst.base.limits) for c in accepted]
        scores = agreement.agreement(behaviours, weights)
        chosen = max(range(len(accepted)), key=lambda i: (scores[i], accepted[i].key(), -i))
        others = sum(weights) - 1
        accepted[chosen].notes.append(f"chosen by agreement: {scores[chosen]} of {others * len(calls)} results "
                                      f"shared with the {others} other accepted candidates on {len(calls)} inputs")
        self.observer.event(f"agreement over {sum(weights)} accepted candidates on {len(calls)} inputs: "
                            f"scores {scores}, candidate {accepted[chosen].id} chosen")
        return accepted[chosen]

    def run(self) -> SearchOutcome:
        started = time.monotonic()
        stop_reason, last, rounds = "budget", [], 0
        for round_ in range(1, self.settings.max_iterations + 1):
            if self.guard:
                self.guard()
            parent = self._pick(last) if round_ > 1 else None
            if round_ > 1 and parent is None:
                self.observer.event("no open branch left: asking afresh")
            rounds = round_
            self.observer.event(f"round {round_}/{self.settings.max_iterations}: "
                                + (f"feedback on candidate {parent.id}" if parent else "asking for a completion"))
            children = self._expand(round_, parent)
            self.candidates += children
            for child in children:
                if child.analysis is not None and (self.best is None or child.key() > self.best.key()):
                    self.best = child
                self.observer.candidate(child, self.best)
            if self.best is not None and self.best.accepted:
                if self.settings.agreement:
                    self.best = self._agree(round_)
                stop_reason = "accepted"
                break
            fresh = [c for c in children if c.analysis is not None]
            self.open += fresh
            if parent is not None:
                parent.expansions += 1
                if parent.expansions < MAX_EXPANSIONS and not any(c.key() > parent.key() for c in fresh):
                    self.open.append(parent)  # no child beat it: it may be tried again, hotter
            last = fresh
        if self.best is None:
            stop_reason = "no_code"
        first = self.candidates[0] if self.candidates else None
        return SearchOutcome(self.best, first, self.candidates, rounds, self.backtracks, stop_reason,
                             time.monotonic() - started, self.usage)
