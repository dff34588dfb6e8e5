"""The ceiling: what sampling the opening request alone reaches with the embedded 1.5B model.

    flock /tmp/model.lock .venv/bin/python benchmarks/ceiling.py --out R.jsonl   # every set, both settings
    flock /tmp/model.lock .venv/bin/python benchmarks/ceiling.py --sets examples --only fizzbuzz --samples 3 --out T.jsonl
    .venv/bin/python benchmarks/ceiling.py --report --out R.jsonl [--plot R.png]   # tables and the plot

The opening request is the first request the engine sends for a task with the default settings
(the evaluation harness's, the model's default tactics: skeleton and prefill on Python), built by
the engine's own `LoopState` and sent with `ask_model`'s parameters (stop sequences, reply length).
Each reply goes through the loop's `to_attempt` (extraction, clean-up, the sandbox against the
task's tests): a sample is solved exactly when round 1 of `create-script` would stop on it.

Sets: `examples` (15 Python tasks), `validation` (benchmarks/validation/, 18), `heldout`
(benchmarks/heldout/, 14), `rust` (examples/rust/, 13), `humaneval` (every 4th problem: /0, /4,
..., /160). Settings are named by what they send: `t0.2` (today's; llama.cpp's own min_p 0.05 and
top_k 40, the model's top_p 0.95), `t1.0-minp0.05`, also `-toppX`, `-topkN`; `plan-t0.7` (`planN-`:
N approaches) adds to each sample's request one approach of a planning call made once per task
(the `plan` tactic's form, benchmarks/ceiling_plans.py; its rows name it). Sample i has seed
SEED_BASE + i: independent draws, reproducible up to the batching of the model's two slots (which
can turn a near tie). `--parallel` samples run at once, a new one as soon as a slot is free; every
sample of a task sends the same prompt, so llama.cpp's prompt cache serves it after the first.

Report per set and setting: pass@k (the unbiased estimator, Chen et al. 2021), coverage@k (a
passing sample among the first k), distinct programs (syntax trees without docstrings), tokens,
seconds; on HumanEval also selected@k: the share of tasks where complete-file's choice among the
first k, seeing only the prompt's docstring (most `>>>` examples passed, then agreement on the
example calls, code_generation/completion/agreement.py, then the first), passes the hidden tests.
The report reads the rows only: benchmarks/ceiling_report.py.
Rows (set, task, setting, sample, commit) are appended and flushed one by one to
benchmarks/results/ceiling_<commit>.jsonl (`--out`); a rerun skips the rows there.
"""

from __future__ import annotations

import argparse
import ast
import doctest
import hashlib
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from benchmarks import ceiling_plans  # noqa: E402
from benchmarks.ceiling_report import SETS, read_rows, report, row_key  # noqa: E402
from benchmarks.completion import commit  # noqa: E402
from code_generation.completion import agreement  # noqa: E402
from code_generation.evaluation.report import ResultsLog  # noqa: E402
from code_generation.sandbox.runner import SandboxLimits, SandboxResult, run_doctests  # noqa: E402
from my_llm.errors import MyLLMError  # noqa: E402

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from code_generation.engine.loop_state import LoopState
    from code_generation.evaluation.tasks import EvalTask
    from code_generation.types import Sandbox

RESULTS_DIR = ROOT / "benchmarks" / "results"
FOLDERS = {"examples": ROOT / "examples", "validation": ROOT / "benchmarks" / "validation",
           "heldout": ROOT / "benchmarks" / "heldout",
           "rust": ROOT / "examples" / "rust"}
SAMPLES = {"examples": 20, "validation": 20, "heldout": 20, "rust": 10, "humaneval": 10}
HUMANEVAL_STEP = 4  # every 4th problem: /0, /4, ..., /160 (41)
DEFAULT_SETTINGS = "t0.2,t1.0-minp0.05"
SEED_BASE = 1000
EXAMPLE = "ceiling_example_"  # the stubs whose docstrings hold one docstring example each
_KEYS = {"t": ("temperature", float), "minp": ("min_p", float), "topp": ("top_p", float), "topk": ("top_k", int)}


# --------------------------------------------------------------------------- settings and program identity


@dataclass(frozen=True)
class Sampling:
    """One sampling setting: its name and the parameters it sends with every sample."""

    name: str
    params: dict[str, float | int]
    plans: int = 0  # `plan-...`: approaches asked for once per task, one added to each sample's request


