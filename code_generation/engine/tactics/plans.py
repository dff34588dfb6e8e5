"""The `plan` tactic: extra candidates each follow an approach the model first named in words.

Why: the 1.5B's sampling is peaked, so hotter samples of one request mostly give the same program
again and extra candidates add little (issue 29). PlanSearch (Wang et al., 2024) asks first for
several short plans in natural language, then for code per plan: the samples differ by
construction. Off by default until the ceiling (`benchmarks/ceiling.py --settings plan-t0.7`)
measures it against plain sampling. The wording is each language's (`Language.plan_messages`,
`Language.planned_messages`); the parsing of the reply and the bookkeeping are here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from code_generation.engine.loop_state import LoopState, Request, Tactic, register_tactic
from code_generation.model_calls import call_model_many
from my_llm.models.usage import CallUsage

PLANS = 3  # approaches asked for at once: with two candidates a round, one for each of three rounds
PLAN_TOKENS = 320  # the planning reply's length limit: a few sentences, never a module
MAX_PLAN_CHARS = 400  # one approach, as the code request shows it
MAX_PLAN_CALLS = 3  # planning calls per run
PLAN_SEED_OFFSET = 100_003  # planning calls' seeds, away from the code calls' (ask_model's)
PLAN_STOP = ["```"]  # a fence means code has started: the approaches are above it

_WORDS = r"(?:approach|option|plan|idea|method|solution|strategy)"
_MARKER = re.compile(
    rf"""(?:(?P<bullet>[-*•+])\s+
        |(?:{_WORDS}\s*)?\(?(?P<num>\d{{1,2}})\s*(?:[.):]|\s-)(?=\s|$)\s*
        |{_WORDS}\s+(?P<num2>\d{{1,2}})\b[\s.:)\-–—]*)""",
    re.IGNORECASE | re.VERBOSE,
)


def _clean(parts: list[str]) -> str:
    """One approach's lines as one line: a heading without punctuation is joined by a colon."""
    text = ""
    for part in (" ".join(p.split()) for p in parts):
        if not part:
            continue
        glue = "" if not text else " " if text[-1] in ".:;!?,)" else ": "
        text += glue + part
    text = text.strip(" -–—:")
    if len(text) > MAX_PLAN_CHARS:
        text = text[:MAX_PLAN_CHARS].rsplit(" ", 1)[0] + " ..."
    return text


def parse_plans(reply: str, count: int) -> list[str]:
    """The approaches of a planning reply, at most `count`: numbered or bulleted items of any
    common style; an item's other lines (deeper bullets, indented text) belong to it. Text before
    the first item or after a blank line that follows one is the model's talk, not an approach."""
    items: list[list[str]] = []
    top: tuple[str, int] | None = None  # the list's own marker kind and indent
    open_item = False
    for raw in reply.split("```", 1)[0].splitlines():
        line = raw.replace("**", "")  # bold headings
        indent = len(line) - len(line.lstrip())
        body = line.strip().lstrip("#").strip()
        if not body:
            open_item = open_item and not (items and any(p.strip() for p in items[-1]))
            continue
        found = _MARKER.match(body)
        kind = None if found is None else "bullet" if found["bullet"] else "word" if body[0].isalpha() else "number"
        text = body[found.end():] if found else body
        if found is not None and (top is None or (kind == top[0] and indent <= top[1])):
            top = top or (str(kind), indent)
            items.append([text])
            open_item = True
        elif items and top is not None and (open_item or indent > top[1]):
            items[-1].append(text)
            open_item = True
    plans: list[str] = []
    for item in items:
        text = _clean(item)
        if len(text) >= 8 and text.casefold() not in {p.casefold() for p in plans}:
            plans.append(text)
    return plans[:count]


def plan_params(state: LoopState, seed: int | None) -> dict[str, Any]:
    """The planning call's parameters: short, stopped at any code, at the run's temperature."""
    params: dict[str, Any] = {"stop": list(PLAN_STOP), "max_tokens": PLAN_TOKENS}
    if seed is not None:
        params["seed"] = seed % 2**31
    return params


