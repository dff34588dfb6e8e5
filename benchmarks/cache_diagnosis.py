#!/usr/bin/env python
"""Why feedback rounds miss llama.cpp's prompt cache: each suspect measured on its own.

    flock /tmp/model.lock .venv/bin/python benchmarks/cache_diagnosis.py [--reuse 0,64] [--out F.json]

A feedback round re-sends the conversation: the system message, the request, the model's reply,
then the feedback. Whatever of that the slot still holds is served from its cache (``cache_n``);
the rest is computed again (``prompt_n``). Four scenarios, each on a fresh server, with a real
task's request (examples/<task>/prompt.txt) and the embedded default model:

- ``plain``: one conversation, no prefill: the floor (only the reply's end and the feedback are new).
- ``prefill``: the reply was started by the caller (an assistant message the model continues), as
  the loop does on Python; the history then holds prefix and continuation as one string, which
  may tokenise differently at the joint than the tokens the slot generated (suspect 2).
- ``two``: two conversations at once on the two slots, then both feedback rounds at once: a round
  may land on the slot that holds the other conversation (suspect 1).
- ``two-prefill``: both at once.
- ``three``: two conversations at once, then a third request takes a slot before both feedback
  rounds: what llama.cpp's host-memory prompt cache (``cache_ram_mib``) restores when more
  conversations are alive than slots (a round's candidates plus focused or fresh requests).
- ``fanout``: two requests with the same prompt at once, on a fresh server (round 1's two
  candidates; a focused request and its `afresh` twin share most of theirs): both slots compute it.
- ``fanout-warm``: the same after a one-token request of that prompt: whether the second slot is
  served from the first's state (llama.cpp saves idle slots to its host-memory cache when a task
  starts, and a slot loads the best match from there), and what the whole round costs in seconds.

``--runs TASKS`` runs the loop itself (the model's default candidates and tactics, seed 1) on those
examples/ tasks and prints every call: its kind, the prompt tokens, what the cache served, and
what a perfect cache could have: the longest earlier request (with its reply) that this one
repeats or extends, by whole messages. What a kind misses against its own ideal is lost to slots
or tokenisation; a low ideal is the request's form (it starts a new conversation).

For each scenario, ``ideal`` is the tokens a perfect cache would serve: the earlier request and its reply,
up to the end of the generated text. ``--reuse N`` sets llama.cpp's ``n_cache_reuse`` (reuse of
cached chunks of at least N tokens after a mismatch, by shifting them): 0 is today's setting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from code_generation.types import Silent  # noqa: E402

SYSTEM = "You are an expert Python programmer. Reply with one complete Python module in a code block."
FEEDBACK = (
    "The tests failed:\n\nFAILED test_module.py::test_edge_cases - AssertionError: assert 3 == 4\n\n"
    "Fix the module. Reply with the whole corrected module in one code block."
)
PREFILL = "```python\n"


def _server(reuse: int) -> Any:
    """A fresh embedded llama.cpp server as create-script loads it, with ``n_cache_reuse``."""
    import secrets

    import xllamacpp

    from my_llm.models import get_chat_model
    from my_llm.models.local_model import server_params

    chat = get_chat_model("local", show_progress=False)
    params = server_params(chat.server_config)
    params.n_cache_reuse = reuse
    params.api_keys = [secrets.token_urlsafe(32)]
    return xllamacpp.Server(params)


def _ask(server: Any, messages: list[dict[str, str]], seed: int, max_tokens: int = 200,
         temperature: float = 0.2) -> dict[str, Any]:
    request = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature, "seed": seed,
               "cache_prompt": True, "stop": ["\n```"]}
    response = server.handle_chat_completions(request)
    if not isinstance(response, dict) or "choices" not in response:
        raise SystemExit(f"the model returned an error: {response}")
    return response


def _open(server: Any, task: str, prefill: bool, seed: int) -> tuple[list[dict[str, str]], str, dict[str, Any]]:
    """The opening request: its messages, the reply as the history will hold it, the response."""
    opening = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task}]
    first = _ask(server, opening + ([{"role": "assistant", "content": PREFILL}] if prefill else []), seed)
    reply = first["choices"][0]["message"]["content"] or ""
    # llama.cpp returns a continued message whole (the prefill included), as the loop expects;
    # a backend that returns only the continuation gets the prefill put back, as the loop does.
    said = PREFILL + reply if prefill and not reply.startswith(PREFILL) else reply
    return opening, said, first


def _feedback(server: Any, opened: tuple[list[dict[str, str]], str, dict[str, Any]], seed: int) -> dict[str, Any]:
    """The feedback round on an opened conversation: how much of it the cache served."""
    opening, said, first = opened
    second = _ask(server, [*opening, {"role": "assistant", "content": said},
                           {"role": "user", "content": FEEDBACK}], seed + 1)
    t1, t2 = first["timings"], second["timings"]
    ideal = t1["prompt_n"] + t1.get("cache_n", 0) + first["usage"]["completion_tokens"]
    return {"prompt": t2["prompt_n"] + t2.get("cache_n", 0), "cache_n": t2.get("cache_n", 0),
            "ideal": ideal}


def _both(calls: list[Any]) -> list[Any]:
    """Run the calls at once (two slots), results in order."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _fanout(server: Any, task: str, warm: bool) -> list[dict[str, Any]]:
    """Two samples of one prompt at once (t0.2 and t1.0), after a one-token request of it when `warm`."""
    opening = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task},
               {"role": "assistant", "content": PREFILL}]
    started = time.monotonic()
    if warm:
        _ask(server, opening, 0, max_tokens=1)
    replies = _both([lambda i=i: _ask(server, opening, 1 + i, temperature=(0.2, 1.0)[i]) for i in range(2)])
    seconds = time.monotonic() - started
    return [{"prompt": r["timings"]["prompt_n"] + r["timings"].get("cache_n", 0),
             "cache_n": r["timings"].get("cache_n", 0),
             "ideal": r["timings"]["prompt_n"] + r["timings"].get("cache_n", 0) - 1,  # one token is always computed
             "round_seconds": round(seconds, 2)} for r in replies]