def parse_setting(name: str) -> Sampling:
    """``t1.0-minp0.05`` -> temperature 1.0, min_p 0.05 (also ``topp0.9``, ``topk40``, a ``plan-`` or ``planN-`` head)."""
    params: dict[str, float | int] = {}
    parts = name.strip().split("-")
    head = re.fullmatch(r"plan([1-9]\d?)?", parts[0])
    plans = (int(head[1]) if head[1] else ceiling_plans.DEFAULT_PLANS) if head else 0
    for part in parts[1:] if head else parts:
        found = re.fullmatch(r"(t|minp|topp|topk)(\d+(?:\.\d+)?)", part)
        if not found or _KEYS[found[1]][0] in params:
            raise MyLLMError(f"bad setting {name!r}: write e.g. t0.2 or t1.0-minp0.05 (keys t, minp, topp, topk)")
        key, kind = _KEYS[found[1]]
        params[key] = kind(float(found[2]))
    if "temperature" not in params:
        raise MyLLMError(f"setting {name!r} names no temperature: start it with t<temperature> (or plan-t...)")
    return Sampling(name.strip(), params, plans)


class _NoDocstrings(ast.NodeTransformer):
    """Drops docstrings (a module's, a class's, a function's first string statement)."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        body = getattr(node, "body", None)
        if (isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
        return node


def program_id(code: str | None, language: str = "python") -> str | None:
    """The identity of a program: its syntax tree without docstrings (Python; comments and layout
    never reach the tree), else its text with comments and blank space squeezed out."""
    if code is None:
        return None
    try:
        text = ast.dump(_NoDocstrings().visit(ast.parse(code))) if language == "python" else None
    except (SyntaxError, ValueError, RecursionError):
        text = None
    if text is None:
        text = " ".join(re.sub(r"//[^\n]*|#[^\n]*", "", code).split())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- tasks and the opening request


def load_set(name: str, only: Iterable[str] = ()) -> list[EvalTask]:
    """The tasks of one set, as the evaluation harness loads them (`only` narrows them by id)."""
    from code_generation.evaluation.tasks import humaneval_tasks, load_tasks

    if name not in SETS:
        raise MyLLMError(f"unknown set {name!r}: choose from {', '.join(SETS)}")
    tasks = humaneval_tasks()[::HUMANEVAL_STEP] if name == "humaneval" else load_tasks(str(FOLDERS[name]))
    wanted = set(only)
    return [t for t in tasks if not wanted or t.id in wanted or t.id.split("/")[-1] in wanted]


def opening_state(task: EvalTask, chat: BaseChatModel, sandbox: Sandbox | None = None) -> LoopState:
    """The loop's state before round 1, as `run_loop` makes it: the default settings and tactics,
    the opening request, the reply prefix. Without `sandbox`, the language's (close it after)."""
    from code_generation.engine.loop_state import LoopState
    from code_generation.engine.tactics import make_tactics, tactic_names
    from code_generation.evaluation.evaluate import EvalSettings
    from code_generation.languages import get_language
    from code_generation.types import Silent
    from my_llm.models import profile_of
    from my_llm.models.usage import UsageTracker

    settings = EvalSettings().loop_settings()
    language = get_language(task.task.language)
    tactics = make_tactics(tactic_names(settings, profile_of(chat), language))
    state = LoopState(task.task, settings, chat, tactics, Silent(), UsageTracker(),
                      sandbox or language.make_sandbox(settings))
    state.prefix = state.first(lambda t: t.reply_prefix(state))
    return state


def request_messages(state: LoopState) -> list[BaseMessage]:
    """What `ask_model` sends for the opening: the request, with the reply prefix as the start of the answer."""
    from langchain_core.messages import AIMessage

    return [*state.opening, AIMessage(state.prefix)] if state.prefix else list(state.opening)


def call_params(state: LoopState, sampling: Sampling, seed: int) -> dict[str, Any]:
    """`ask_model`'s parameters (stop sequences, reply length) with the setting's sampling and a seed."""
    params: dict[str, Any] = {"stop": list(state.language.stop_sequences)} if state.settings.stop_at_fence else {}
    if state.language.reply_tokens:
        params["max_tokens"] = state.language.reply_tokens
    return {**params, **sampling.params, "seed": seed}


# --------------------------------------------------------------------------- judging


