"""Aider on one task, through its Python scripting API; run by the Aider venv's python, not ours.

    <aider-venv>/bin/python benchmarks/aider_runner.py SPEC.json RESULT.json

benchmarks/aider_side_by_side.py writes SPEC (the work folder, the module and test files, the
prompt, the server, the served model, the test command, the rounds, the seed) and reads RESULT
(Aider's version and edit format, rounds, tokens). Nothing here judges: the driver judges the file
Aider leaves with the project's sandbox. This file imports only the standard library and Aider.

No network but the model server: no git, no repo map, no analytics (a no-op object stands in),
no URL detection or shell-command suggestions, LiteLLM's bundled model table instead of the one
it would download, and the model's metadata given here so Aider asks no one for it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before LiteLLM loads: no download of its table


class NoAnalytics:
    """What a Coder calls on its analytics object; never enabled, never sends."""

    def event(self, *args: Any, **kwargs: Any) -> None:
        pass


def make_model(spec: dict[str, Any], calls: list[dict[str, int]]) -> Any:
    """``openai/<served name>`` on the server, with its context given, every request counted."""
    from aider.models import Model, model_info_manager

    name = f"openai/{spec['model']}"
    model_info_manager.local_model_metadata[name] = {
        "max_input_tokens": spec["context"] - spec["max_output"], "max_output_tokens": spec["max_output"],
        "max_tokens": spec["max_output"], "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
        "litellm_provider": "openai", "mode": "chat"}
    model = Model(name)
    params = {"api_base": spec["base_url"], "api_key": spec["api_key"]}
    if spec.get("seed") is not None:
        params["seed"] = spec["seed"]
    model.extra_params = {**(model.extra_params or {}), **params}
    send = model.send_completion

    def counted(messages: Any, functions: Any, stream: bool, temperature: Any = None) -> Any:
        """Every request Aider sends (its rounds, retries and history summaries), with the usage."""
        hashed, response = send(messages, functions, stream, temperature)
        usage = getattr(response, "usage", None)
        calls.append({"prompt": int(getattr(usage, "prompt_tokens", 0) or 0),
                      "completion": int(getattr(usage, "completion_tokens", 0) or 0)})
        return hashed, response

    model.send_completion = counted  # the coder and its summarizer both call it on this instance
    return model


def make_coder(spec: dict[str, Any], model: Any) -> Any:
    from aider.coders import Coder
    from aider.io import InputOutput

    work = Path(spec["work"])
    io = InputOutput(yes=True, pretty=False, fancy_input=False,
                     chat_history_file=str(work / ".aider.chat.history.md"))
    coder = Coder.create(
        main_model=model, io=io, fnames=[str(work / spec["module_file"])],
        read_only_fnames=[str(work / spec["test_file"])], use_git=False, auto_commits=False,
        dirty_commits=False, map_tokens=0, stream=False, auto_lint=False, auto_test=True,
        test_cmd=spec["test_cmd"], suggest_shell_commands=False, detect_urls=False,
        analytics=NoAnalytics(), ignore_mentions=set(spec["ignore"]))
    # run_one: one send, then one more per reflection while num_reflections < max_reflections.
    coder.max_reflections = spec["rounds"] - 1
    return coder


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    import aider
    from aider.llm import litellm

    litellm._load_litellm()  # its import (seconds) now, not inside the timed run
    calls: list[dict[str, int]] = []
    coder = make_coder(spec, make_model(spec, calls))
    started = time.monotonic()
    coder.run(with_message=spec["prompt"], preproc=False)
    coder.summarize_end()  # a history summary still running is waited for, and counted
    result = {
        "aider_version": aider.__version__, "edit_format": coder.edit_format,
        "rounds": 1 + coder.num_reflections, "max_reflections": coder.max_reflections,
        "tokens_sent": coder.total_tokens_sent, "tokens_received": coder.total_tokens_received,
        "model_calls": len(calls), "all_prompt_tokens": sum(c["prompt"] for c in calls),
        "all_completion_tokens": sum(c["completion"] for c in calls),
        "aider_tests_passed": coder.test_outcome, "run_seconds": round(time.monotonic() - started, 2)}
    Path(argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
