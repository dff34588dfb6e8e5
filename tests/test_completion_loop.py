"""The completion search with LangChain's fake chat models: feedback, backtracking, the API and the CLI."""

from __future__ import annotations

import codecs
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from code_generation.completion import (
    CompletionSettings,
    SearchSettings,
    complete_file,
    complete_source,
)
from code_generation.completion import cli as completion_cli
from code_generation.completion.search import Candidate
from my_llm.models.usage import CallUsage

FAST = ("pyflakes", "signature", "hallucination")
CONFIG = 'import json\n\n\ndef load_config(text):\n    """Parse a JSON config and return it as a dict."""\n'


def block(code: str) -> str:
    return f"```python\n{code}```"


class Spy:
    def __init__(self) -> None:
        self.prompts: list[list[BaseMessage]] = []
        self.candidates: list[Candidate] = []
        self.events: list[str] = []

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.prompts.append(list(messages))

    def candidate(self, candidate: Candidate, best: Candidate | None) -> None:
        self.candidates.append(candidate)

    def event(self, message: str) -> None:
        self.events.append(message)


def test_a_wrong_signature_is_fixed_after_feedback() -> None:
    spy = Spy()
    chat = FakeListChatModel(responses=[block("    return json.loads(text, True)\n"), block("    return json.loads(text)\n")])
    outcome, doc = complete_source(CONFIG, chat, analyzers=FAST, settings=SearchSettings(max_iterations=3), observer=spy)
    assert outcome.stop_reason == "accepted" and outcome.rounds == 2
    assert [c.accepted for c in spy.candidates] == [False, True]
    feedback = spy.prompts[1][-1].content
    assert "does not fit the signature `loads(s, *, cls=None" in feedback and "too many positional arguments" in feedback
    assert "`return json.loads(text, True)`" in feedback  # the line it is about
    assert spy.prompts[1][-2].content == block("    return json.loads(text, True)\n")  # its own answer, above
    assert doc.splice(outcome.best.completion) == (CONFIG + "    return json.loads(text)\n").encode()
    assert outcome.first is spy.candidates[0]  # what one call alone would have given


def test_a_hallucinated_attribute_gets_the_real_names_as_suggestions() -> None:
    spy = Spy()
    source = 'import os\n\n\ndef present(path):\n    """Whether the path exists."""\n'
    chat = FakeListChatModel(responses=[block("    return os.path.exist(path)\n"), block("    return os.path.exists(path)\n")])
    outcome, _ = complete_source(source, chat, analyzers=FAST, settings=SearchSettings(max_iterations=3), observer=spy)
    assert outcome.accepted and outcome.best.completion == "    return os.path.exists(path)\n"
    assert "`os.path` has no attribute `exist`; did you mean `exists`" in spy.prompts[1][-1].content


def test_backtracking_to_an_earlier_branch_when_the_latest_is_worse() -> None:
    spy = Spy()
    one_error = block("    return json.loads(text, True)\n")
    two_errors = block("    return json.lods(text) + jsn\n")
    right = block("    return json.loads(text)\n")
    chat = FakeListChatModel(responses=[one_error, two_errors, right])
    outcome, _ = complete_source(CONFIG, chat, analyzers=FAST, settings=SearchSettings(max_iterations=4), observer=spy)
    assert [len(c.analysis.errors) for c in spy.candidates] == [1, 2, 0]
    assert outcome.backtracks == 1
    assert any("backtracking to candidate 1.0" in e for e in spy.events)
    third = spy.prompts[2]
    assert third[-2].content == one_error  # round 3 answers the feedback on 1.0, not on the worse 2.0
    assert "json.lods" not in "".join(str(m.content) for m in third)
    assert [c.parent for c in spy.candidates] == [None, "1.0", "1.0"]
    assert outcome.accepted and outcome.rounds == 3


def test_without_backtracking_worth_it_the_newest_branch_goes_on() -> None:
    spy = Spy()
    chat = FakeListChatModel(responses=[block("    return json.lods(text) + jsn\n"), block("    return json.loads(text, True)\n"),
                                        block("    return json.loads(text)\n")])
    outcome, _ = complete_source(CONFIG, chat, analyzers=FAST, settings=SearchSettings(max_iterations=4), observer=spy)
    assert [c.parent for c in spy.candidates] == [None, "1.0", "2.0"]  # each child improved: straight on
    assert outcome.backtracks == 0 and outcome.accepted


class ByTemperature(BaseChatModel):
    """Candidates of one round are asked at once (threads): each gets its reply by its temperature."""

    replies: dict[float, list[str]]

    @property
    def _llm_type(self) -> str:
        return "by-temperature"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = self.replies[round(kwargs.get("temperature", 0.2), 2)].pop(0)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


