"""The ceiling's `plan-...` request form (issue 29): each sample follows one approach in words.

Why: repeated samples of the opening request give the 1.5B mostly the same program. The `plan`
tactic (code_generation/engine/tactics/plans.py) asks first for a few different approaches, then
for code per approach; here the ceiling measures that form against plain sampling before the
tactic is made default. Per task, one planning call, made as the tactic makes it (the same
wording, length limit and stop) with a fixed seed, serves every sample of the task's plan
settings; sample i sends the opening request plus approach i mod their number (round robin), at
the setting's temperature, prefilled as the loop prefills it. A planning reply with no approach
in it leaves the opening request as it is, as the loop falls back to hotter samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.tactics.plans import PLANS, ask_plans, planned_request

if TYPE_CHECKING:
    from code_generation.engine.loop_state import LoopState

PLAN_SEED = 999  # the planning call's seed: below ceiling.SEED_BASE, so never a sample's
DEFAULT_PLANS = PLANS  # approaches per task for `plan-...`; `plan5-...` asks for 5


def task_plans(state: LoopState, count: int) -> tuple[list[str], dict[str, Any]]:
    """The task's approaches from one seeded planning call, and its cost, for the row that pays it."""
    plans, call = ask_plans(state, count, (), seed=PLAN_SEED)
    if call is None:  # the language has no planning prompt
        return [], {}
    return plans, {"plan_tokens_in": call.tokens_in, "plan_tokens_out": call.tokens_out,
                   "plan_seconds": round(call.seconds, 3)}


def planned(state: LoopState, plans: list[str], index: int) -> tuple[list[BaseMessage] | None, dict[str, Any]]:
    """Sample `index`'s request (None: the opening request as it is) and the fields its row adds."""
    if not plans:
        return None, {"plan_index": None, "plan": None, "plans": 0}
    i = index % len(plans)
    request = planned_request(state, plans[i], 0.0)  # the temperature is the setting's, sent by the caller
    if request is None:
        return None, {"plan_index": None, "plan": None, "plans": 0}
    messages = [*request.messages, AIMessage(state.prefix)] if state.prefix else list(request.messages)
    return messages, {"plan_index": i, "plan": plans[i], "plans": len(plans)}
