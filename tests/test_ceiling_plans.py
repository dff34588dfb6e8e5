"""benchmarks/ceiling.py's `plan-...` request form (issue 29): its name, one planning call per task
shared by the task's samples, an approach per sample round robin, rows that name it, and a report
that keeps it apart from plain sampling. A fake model throughout."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from benchmarks import ceiling, ceiling_plans, ceiling_report
from code_generation.evaluation.report import ResultsLog
from my_llm.errors import MyLLMError
from tests.test_ceiling import RIGHT, WRONG, Recording, shapes_task

PLANNING = "Do not write any code yet"
APPROACHES = "1. Multiply the side by itself.\n2. Use the power operator on the side."


class Planning(Recording):
    """A `Recording` that answers planning requests with `plan_reply`."""

    plan_reply: str = APPROACHES

    def _call(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
              **kwargs: Any) -> str:
        if PLANNING in str(messages[-1].content):
            with self.lock:
                self.seen.append((list(messages), {"stop": stop, **kwargs}))
            return self.plan_reply
        return super()._call(messages, stop, run_manager, **kwargs)


def test_plan_settings_are_parsed_from_their_names() -> None:
    plan = ceiling.parse_setting("plan-t0.7")
    assert (plan.name, plan.params, plan.plans) == ("plan-t0.7", {"temperature": 0.7}, ceiling_plans.DEFAULT_PLANS)
    assert ceiling.parse_setting("plan5-t1.0-minp0.05").plans == 5
    assert ceiling.parse_setting("plan5-t1.0-minp0.05").params == {"temperature": 1.0, "min_p": 0.05}
    assert ceiling.parse_setting("t0.2").plans == 0  # the existing settings are as they were
    for bad in ("plan", "plan0-t0.2", "t0.2-plan", "plan-plan-t0.2", "planx-t0.2"):
        with pytest.raises(MyLLMError):
            ceiling.parse_setting(bad)
    assert ceiling.build_parser().parse_args(["--settings", "t0.2,plan-t0.7"]).settings == "t0.2,plan-t0.7"


def _run(tmp_path: Path, chat: Recording, settings: str, samples: int) -> list[dict[str, Any]]:
    out = tmp_path / "ceiling.jsonl"
    run = ceiling.Run(chat, ResultsLog(out), "abc1234", "fake", parallel=2)
    ceiling.run_all(run, {"examples": [shapes_task()]}, [ceiling.parse_setting(s) for s in settings.split(",")],
                    {"examples": samples})
    return sorted(ceiling_report.read_rows(out), key=lambda r: (r["setting"], r["sample"]))


def test_one_planning_call_serves_the_tasks_samples_round_robin(tmp_path: Path) -> None:
    chat = Planning(responses=[RIGHT, WRONG, WRONG])
    rows = _run(tmp_path, chat, "t0.2,plan-t0.7", 3)
    planning = [(m, p) for m, p in chat.seen if PLANNING in str(m[-1].content)]
    assert len(planning) == 1 and planning[0][1]["seed"] == ceiling_plans.PLAN_SEED
    plain = [r for r in rows if r["setting"] == "t0.2"]
    planned = [r for r in rows if r["setting"] == "plan-t0.7"]
    assert not any("plan_index" in r or "plan_tokens_in" in r for r in plain)  # the old rows, unchanged
    assert [r["plan_index"] for r in planned] == [0, 1, 0]
    assert [r["plan"] for r in planned] == ["Multiply the side by itself.", "Use the power operator on the side.",
                                            "Multiply the side by itself."]
    assert [r["solved"] for r in planned] == [True, False, False]  # judged as the plain samples are
    assert sum("plan_tokens_in" in r for r in planned) == 1  # the call's cost, counted once
    sent = {p["seed"]: (m, p) for m, p in chat.seen if PLANNING not in str(m[-1].content) and p["temperature"] == 0.7}
    for row in planned:
        messages, params = sent[row["seed"]]
        assert str(messages[-1].content).endswith(f"Use this approach: {row['plan']}")
    opening = next(m for m, p in chat.seen if p.get("temperature") == 0.2)
    assert str(messages[-1].content).startswith(str(opening[-1].content))  # the opening's prefix, cached
    entries = {e["setting"]: e for e in ceiling_report.summarize(rows)}
    assert set(entries) == {"t0.2", "plan-t0.7"} and entries["plan-t0.7"]["samples"] == 3
    assert entries["plan-t0.7"]["tokens_in"] > statistics.mean(r["tokens_in"] for r in planned)  # the planning call's tokens are in the figure


def test_a_planning_reply_without_approaches_sends_the_opening_request(tmp_path: Path) -> None:
    chat = Planning(responses=[RIGHT], plan_reply="Just write it.")
    rows = _run(tmp_path, chat, "plan-t0.7", 2)
    assert [(r["plan_index"], r["plan"], r["plans"]) for r in rows] == [(None, None, 0)] * 2
    sent = [m for m, p in chat.seen if PLANNING not in str(m[-1].content)]
    assert all("Use this approach" not in str(m[-1].content) for m in sent) and len(sent) == 2