def test_several_candidates_the_best_scored_is_expanded() -> None:
    spy = Spy()
    chat = ByTemperature(replies={0.2: [block("    return json.lods(text) + jsn\n"), block("    return json.loads(text)\n")],
                                  0.5: [block("    return json.loads(text, True)\n"), block("    return 1\n")]})
    outcome, _ = complete_source(CONFIG, chat, analyzers=FAST, settings=SearchSettings(max_iterations=3, candidates=2),
                                 observer=spy)
    assert [c.id for c in spy.candidates] == ["1.0", "1.1", "2.0", "2.1"]
    assert spy.candidates[2].parent == "1.1"  # the one with fewer errors got the feedback
    assert outcome.best is spy.candidates[2]


def test_the_same_completion_again_is_not_analyzed_twice_and_the_budget_ends_it() -> None:
    spy = Spy()
    wrong = block("    return json.loads(text, True)\n")
    chat = FakeListChatModel(responses=[wrong, wrong, wrong])
    outcome, _ = complete_source(CONFIG, chat, analyzers=FAST, settings=SearchSettings(max_iterations=3), observer=spy)
    assert outcome.stop_reason == "budget" and not outcome.accepted
    assert spy.candidates[1].analysis is None and "the same completion" in spy.candidates[1].notes[0]
    assert outcome.best is spy.candidates[0]
    assert float(spy.prompts[2][-1].content != "") and spy.candidates[2].temperature > 0.2  # retried hotter


def test_prefilled_requests_continue_the_file() -> None:
    spy = Spy()
    source = CONFIG + "\n\ndef other():\n    return 2\n"
    chat = FakeListChatModel(responses=["    return json.loads(text)\n\n\ndef other():\n    return 2\n```"])
    outcome, doc = complete_source(source, chat, line=6, analyzers=FAST, settings=SearchSettings(prefill=True), observer=spy)
    request = spy.prompts[0]
    assert isinstance(request[-1], AIMessage) and request[-1].content == "```python\n" + CONFIG
    assert "def other():\n    return 2" in request[0].content  # the code after the cursor is shown, not to repeat
    assert outcome.best.completion == "    return json.loads(text)\n"
    assert doc.splice(outcome.best.completion).decode() == CONFIG + "    return json.loads(text)\n\n\ndef other():\n    return 2\n"


def test_tests_decide_when_given() -> None:
    tests = ("import unittest\nfrom conf import load_config\n\nclass T(unittest.TestCase):\n"
             "    def test_dict(self):\n        self.assertEqual(load_config('{\"a\": 1}'), {'a': 1})\n")
    chat = FakeListChatModel(responses=[block("    return json.dumps(text)\n"), block("    return json.loads(text)\n")])
    spy = Spy()
    outcome, _ = complete_source(CONFIG, chat, analyzers=FAST, module_name="conf", test_source=tests,
                                 test_filename="test_conf.py", settings=SearchSettings(max_iterations=3), observer=spy)
    assert outcome.accepted and outcome.rounds == 2
    assert "FAIL: T.test_dict" in spy.prompts[1][-1].content


# --------------------------------------------------------------------------- the file API and the CLI

WINDOWS = codecs.BOM_UTF8 + b'import json\r\n\r\n\r\ndef load_config(text):\r\n\t"""Parse it."""\r\n\t# TODO: parse\r\n\r\n\r\ndef after():\r\n\treturn 1\r\n'


def settings(path: Path, tmp_path: Path, **kw) -> CompletionSettings:
    return CompletionSettings(file=path, analyzers=FAST, runs_base=tmp_path / "runs", memory=False, **kw)


def test_write_replaces_the_file_byte_for_byte_outside_the_completion(tmp_path: Path) -> None:
    path = tmp_path / "conf.py"
    path.write_bytes(WINDOWS)
    chat = FakeListChatModel(responses=[block("    return json.loads(text)\n")])
    result = complete_file(settings(path, tmp_path, line=6, write=True), chat=chat)
    assert result.accepted and result.written and result.exit_code == 0
    assert path.read_bytes() == WINDOWS.replace(b"\t# TODO: parse\r\n", b"\treturn json.loads(text)\r\n")
    assert (Path(result.run_dir) / "previous" / "conf.py").read_bytes() == WINDOWS
    run = json.loads((Path(result.run_dir) / "run.json").read_text())
    assert run["accepted"] and run["candidates_tried"][0]["analysis"]["accepted"]
    assert (Path(result.run_dir) / "calls").is_dir() and (Path(result.run_dir) / "best.py").exists()


