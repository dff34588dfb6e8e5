"""run_speed: the cache, drafting and speed figures of kept runs, read from run.json as create-script writes it."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from my_llm.models.usage import CallUsage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import run_speed  # noqa: E402


def _call(purpose: str, prompt_n: int, cache_n: int, out: int, speed: float, drafted: int = 0, accepted: int = 0) -> dict:
    return asdict(CallUsage("code-1", prompt_n + cache_n, out, 1.0, None, prompt_n=prompt_n, cache_n=cache_n,
                            tokens_per_s=speed, draft_n=drafted, draft_accepted=accepted, purpose=purpose))


def test_figures_per_kind_of_request_and_in_all(tmp_path: Path) -> None:
    run = tmp_path / "task" / "run"
    run.mkdir(parents=True)
    calls = [_call("opening", 300, 0, 100, 8.0), _call("fresh", 10, 290, 100, 6.0, 40, 30),
             _call("feedback", 100, 300, 50, 20.0, 60, 50)]
    (run / "run.json").write_text(json.dumps({"seconds": 60.0, "calls": calls}))
    table, summary = run_speed.report(run_speed.calls_of([tmp_path]))
    by = summary["by_request"]
    assert by["fresh"]["cache_share"] == pytest.approx(290 / 300)
    assert by["all"]["cache_share"] == pytest.approx(590 / 1000) and by["all"]["calls"] == 3
    assert by["all"]["accepted"] == 80 and by["all"]["drafted"] == 100
    assert by["all"]["tokens_per_s"] == 8.0  # the median call
    assert summary["samples_per_minute"] == pytest.approx(3.0)
    assert table.row_count == 4


def test_no_runs_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_speed.main([str(tmp_path)]) == 2
    assert "--keep" in capsys.readouterr().err