class CachedSandbox:
    """The task's sandbox, run once per program text: a repeated sample gets the same verdict."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner, self.hit = inner, False
        self.results: dict[str, SandboxResult] = {}
        self.examples: dict[str, dict[str, Any]] = {}  # program text -> what the docstring's examples say

    def __call__(self, code: str, module: str, test_source: str, test_filename: str, **kwargs: Any) -> SandboxResult:
        key = hashlib.sha256(f"{module}\0{test_source}\0{code}".encode()).hexdigest()
        self.hit = key in self.results
        if not self.hit:
            self.results[key] = self.inner(code, module, test_source, test_filename, **kwargs)
        return self.results[key]

    def close(self) -> None:
        from code_generation.languages import close_sandbox

        close_sandbox(self.inner)


def docstring_of(task: EvalTask) -> str:
    """The docstring of a HumanEval problem's function, as the prompt gives it ("" elsewhere)."""
    from code_generation.evaluation.tasks import humaneval_problems

    entry = task.meta.get("entry_point")
    problem = next((p for p in humaneval_problems() if p["task_id"] == task.id), None)
    if not entry or problem is None:
        return ""
    found = [n for n in ast.parse(problem["prompt"]).body if isinstance(n, ast.FunctionDef) and n.name == entry]
    return ast.get_docstring(found[0]) or "" if found else ""


def example_module(code: str, docstring: str) -> tuple[str, int]:
    """The program with one stub per `>>>` example of the docstring, so doctest reports each apart."""
    stubs = []
    for index, example in enumerate(doctest.DocTestParser().get_examples(docstring)):
        shown = ">>> " + example.source.rstrip("\n").replace("\n", "\n... ") + "\n" + example.want
        stubs.append(f"\n\ndef {EXAMPLE}{index:02d}():\n    {shown!r}\n")
    return code.rstrip("\n") + "\n" + "".join(stubs), len(stubs)


def examples_judged(code: str, module: str, docstring: str, entry: str, limits: SandboxLimits) -> dict[str, Any]:
    """What a selector that sees only the docstring learns of a program, in the sandbox: how many of
    its `>>>` examples pass, and its results on the example calls (for agreement)."""
    text, total = example_module(code, docstring)
    passed = 0
    if total:
        result = run_doctests(text, module, limits=limits)
        passed = sum(c.outcome == "passed" for c in result.cases if c.name.startswith(EXAMPLE))
    calls = agreement.calls_in(docstring, entry)[:agreement.MAX_PROBES]
    behaviour = list(agreement.behaviour(code, module, entry, calls, limits)) if calls else []
    return {"examples_passed": passed, "examples_total": total, "behaviour": behaviour}


def judge(state: LoopState, reply: Any, call: Any, task: EvalTask, temperature: float) -> dict[str, Any]:
    """One reply as round 1 of the loop takes it (`to_attempt`: extraction, clean-up, the tests)."""
    from code_generation.engine.loop import to_attempt
    from code_generation.engine.loop_state import Request
    from code_generation.types import digest

    started = time.monotonic()
    attempt = to_attempt(state, 0, Request(state.opening, temperature), reply, call)
    result = attempt.result
    row: dict[str, Any] = {
        "solved": attempt.success, "has_code": attempt.code is not None,
        "status": result.status if result else "static_error" if attempt.blocked else "no_code",
        "tests_passed": attempt.passed,
        "tests_total": result.tests_run if result and result.tests_run else state.spec.test_count,
        "program": program_id(attempt.code, task.task.language),
        "code_digest": digest(attempt.code)[:16] if attempt.code is not None else None,
        "cached": bool(getattr(state.sandbox, "hit", False)), "notes": attempt.notes[:3], "code": attempt.code,
    }
    if task.source == "humaneval" and attempt.code is not None:
        known = state.sandbox.examples if isinstance(state.sandbox, CachedSandbox) else {}
        if attempt.code not in known:
            known[attempt.code] = examples_judged(attempt.code, task.task.module_name, docstring_of(task),
                                                  task.meta["entry_point"], state.limits)
        row.update(known[attempt.code])
    row["judge_seconds"] = round(time.monotonic() - started, 3)
    return row


# --------------------------------------------------------------------------- the run


@dataclass
class Run:
    """What every sample of one run shares: the model, where rows go, the commit, the plan."""

    chat: BaseChatModel
    log: ResultsLog
    commit: str
    model: str
    parallel: int = 2
    sandbox: Sandbox | None = None  # None: each task's language makes its own (tests hand one in)


