"""Every request the engine sends on the benchmark tasks, with a scripted fake model: a refactor's proof.

    python benchmarks/request_trace.py --out /tmp/requests_before.jsonl       # at the old commit
    python benchmarks/request_trace.py --out /tmp/requests_after.jsonl        # at the new one
    python benchmarks/request_trace.py --compare /tmp/requests_before.jsonl /tmp/requests_after.jsonl

The loop runs each task of examples/, benchmarks/validation/ and (with ``--lang rust``)
examples/rust/ against the real sandbox, with the default settings and tactics. The fake model's
reply depends only on the request it is given (a hash picks prose without code, the reference
solution cut short, or the whole reference), so the run is the same whatever order parallel
requests are served in, and two commits that send the same requests write the same file. Each
line is one task: its requests (messages and parameters) in the order sent, and the outcome.
Uses only the public API (``code_generation.run_loop``), so it runs on any commit that has it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from code_generation import CodeTask, LoopSettings, run_loop  # noqa: E402

SETS = {"examples": ROOT / "examples", "validation": ROOT / "benchmarks" / "validation",
        "heldout": ROOT / "benchmarks" / "heldout"}


class ScriptedChat(BaseChatModel):
    """A chat model whose reply is a function of the request alone, recording every request."""

    reference: str = ""
    fence: str = "python"
    log: list[dict[str, Any]] = []
    lock: Any = None

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        request = {"messages": [[m.type, m.content] for m in messages], "stop": stop,
                   "params": {k: v for k, v in sorted(kwargs.items()) if isinstance(v, str | int | float | bool)}}
        text = json.dumps(request, sort_keys=True)
        with self.lock:
            self.log.append(request)
        choice = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3
        lines = self.reference.splitlines()
        if choice == 0:
            reply = "I would solve it step by step, starting from the tests."
        elif choice == 1:
            reply = f"```{self.fence}\n" + "\n".join(lines[: max(1, len(lines) // 2)]) + "\n```"
        else:
            reply = f"```{self.fence}\n{self.reference}\n```"
        message = AIMessage(reply, usage_metadata={"input_tokens": len(text) // 4, "output_tokens": len(reply) // 4,
                                                   "total_tokens": (len(text) + len(reply)) // 4})
        return ChatResult(generations=[ChatGeneration(message=message)])


def python_tasks(names: list[str]) -> list[tuple[str, CodeTask, str]]:
    found = []
    for set_name in names:
        for folder in sorted(p for p in SETS[set_name].iterdir() if (p / "prompt.txt").exists()):
            test_file = next(folder.glob("test_*.py"))
            module = test_file.stem.removeprefix("test_")
            reference = (ROOT / "benchmarks" / "reference" / set_name / folder.name / f"{module}.py").read_text()
            task = CodeTask((folder / "prompt.txt").read_text().strip(), module, test_file.read_text(), test_file.name)
            found.append((f"{set_name}/{folder.name}", task, reference))
    return found


def rust_tasks() -> list[tuple[str, CodeTask, str]]:
    found = []
    for folder in sorted(p for p in (ROOT / "examples" / "rust").iterdir() if (p / "prompt.txt").exists()):
        crate = json.loads((folder / "meta.json").read_text())["crate"]
        task = CodeTask((folder / "prompt.txt").read_text().strip(), crate, (folder / "tests.rs").read_text(),
                        "tests.rs", language="rust")
        found.append((f"rust/{folder.name}", task, (ROOT / "benchmarks" / "reference" / "rust" / f"{folder.name}.rs").read_text()))
    return found


def trace(task_id: str, task: CodeTask, reference: str, rounds: int) -> dict[str, Any]:
    chat = ScriptedChat(reference=reference, fence=task.language if task.language != "python" else "python",
                        log=[], lock=threading.Lock())
    outcome = run_loop(task, chat, LoopSettings(max_iterations=rounds, candidates=2))
    return {"task": task_id, "requests": chat.log, "success": outcome.success, "iterations": outcome.iterations}


def compare(before: Path, after: Path) -> int:
    old = {r["task"]: r for r in map(json.loads, before.read_text().splitlines())}
    new = {r["task"]: r for r in map(json.loads, after.read_text().splitlines())}
    differ = [t for t in old if old[t] != new.get(t)] + [t for t in new if t not in old]
    requests = sum(len(r["requests"]) for r in old.values())
    print(f"{len(old)} tasks, {requests} requests: {'identical' if not differ else 'DIFFERENT: ' + ', '.join(differ)}")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sets", default="examples,validation")
    parser.add_argument("--lang", choices=["python", "rust", "both"], default="python")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        parser.error("--out is required unless --compare is given")
    tasks = python_tasks(args.sets.split(",")) if args.lang != "rust" else []
    tasks += rust_tasks() if args.lang != "python" else []
    with args.out.open("w") as out, Progress(console=Console(stderr=True)) as progress:
        bar = progress.add_task("tasks", total=len(tasks))
        for task_id, task, reference in tasks:
            out.write(json.dumps(trace(task_id, task, reference, args.rounds), sort_keys=True) + "\n")
            progress.advance(bar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