class _Calls(Silent):
    """Every model call of a run: its messages, its reply and what llama.cpp reported."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], str, Any]] = []

    def model_call(self, label: str, messages: Any, reply: Any, call: Any = None) -> None:
        self.calls.append((list(messages), str(reply.content), call))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a.content == b.content


def _ideal(messages: list[Any], earlier: list[tuple[list[Any], str, Any]]) -> int:
    """Prompt tokens a perfect cache could serve: the longest earlier request (with its reply)
    that `messages` repeats or extends message by message. Where it parts inside a prefill, the
    prefill's characters are counted at 3.5 a token: an estimate, not a count."""
    best = 0
    for before, reply, call in earlier:
        prefill = str(before[-1].content) if before and before[-1].type == "ai" else ""
        asked = before[:-1] if prefill else before
        n = len(asked)
        if len(messages) < n or not all(_same(x, y) for x, y in zip(asked, messages[:n], strict=False)):
            continue
        nxt = str(messages[n].content) if len(messages) > n and messages[n].type == "ai" else None
        if nxt is not None and nxt.startswith(reply.rstrip("`").rstrip()):
            best = max(best, call.tokens_in + call.tokens_out)  # extends the request and its reply
        elif len(messages) == len(before) and (nxt or "") == prefill:
            best = max(best, call.tokens_in - 1)  # the same request again
        else:  # the request, then something else from where the prefill (if any) parts
            shared = len(os.path.commonprefix([prefill, nxt or ""]))
            best = max(best, call.tokens_in - round((len(prefill) - shared) / 3.5))
    return best