def sample_row(run: Run, set_name: str, task: EvalTask, sampling: Sampling, index: int,
               state: LoopState, plans: list[str] | None = None) -> dict[str, Any]:
    """One sample of a task's opening request (seed SEED_BASE + index), judged; a plan setting's
    with one of the task's `plans` added."""
    from code_generation.model_calls import call_model_many
    from code_generation.types import Silent

    params = call_params(state, sampling, SEED_BASE + index)
    messages, planned = ceiling_plans.planned(state, plans or [], index) if sampling.plans else (None, {})
    [(reply, call)] = call_model_many(run.chat, [(messages or request_messages(state), f"sample-{index}", params)],
                                      state.usage, Silent())
    row = {"set": set_name, "task": task.id, "setting": sampling.name, "sample": index, "seed": params["seed"],
           **sampling.params, "commit": run.commit, "model": run.model, "tokens_in": call.tokens_in,
           "tokens_out": call.tokens_out, "prompt_n": call.prompt_n, "truncated": call.truncated,
           "call_seconds": round(call.seconds, 3), **planned}
    try:
        row.update(judge(state, reply, call, task, float(sampling.params["temperature"])))
    except MyLLMError:
        raise
    except Exception as exc:  # a harness bug on one sample: kept as an error row, retried on a rerun
        row.update(error=True, failure=f"{type(exc).__name__}: {exc}"[:300], judge_seconds=0.0)
    return row


def run_task(run: Run, set_name: str, task: EvalTask, todo: dict[str, list[int]], settings: dict[str, Sampling],
             done: Callable[[dict[str, Any]], None]) -> None:
    """Every pending sample of one task on `run.parallel` slots, a new one as soon as a slot is free
    (the same prompt throughout: the prompt cache serves it). Each row is written as it is judged;
    its `seconds` is the wall time since the row before, so the rows add up to the run's time (a
    plan setting's planning call first, once per task, counted in the row that comes next)."""
    state = opening_state(task, run.chat, run.sandbox)
    state.sandbox = sandbox = CachedSandbox(state.sandbox)
    pool = ThreadPoolExecutor(max_workers=run.parallel, thread_name_prefix="sample")
    try:
        last = time.monotonic()
        planning = {n: ceiling_plans.task_plans(state, n) for n in {settings[s].plans for s in todo} - {0}}
        costs = {n: cost for n, (_, cost) in planning.items()}  # paid by the first row of its count
        futures = [pool.submit(sample_row, run, set_name, task, settings[name], i, state,
                               planning.get(settings[name].plans, ([], {}))[0])
                   for name, indices in todo.items() for i in indices]
        for future in as_completed(futures):
            row = future.result()
            row.update(costs.pop(settings[row["setting"]].plans, {}))
            now = time.monotonic()
            row.update(seconds=round(now - last, 3), load=round(os.getloadavg()[0], 2),  # others' work slows it
                       finished_at=datetime.now(UTC).isoformat(timespec="seconds"))
            last = now
            run.log.append(row)
            done(row)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on an interrupt only the samples in flight finish
        sandbox.close()


def plan(sets: dict[str, list[EvalTask]], settings: Sequence[Sampling], samples: dict[str, int],
         rows: Iterable[dict[str, Any]]) -> list[tuple[str, EvalTask, dict[str, list[int]]]]:
    """Per task, the sample indices of each setting not yet in the results file."""
    written = {row_key(r) for r in rows if not r.get("error")}
    todo = []
    for set_name, tasks in sets.items():
        for task in tasks:
            pending = {s.name: [i for i in range(samples[set_name]) if (set_name, task.id, s.name, i) not in written]
                       for s in settings}
            if any(pending.values()):
                todo.append((set_name, task, {k: v for k, v in pending.items() if v}))
    return todo