def test_without_write_the_file_is_untouched_and_a_diff_is_returned(tmp_path: Path) -> None:
    path = tmp_path / "conf.py"
    path.write_bytes(WINDOWS)
    chat = FakeListChatModel(responses=[block("    return json.loads(text)\n")])
    result = complete_file(settings(path, tmp_path, line=6), chat=chat)
    assert result.accepted and not result.written and path.read_bytes() == WINDOWS
    assert "-\t# TODO: parse" in result.diff and "+\treturn json.loads(text)" in result.diff


def test_not_accepted_is_exit_1_and_never_written(tmp_path: Path) -> None:
    path = tmp_path / "conf.py"
    path.write_bytes(WINDOWS)
    chat = FakeListChatModel(responses=[block("    return json.lods(text)\n")] * 2)
    result = complete_file(settings(path, tmp_path, line=6, write=True, max_iterations=2), chat=chat)
    assert not result.accepted and result.exit_code == 1 and not result.written
    assert path.read_bytes() == WINDOWS and result.errors and "json.lods" in result.diff


def test_memory_gets_every_request_and_reply(tmp_path: Path) -> None:
    path = tmp_path / "conf.py"
    path.write_bytes(CONFIG.encode())
    logged: list[tuple[list[BaseMessage], dict]] = []

    class History:
        def add_messages(self, messages, metadata=None):
            logged.append((list(messages), dict(metadata or {})))

    chat = FakeListChatModel(responses=[block("    return json.lods(text)\n"), block("    return json.loads(text)\n")])
    result = complete_file(settings(path, tmp_path), chat=chat, history=History())
    assert result.accepted and len(logged) == 2
    assert logged[1][0][-1].content == block("    return json.loads(text)\n")
    assert logged[0][1]["task"] == "complete_file:complete"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "does not exist"),
        (["{file}", "--line", "99"], "outside the file"),
        (["{file}", "--column", "2"], "--column needs --line"),
        (["{file}", "--analyzers", "pyflakes,nope"], "unknown analyzer nope"),
        (["{file}", "--test_file", "test_nothing.py"], "does not exist"),
        (["{latin}"], "not UTF-8"),
        (["{txt}"], "not a .py file"),
        (["{file}", "--max-iterations", "0"], "out of range"),
        (["{file}", "--agreement", "--candidates", "2"], "--agreement compares candidates"),
    ],
)
def test_bad_input_is_one_line_exit_2_before_any_model(tmp_path: Path, monkeypatch, capsys, args, message) -> None:
    def no_model(*a, **k):
        raise AssertionError("a model was built")

    monkeypatch.setattr("code_generation.completion.api.get_chat_model", no_model)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf.py").write_text(CONFIG)
    (tmp_path / "latin.py").write_bytes("x = 'é'\n".encode("latin-1"))
    (tmp_path / "notes.txt").write_text("x")
    argv = [a.format(file="conf.py", latin="latin.py", txt="notes.txt") for a in args]
    try:
        code = completion_cli.main(argv)
    except SystemExit as exc:  # argparse's own refusals (ranges, analyzer names)
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / ".create_script").exists()  # nothing made on disk


def test_cli_json_with_a_fake_model(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("code_generation.completion.api.get_chat_model",
                        lambda *a, **k: FakeListChatModel(responses=[block("    return json.loads(text)\n")]))
    path = tmp_path / "conf.py"
    path.write_text(CONFIG)
    code = completion_cli.main([str(path), "--json", "--no-memory", "--no-cache", "--analyzers", ",".join(FAST),
                                "--run-dir", str(tmp_path / "run")])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["accepted"] and payload["completion"] == "    return json.loads(text)\n"
    assert {"tokens_in", "tokens_out", "seconds", "run_dir", "model", "diff", "calls"} <= set(payload)


def test_a_crlf_file_is_shown_and_prefilled_with_lf_and_spliced_back_with_crlf() -> None:
    # Found by the end-to-end test: a CRLF prefill never matched the reply, so no code was found.
    spy = Spy()
    source = CONFIG.replace("\n", "\r\n").encode() + b"    # TODO: parse\r\n\r\nX = 1\r\n"
    prefill = "```python\n" + CONFIG
    chat = FakeListChatModel(responses=[prefill + "    return json.loads(text)\n```"])
    outcome, doc = complete_source(source, chat, line=6, analyzers=FAST, settings=SearchSettings(prefill=True),
                                   observer=spy)
    assert spy.prompts[0][-1].content == prefill and "\r" not in str(spy.prompts[0][0].content)
    assert outcome.accepted
    assert doc.splice(outcome.best.completion) == source.replace(b"    # TODO: parse\r\n", b"    return json.loads(text)\r\n")
