"""Prompt and generation speed of the embedded tiers, the prompt cache, and speculation.

    python benchmarks/model_speed.py [--configs 1.5b,1.5b+ngram_simple,...] [--out FILE.json]

Each configuration loads its own llama.cpp server and sends the same fixed, greedy requests, built
the way the create-script loop builds them: the first request of an example task, three feedback
rounds (each the conversation of the loop with the model's own previous answer and a fixed test
report; `:append` builds them as the loop's "append" conversation does, extending the history,
otherwise as "latest"), and a summary of a fixed text. Prints per configuration prompt and generation tokens per
second, the share of prompt tokens served from the prompt cache in the feedback rounds, drafted
tokens accepted, and whether the greedy replies are byte-identical to the plain configuration's.
`Nx` configurations send N first requests at once on N slots (throughput in all).
Results are kept per configuration in --out (rerunning skips what is there: resumable), with the
commit measured and the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from code_generation.languages.python import prompts
from code_generation.languages.python.extract import extract_module
from code_generation.languages.python.testspec import analyse_test_source
from my_llm.models.local_model import (
    ServerConfig,
    _load_server,
    _message_to_openai,
    ensure_tier_file,
)
from my_llm.models.model_tiers import TIERS

ROOT = Path(__file__).resolve().parent.parent
TASK = ROOT / "examples" / "roman_numerals"
CONFIGS = ("0.5b", "0.5b@2x", "1.5b", "1.5b@2x", "1.5b+ngram_simple", "1.5b+ngram_map_k", "1.5b+draft",
           "1.5b:append", "1.5b+ngram_simple:append")
# Fixed test reports for the three feedback rounds: what a round of failures reads like.
REPORTS = (
    "test_round_trip FAILED:\nAssertionError: 'IIII' != 'IV'\n- IIII\n+ IV",
    "test_from_roman FAILED:\nAssertionError: 6 != 4 : from_roman('IV')",
    "test_large_numbers FAILED:\nAssertionError: 'MMMCMXCIX' != 'MMMCMXCVIIII'",
)
SUMMARY_SOURCE = ROOT / "my_llm" / "models" / "usage.py"
console = Console()


def parse_config(name: str) -> tuple[ServerConfig, int]:
    """`1.5b`, `1.5b@2x` (two requests at once), `1.5b+ngram_simple`, `1.5b+draft` (the 0.5B drafts);
    a `:append` suffix only changes how feedback rounds are built (see `conversation`)."""
    base, _, copies = name.split(":")[0].partition("@")
    tier_name, _, spec = base.partition("+")
    path = str(ensure_tier_file(TIERS[tier_name]))
    draft = str(ensure_tier_file(TIERS["0.5b"])) if spec == "draft" else None
    threads = max(1, min(os.cpu_count() or 2, 8))
    n = int(copies.rstrip("x")) if copies else 1
    config = ServerConfig(path, 8192, max(2, n), threads, spec or None, draft, 16 if spec != "draft" else 8)
    return config, n


def opening() -> tuple[list, str | None, str, list[str], list[str]]:
    test_file = next(TASK.glob("test_*.py"))
    module = test_file.stem.removeprefix("test_")
    source = test_file.read_text()
    spec = analyse_test_source(source, module, test_file.name)
    prompt = (TASK / "prompt.txt").read_text().strip()
    messages = prompts.code_messages(prompt, module, test_file.name, source, spec.imported_names, None, False)
    reference = prompts.request_skeleton(prompt, module, source, spec.imported_names, None)
    return messages, reference, module, spec.imported_names, spec.test_names


def ask(server: Any, messages: list) -> dict:
    request = {"messages": [_message_to_openai(m) for m in messages], "max_tokens": 512, "temperature": 0.0,
               "seed": 1, "cache_prompt": True, "stop": ["\n```\n", "\nif __name__"]}
    started = time.monotonic()
    response = server.handle_chat_completions(request)
    text = response["choices"][0]["message"].get("content") or ""
    return {"text": text, "seconds": time.monotonic() - started, **(response.get("timings") or {})}


def conversation(server: Any, append: bool) -> list[dict]:
    """The first request, three feedback rounds on the model's own answers, a summary."""
    from langchain_core.messages import AIMessage, HumanMessage

    first, reference, module, names, tests = opening()
    prefix = prompts.reply_prefix(reference) or ""
    rows, request = [], first
    for round_ in range(4):
        row = ask(server, [*request, AIMessage(prefix)])
        rows.append({"request": "first" if round_ == 0 else f"feedback {round_}", **row})
        if round_ == 3:
            break
        text = row["text"] if row["text"].startswith(prefix) else prefix + row["text"]  # llama.cpp returns both
        reply = prompts.fenced_reply(text)
        if append and reply is not None:
            request = prompts.continued_messages([*request, AIMessage(reply)], module, "fails 1 of its tests",
                                                 REPORTS[round_])
            continue
        code = extract_module(text, module, names, tests).code or text
        request = prompts.feedback_messages(first, module, code, "fails 1 of its tests", REPORTS[round_])
    text = SUMMARY_SOURCE.read_text()[:6000]
    summary = [HumanMessage(f"Summarise what this Python module does in five sentences:\n\n{text}")]
    rows.append({"request": "summary", **ask(server, summary)})
    return rows


