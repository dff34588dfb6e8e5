"""benchmarks/ablation.py without the real model: two tiny task folders, a fake OpenAI-compatible
server (tests/fake_openai_server.py) answering like a model that solves one task in round 1 and
the other only after feedback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import ablation
from code_generation.engine.loop_state import LoopState, Tactic
from code_generation.evaluation.report import read_rows
from tests.fake_openai_server import Answer, Seen, completion, fake_server

DOUBLE_TEST = """import unittest

from doubler import double


class TestDouble(unittest.TestCase):
    def test_two(self):
        self.assertEqual(double(2), 4)
"""

HALVE_TEST = """import unittest

from halver import halve


class TestHalve(unittest.TestCase):
    def test_even(self):
        self.assertEqual(halve(4), 2)

    def test_odd(self):
        self.assertEqual(halve(9), 4.5)
"""


def _tasks(root: Path) -> Path:
    for name, module, test in (("double", "doubler", DOUBLE_TEST), ("halve", "halver", HALVE_TEST)):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "prompt.txt").write_text(f"Write `{module}.py` with one function, `{name}(x)`.\n")
        (folder / f"test_{module}.py").write_text(test)
    return root


def _model(seen: Seen, count: int) -> Answer:
    """`double` right at once; `halve` floors until the feedback shows `4 != 4.5`."""
    if seen.method == "GET":  # the client asks what the server is: an unknown one
        return 404, {"error": {"message": "not found"}}, {}
    text = json.dumps(seen.body.get("messages", []))
    if "halver" in text:
        body = "return x / 2" if "4 != 4.5" in text else "return x // 2"
        code = f"def halve(x):\n    {body}\n"
    else:
        code = "def double(x):\n    return 2 * x\n"
    return 200, completion(f"```python\n{code}```\n", prompt_tokens=len(text) // 3), {}


def _run(server_url: str, tasks: Path, out: Path, configs: str, *extra: str) -> int:
    return ablation.main(["--model", "openai:m", "--base-url", server_url, "--sets", "examples", "--examples-dir",
                          str(tasks), "--configs", configs, "--out", str(out), "--seed", "3", "--candidates", "1", *extra])


def _by(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["config"], r["task"]): r for r in read_rows(out)}


def test_the_classification_follows_the_hooks_each_tactic_implements() -> None:
    kinds = ablation.classification()
    assert {n for n, (kind, _) in kinds.items() if kind == ablation.FULL} == {"skeleton", "prefill", "plan"}
    assert kinds["plan"] == (ablation.FULL, ["fresh_requests"])  # round 1's extra candidate follows a plan
    assert kinds["type_note"] == (ablation.LATER, ["case_note"])
    assert kinds["combine"] == (ablation.LATER, ["repair"])
    assert kinds["trace"][0] == ablation.LATER
    # every hook of the interface is placed; a new one must be classified here first
    assert set(ablation.hook_names()) == ablation.FIRST_ROUND_HOOKS | ablation.LATER_ROUND_HOOKS

    class NoteAndClean(Tactic):
        def feedback_note(self, code: str, state: LoopState) -> str:
            return ""

        def clean(self, code: str, state: LoopState) -> tuple[str, list[str]]:
            return code, []

    class OnlyNote(NoteAndClean):
        clean = Tactic.clean  # type: ignore[assignment]

    assert ablation.kind_of(NoteAndClean) == ablation.FULL
    assert ablation.kind_of(OnlyNote) == ablation.LATER


def test_configurations_and_the_humaneval_spread() -> None:
    kinds = ablation.classification()
    defaults = ("skeleton", "type_note", "focus")
    configs = ablation.parse_configs("-focus,+trace,-skeleton", defaults, kinds)
    assert [(c.name, c.kind) for c in configs] == [("default", "full"), ("-focus", "later-round"),
                                                   ("+trace", "later-round"), ("-skeleton", "full")]
    assert configs[2].tactics == ("skeleton", "type_note", "focus", "trace")
    assert ablation.all_configs(defaults)[:4] == ["default", "-skeleton", "-type_note", "-focus"]
    for wrong in ("+skeleton", "-trace", "-nonsense", "focus"):
        with pytest.raises(ablation.MyLLMError):
            ablation.parse_configs(wrong, defaults, kinds)
    assert ablation.spread(list(range(164)), 40) == list(range(0, 157, 4))


def test_later_round_tactics_reuse_the_default_and_a_rerun_resumes(tmp_path: Path) -> None:
    tasks, out = _tasks(tmp_path / "tasks"), tmp_path / "ablation.jsonl"
    with fake_server(_model) as server:
        assert _run(server.base_url, tasks, out, "-type_note,-skeleton") == 0
        # default: double 1 call, halve 2; -type_note: none (double solved in round 1, and on halve
        # type_note never acted); -skeleton: both (skeleton shaped every opening request)
        assert len(server.chat_requests()) == 1 + 2 + 0 + 3
        rows = _by(out)
        assert rows["default", "double"]["round1"] and not rows["default", "halve"]["round1"]
        assert rows["default", "halve"]["solved"] and rows["default", "halve"]["iterations"] == 2
        assert rows["default", "halve"]["tactics_acted"] == ["skeleton"]
        assert rows["-type_note", "double"]["reused_because"] == "solved in round 1"
        assert rows["-type_note", "halve"]["reused_because"] == "type_note never acted in the default's run"
        assert rows["-type_note", "double"]["tokens_in"] == rows["default", "double"]["tokens_in"]
        assert "type_note" not in rows["-type_note", "halve"]["tactics"]
        assert not rows["-skeleton", "double"]["reused"] and not rows["-skeleton", "halve"]["reused"]
        assert all(r["commit"] and r["seed"] == 3 and r["set"] == "examples" for r in rows.values())

        assert _run(server.base_url, tasks, out, "-type_note,-skeleton") == 0  # nothing left to do
        assert len(server.chat_requests()) == 6
        lines = out.read_text().splitlines()
        assert len(lines) == 6
        out.write_text("\n".join(line for line in lines if '"-skeleton"' not in line or '"halve"' not in line) + "\n")
        assert _run(server.base_url, tasks, out, "-type_note,-skeleton,+trace") == 0
        # the missing -skeleton row (2 calls) and +trace on halve (2 calls; double reused)
        assert len(server.chat_requests()) == 10
    rows = _by(out)
    assert len(read_rows(out)) == 8
    assert rows["+trace", "double"]["reused"] and rows["+trace", "halve"]["solved"]
    assert rows["+trace", "halve"]["tactics_acted"] == ["skeleton", "trace"]  # a tactic added is never reused on "acted"
    assert ablation.round1_check(read_rows(out), 3) == (1, 1)  # +trace on halve: the same round 1


def test_full_reruns_every_task_and_the_report_checks_round_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks, out = _tasks(tmp_path / "tasks"), tmp_path / "full.jsonl"
    with fake_server(_model) as server:
        assert _run(server.base_url, tasks, out, "-type_note", "--full") == 0
        assert len(server.chat_requests()) == 6
    assert not any(r["reused"] for r in read_rows(out))
    assert ablation.round1_check(read_rows(out), 3) == (2, 2)
    printed = capsys.readouterr().out
    assert "round-1 check: 2 of 2 runs of later-round configurations made the default's round-1 programs" in printed
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


def test_bad_configuration_is_one_error_before_any_call(tmp_path: Path) -> None:
    with fake_server(_model) as server:
        assert _run(server.base_url, _tasks(tmp_path / "tasks"), tmp_path / "x.jsonl", "+skeleton") == 2
        assert server.chat_requests() == []


def _row(config: str, set_name: str, task: str, solved: bool, tokens: int, seconds: float, **extra: object) -> dict:
    kind = "full" if config in ("default", "-skeleton") else "later-round"
    return {"task": task, "strategy": "loop", "config": config, "set": set_name, "seed": 1, "commit": "abc1234",
            "solved": solved, "iterations": 1, "tokens_in": tokens, "tokens_out": tokens // 10, "seconds": seconds,
            "kind": kind, "reused": False, **extra}


def test_report_table_markdown_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ablation_abc1234.jsonl"
    rows = [
        _row("default", "examples", "a", True, 100, 10.0, round1=True, tactics_acted=["skeleton"]),
        _row("default", "examples", "b", False, 300, 30.0, round1_codes=["c1"], tactics_acted=["skeleton", "type_note"]),
        _row("default", "humaneval", "HumanEval/0", True, 50, 5.0, round1=True),
        _row("-skeleton", "examples", "a", False, 200, 20.0), _row("-skeleton", "examples", "b", False, 300, 30.0),
        _row("-skeleton", "humaneval", "HumanEval/0", False, 100, 10.0),
        _row("-type_note", "examples", "a", True, 100, 10.0, reused=True), _row("-type_note", "examples", "b", True, 100, 10.0, round1_codes=["c2"]),
        _row("-focus", "examples", "b", True, 300, 30.0, error=True),  # an error row counts for nothing
        _row("default", "examples", "a", True, 999, 99.0, seed=2),  # another seed
    ]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = ablation.summarize(read_rows(out), seed=1)
    assert list(summary) == ["default", "-skeleton", "-type_note"]
    assert summary["-skeleton"]["sets"] == {"examples": {"solved": 0, "tasks": 2, "delta": -1},
                                            "humaneval": {"solved": 0, "tasks": 1, "delta": -1}}
    assert summary["-type_note"]["sets"]["examples"]["delta"] == 1 and summary["-type_note"]["reused"] == 1
    assert summary["-type_note"]["tokens_change"] == pytest.approx((220 - 440) / 440)
    assert summary["-skeleton"]["seconds_change"] == pytest.approx((60 - 45) / 45)

    assert ablation.main(["--report", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| `-skeleton` | full | 0/2 | -1 | 0/1 | -1 | 600 | 60 | +33% | 60 | +33% | 0 | 2/2 |" in printed
    assert "| `-type_note` | later-round | 2/2 | +1 | - | - | 200 | 20 | -50% | 20 | -50% | 1 | 1/2 |" in printed
    assert "| default | baseline | 1/2 |  | 1/1 |" in printed
    assert "HumanEval solved" in printed and "-type_note" in printed
    assert "round-1 check: 0 of 1 runs" in printed  # b's round 1 differed under -type_note
    assert (tmp_path / "ablation_abc1234.png").read_bytes().startswith(b"\x89PNG")