def run_all(run: Run, sets: dict[str, list[EvalTask]], settings: Sequence[Sampling], samples: dict[str, int],
            console: Console | None = None) -> int:
    """Draw and judge every sample the results file lacks; returns the rows written."""
    rows = read_rows(run.log.path)
    if others := sorted({str(r.get("model")) for r in rows} - {run.model}):
        raise MyLLMError(f"{run.log.path} holds rows of another model ({', '.join(others)}): use another --out")
    todo = plan(sets, settings, samples, rows)
    total = sum(len(v) for _, _, pending in todo for v in pending.values())
    if console is not None:
        console.print(f"{total} samples to draw ({sum(len(t) for t in sets.values())} tasks × "
                      f"{', '.join(s.name for s in settings)}), the rest already in {run.log.path}", soft_wrap=True)
    by_name = {s.name: s for s in settings}
    counts = {"rows": 0, "solved": 0}
    task_rows: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("solved {task.fields[solved]}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=console is None) as progress:
        bar = progress.add_task("ceiling", total=total, solved=0)

        def done(row: dict[str, Any]) -> None:
            counts["rows"] += 1
            counts["solved"] += bool(row.get("solved"))
            task_rows.append(row)
            progress.update(bar, advance=1, solved=counts["solved"])

        for set_name, task, pending in todo:
            progress.update(bar, description=f"{set_name} · {task.id}")
            task_rows.clear()
            run_task(run, set_name, task, pending, by_name, done)
            if console is not None:
                progress.console.print(_task_line(set_name, task.id, task_rows))
    return counts["rows"]


def _task_line(set_name: str, task_id: str, rows: Sequence[dict[str, Any]]) -> str:
    """What one task's new samples gave, per setting: solved, distinct programs, seconds a sample."""
    parts = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        own = [r for r in rows if r["setting"] == setting]
        parts.append(f"{setting} {sum(bool(r.get('solved')) for r in own)}/{len(own)} solved, "
                     f"{len({r.get('program') for r in own if r.get('program')})} programs, "
                     f"{statistics.mean(r['seconds'] for r in own):.1f} s/sample")
    return f"{set_name} {task_id}: " + "; ".join(parts)


# --------------------------------------------------------------------------- the command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma list of " + ", ".join(SETS))
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help="comma list of sampling settings")
    parser.add_argument("--samples", type=int, default=None, help="samples per task (default 20 on examples, "
                        "validation and heldout, 10 on rust and humaneval)")
    parser.add_argument("--only", default="", help="comma list of task ids (HumanEval: 4 or HumanEval/4)")
    parser.add_argument("--parallel", type=int, default=2, help="samples asked at once (the model has 2 slots)")
    parser.add_argument("--model", default="local", help="the embedded model (local, local:0.5b, local:PATH)")
    parser.add_argument("--out", type=Path, default=None, help="results file (default "
                        "benchmarks/results/ceiling_<commit>.jsonl); a rerun resumes it")
    parser.add_argument("--report", action="store_true", help="print the tables and write the plot, run nothing")
    parser.add_argument("--by-task", action="store_true", help="with --report: also samples solved per task and setting")
    parser.add_argument("--plot", type=Path, default=None, help="the plot's file (default: --out with .png)")
    return parser


def load_model(spec: str) -> BaseChatModel:
    """The embedded model, loaded now (once per process), so its progress shows before the bar."""
    from my_llm.models import get_chat_model
    from my_llm.models.local_model import LocalChatModel

    chat = get_chat_model(spec, temperature=0.2)
    if not isinstance(chat, LocalChatModel):
        raise MyLLMError("the ceiling measures the embedded model in-process: unset MY_LLM_BASE_URL, use --model local")
    chat.load()
    return chat


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    out = args.out or RESULTS_DIR / f"ceiling_{commit()}.jsonl"
    try:
        if args.report:
            console = console if console.is_terminal else Console(stderr=True, width=170)  # a file: no squeezing
            report(out, args.plot or out.with_suffix(".png"), console, per_task=args.by_task)
            return 0
        if args.parallel < 1 or (args.samples is not None and args.samples < 1):
            raise MyLLMError("--parallel and --samples must be at least 1")
        settings = [parse_setting(s) for s in args.settings.split(",") if s.strip()]
        only = [i.strip() for i in args.only.split(",") if i.strip()]
        sets = {s.strip(): load_set(s.strip(), only) for s in args.sets.split(",") if s.strip()}
        samples = {s: args.samples or SAMPLES[s] for s in sets}
        chat = load_model(args.model)
        run = Run(chat, ResultsLog(out), commit(), Path(getattr(chat, "model_path", args.model)).name, args.parallel)
        written = run_all(run, sets, settings, samples, console)
        console.print(f"{written} rows written to {out}")
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]: the rows written are in {out}; rerun the same command to resume")
        return 130
    except MyLLMError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