def parallel(server: Any, n: int) -> list[dict]:
    """N copies of the first request at once (different seeds, so no slot shares another's work)."""
    from langchain_core.messages import AIMessage

    first, reference, *_ = opening()
    messages = [*first, AIMessage(prompts.reply_prefix(reference) or "")]
    started = time.monotonic()
    with ThreadPoolExecutor(n) as pool:
        rows = list(pool.map(lambda _: ask(server, messages), range(n)))
    wall = time.monotonic() - started
    return [{"request": f"first x{n}", "wall": wall, **r} for r in rows]


def measure(name: str) -> dict:
    config, copies = parse_config(name)
    started = time.monotonic()
    server = _load_server(config, show_progress=False)
    load = time.monotonic() - started
    rows = parallel(server, copies) if copies > 1 else conversation(server, name.endswith(":append"))
    del server
    gc.collect()
    return {"config": name, "load_seconds": round(load, 1), "rows": rows}


def figures(result: dict) -> dict[str, Any]:
    rows = result["rows"]
    gen = sum(r.get("predicted_n", 0) for r in rows)
    if rows[0]["request"].startswith("first x"):
        # Throughput of N first requests at once, prompt processing included, per wall second.
        return {"gen_tps": None, "first_tps": gen / rows[0]["wall"], "prompt_tps": None, "cache": None,
                "accepted": None, "seconds": rows[0]["wall"]}
    feedback = [r for r in rows if r["request"].startswith("feedback")]
    cached = sum(r.get("cache_n", 0) for r in feedback)
    computed = sum(r.get("prompt_n", 0) for r in feedback)
    drafted = sum(r.get("draft_n", 0) or 0 for r in rows)
    accepted = sum(r.get("draft_n_accepted", 0) or 0 for r in rows)
    return {
        "gen_tps": gen / (sum(r.get("predicted_ms", 0) for r in rows) / 1000),
        "first_tps": rows[0].get("predicted_n", 0) / rows[0]["seconds"],
        "prompt_tps": sum(r.get("prompt_n", 0) for r in rows) / (sum(r.get("prompt_ms", 0) for r in rows) / 1000),
        "cache": cached / (cached + computed) if cached + computed else None,
        "accepted": f"{accepted}/{drafted}" if drafted else None,
        "seconds": sum(r["seconds"] for r in rows),
    }


def same_output(result: dict, plain: dict | None) -> str:
    if plain is None or result is plain or result["rows"][0]["request"].startswith("first x"):
        return ""
    if plain["config"].split("+")[0] != result["config"].split("+")[0]:
        return ""
    same = all(a["text"] == b["text"] for a, b in zip(result["rows"], plain["rows"], strict=True))
    return "identical" if same else "differs"


def report(results: dict[str, dict]) -> None:
    table = Table(title="Embedded model speed (greedy, fixed requests)")
    for column in ("config", "load s", "prompt tok/s", "gen tok/s", "first request tok/wall s", "feedback cache hit",
                   "drafted accepted", "seconds", "greedy output vs plain"):
        table.add_column(column, justify="right" if column != "config" else "left")
    for name, result in results.items():
        f = figures(result)
        plain = results.get(name.split("+")[0].split("@")[0])
        table.add_row(
            name, f"{result['load_seconds']:.1f}", f"{f['prompt_tps']:.0f}" if f["prompt_tps"] else "-",
            f"{f['gen_tps']:.1f}" if f["gen_tps"] else "-", f"{f['first_tps']:.1f}",
            f"{f['cache']:.0%}" if f["cache"] is not None else "-", f["accepted"] or "-",
            f"{f['seconds']:.1f}", same_output(result, plain),
        )
    console.print(table)


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return proc.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--report", action="store_true", help="only print the table of what --out holds")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / f"model_speed_{_commit()}.json")
    args = parser.parse_args()
    saved: dict[str, dict] = json.loads(args.out.read_text()) if args.out.exists() else {}
    for name in args.configs.split(","):
        if name in saved or args.report:
            continue
        with console.status(f"measuring {name} ..."):
            result = measure(name)
        result.update(commit=_commit(), load_average=os.getloadavg()[0], measured=time.strftime("%Y-%m-%d %H:%M"))
        saved[name] = result
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(saved, indent=1))
        console.print(f"{name}: done ({figures(result)['first_tps']:.1f} tokens per wall second, first request)")
    report({n: saved[n] for n in args.configs.split(",") if n in saved})


if __name__ == "__main__":
    main()