def _runs(tasks: list[str]) -> list[dict[str, Any]]:
    """The loop on each task; one row per model call."""
    from code_generation import LoopSettings, run_loop
    from code_generation.evaluation.tasks import load_tasks
    from my_llm.models import get_chat_model, profile_of

    chat = get_chat_model("local", seed=1, show_progress=False)
    rows = []
    for task in load_tasks(ROOT / "examples", ids=tasks):
        observer = _Calls()
        outcome = run_loop(task.task, chat, LoopSettings(candidates=profile_of(chat).candidates), observer=observer)
        for i, (messages, _, call) in enumerate(observer.calls):
            rows.append({"task": task.id, "solved": outcome.success, "label": call.label, "kind": call.purpose,
                         "prompt": (call.prompt_n or 0) + (call.cache_n or 0), "cache_n": call.cache_n or 0,
                         "ideal": _ideal(messages, observer.calls[:i])})
    return rows


def _by_kind(rows: list[dict[str, Any]]) -> Table:
    table = Table("kind", "calls", "prompt tokens", "from cache", "ideal", "cache / prompt", "cache / ideal")
    kinds: dict[str, list[int]] = {}
    for r in rows:
        if not r["label"].startswith("code-1"):  # later rounds only: the figure
            k = kinds.setdefault(str(r["kind"]), [0, 0, 0, 0])
            k[0] += 1
            k[1] += r["prompt"]
            k[2] += r["cache_n"]
            k[3] += r["ideal"]
    total = [sum(k[i] for k in kinds.values()) for i in range(4)]
    for name, (n, prompt, cached, ideal) in [*sorted(kinds.items()), ("all later rounds", total)]:
        table.add_row(name, str(n), str(prompt), str(cached), str(ideal), f"{cached / max(prompt, 1):.0%}",
                      f"{cached / max(ideal, 1):.0%}")
    return table


def _scenario(server: Any, task: str, name: str) -> list[dict[str, Any]]:
    if name.startswith("fanout"):
        return _fanout(server, task, name.endswith("warm"))
    prefill = name.endswith("prefill")
    if name == "plain" or name == "prefill":
        return [_feedback(server, _open(server, task, prefill, 1), 1)]
    tasks = [task, task + "\n"]  # two conversations that differ from their first message on
    opened = _both([lambda t=t, i=i: _open(server, t, prefill, 1 + 10 * i) for i, t in enumerate(tasks)])
    if name.startswith("three"):  # a third conversation takes a slot before the feedback rounds
        _open(server, "Write a Python function that reverses a string.", prefill, 99)
    return _both([lambda o=o, i=i: _feedback(server, o, 1 + 10 * i) for i, o in enumerate(opened)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="word_frequency", help="an examples/ task whose prompt is sent")
    parser.add_argument("--reuse", default="0,64", help="n_cache_reuse values to compare")
    parser.add_argument("--scenarios", default="plain,prefill,two,two-prefill,three,three-prefill")
    parser.add_argument("--out", default=None, help="write the rows as JSON")
    parser.add_argument("--runs", default="", help="comma list of examples/ tasks: trace whole runs instead")
    args = parser.parse_args(argv)
    if args.runs:
        rows = _runs(args.runs.split(","))
        Console().print(_by_kind(rows))
        if args.out:
            Path(args.out).write_text(json.dumps(rows, indent=2))
        return 0
    folder = ROOT / "examples" / args.task
    task = (folder / "prompt.txt").read_text()
    if any(n.startswith("fanout") for n in args.scenarios.split(",")):  # an opening's length: request and tests
        task += "\n\nThe tests:\n\n" + "\n".join(f.read_text() for f in sorted(folder.glob("test_*.py")))
    table = Table("n_cache_reuse", "scenario", "prompt tokens", "from cache", "ideal", "cache / ideal", "round s")
    rows = []
    for reuse in [int(r) for r in args.reuse.split(",")]:
        for name in args.scenarios.split(","):
            server = _server(reuse)  # fresh: nothing cached from another scenario
            for row in _scenario(server, task, name):
                rows.append({"reuse": reuse, "scenario": name, **row})
                table.add_row(str(reuse), name, str(row["prompt"]), str(row["cache_n"]), str(row["ideal"]),
                              f"{row['cache_n'] / row['ideal']:.0%}", str(row.get("round_seconds", "")))
            del server
    Console().print(table)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