def ask_plans(state: LoopState, count: int, tried: Sequence[str] = (),
              seed: int | None = None) -> tuple[list[str], CallUsage | None]:
    """One model call for `count` different approaches (naming those `tried`), accounted like any
    call (usage, the observer: run folder and memory log); [] when none can be read from it."""
    messages: list[BaseMessage] | None = state.language.plan_messages(state.opening, count, tried)
    if messages is None:
        return [], None
    state.observer.event(f"iteration {state.iteration}/{state.settings.max_iterations}: planning {count} approaches")
    label = f"plan-{state.iteration}"
    [(reply, call)] = call_model_many(state.chat, [(messages, label, plan_params(state, seed))], state.usage,
                                      state.observer)
    call.purpose = "planning"
    plans = parse_plans(reply.content if isinstance(reply.content, str) else reply.text, count)
    if plans:
        state.observer.event("approaches: " + "; ".join(f"{i}) {p[:70]}" for i, p in enumerate(plans, 1)))
    else:
        state.observer.event("the planning reply named no approach: hotter samples of the request instead")
    return plans, call


def planned_request(state: LoopState, plan: str, temperature: float) -> Request | None:
    """The opening request with one approach to follow, as a whole-module request (prefilled)."""
    messages = state.language.planned_messages(state.opening, plan)
    return None if messages is None else Request(messages, temperature, kind="plan")


def plan_fits(state: LoopState) -> bool:
    """Whether a planning call fits the time budget: round 1 plans while the budget lasts (it runs
    anyway); a later round only when, delayed by a planning reply of full length at the run's own
    seconds per output token, it still ends within the budget."""
    budget = state.settings.time_budget
    if budget is None:
        return True
    spent, done = state.clock() - state.started, state.iteration - 1
    if done <= 0:
        return spent < budget
    calls = [a.usage for a in state.attempts if a.usage is not None and a.usage.tokens_out]
    per_token = sum(c.seconds for c in calls) / sum(c.tokens_out for c in calls) if calls else 0.0
    return spent + spent / done + PLAN_TOKENS * per_token <= budget


@register_tactic("plan", "extra candidates each follow a different approach the model first named in words")
class Plan(Tactic):
    """Extra candidates follow approaches the model named first, instead of hotter samples.

    The approaches of one planning call serve the rounds until each has been used once; then the
    model is asked for new ones, told which were tried. A reply with no approach in it, the time
    budget or MAX_PLAN_CALLS ends the planning: the rest of the run samples hotter, as without it.
    """

    def __init__(self) -> None:
        self.unused: list[str] = []  # approaches not yet given to a candidate
        self.used: list[str] = []
        self.calls = 0
        self.gave_none = False  # a planning reply held no new approach: do not ask again

    def _replan(self, state: LoopState, count: int) -> None:
        """Ask for new approaches, different from those known."""
        self.calls += 1
        state.noted(self, True)  # the call costs tokens and time even when it yields nothing
        base = getattr(state.chat, "seed", None)
        seed = None if base is None else base + PLAN_SEED_OFFSET + state.iteration
        new, _ = ask_plans(state, max(PLANS, count), self.used, seed)
        known = {p.casefold() for p in [*self.used, *self.unused]}
        fresh = [p for p in new if p.casefold() not in known]
        self.gave_none = not fresh
        self.unused += fresh

    def fresh_requests(self, state: LoopState, count: int) -> list[Request] | None:
        if len(self.unused) < count and self.calls < MAX_PLAN_CALLS and not self.gave_none and plan_fits(state):
            self._replan(state, count)
        taken, self.unused = self.unused[:count], self.unused[count:]
        self.used += taken
        requests = [r for plan in taken if (r := planned_request(state, plan, state.hot)) is not None]
        return requests or None
