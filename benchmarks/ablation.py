"""The tactic ablation (issue 18): what each of the loop's tactics is worth.

    flock /tmp/model.lock .venv/bin/python benchmarks/ablation.py --sets examples --out R.jsonl
    flock /tmp/model.lock .venv/bin/python benchmarks/ablation.py --sets humaneval --configs default,-skeleton,+trace --out R.jsonl
    .venv/bin/python benchmarks/ablation.py --report --out R.jsonl   # the table, the Markdown and the plot
    # the reuse assumption, spot-checked on a few tasks the default solves in round 1:
    flock /tmp/model.lock .venv/bin/python benchmarks/ablation.py --sets examples --configs default,-type_note \
        --only fizzbuzz,primes --full --out CHECK.jsonl

Configurations: `default` (the model's own default tactic set, as `create-script` runs it), `-NAME`
(the default set with NAME turned off) and `+NAME` (the default set plus NAME); `--configs all`
is the default, every tactic of the default set off in turn plus every tactic outside it (`trace`).
Sets: `examples` (the tuning set, examples/) and `humaneval`, a fixed spread of
`--humaneval-sample` problems: every (164 // N)-th, so 40 gives HumanEval/0, /4, /8, ..., /156.

Each task runs through the evaluation harness's `loop` strategy (`code_generation.evaluation.evaluate`: the
engine exactly as `create-script` runs it) with the profile's candidates per round
(`code_generation.api.default_candidates`: 2 on the embedded 1.5B), one model loaded once for
every configuration, one task at a time. Rows go to benchmarks/results/ablation_<commit>.jsonl
(`--out`) as each task finishes; a rerun skips the (configuration, set, task, seed) rows there.

Reuse of the baseline. A tactic's hooks say when it can act (`Tactic`,
code_generation/engine/loop_state.py): `opening`, `reply_prefix` and `clean` shape round 1's request or its
code, so such a tactic gets a full run; every other hook acts only after round 1's test run, on the
way to round 2 (`repair` too: the loop calls it only when no reply of the round passed). So a
configuration that differs from the default only by such a "later-round" tactic makes the same round
1, and a task whose round-1 reply passed under the default is solved the same way: its row is copied
from the default's (``"reused": true``) and only the other tasks run. Likewise a tactic turned off
(``-NAME``, of either kind) that never acted in the default's run of a task (its row's ``tactics_acted``,
from `LoopOutcome.tactics_acted`: none of its hooks answered, added a note, changed code or ran a
test) leaves every request of that run as it was, so that row is reused too (``"reused_because"``
says which rule). Both assume a request is answered the same way twice: the same request with the
same seed (every call of a run has a fixed seed, from `--seed`; the embedded llama.cpp samples with
the request's seed). llama.cpp's prompt cache and the batching of its two parallel slots might still
change a float, and so a sample. Every row holds the digests of its round-1 programs, and the report
counts the reruns of later-round configurations whose round 1 differs from the default's; `--full`
runs every task anyway, so a spot check covers the tasks the default solved in round 1 too.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich import box  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.completion import commit  # noqa: E402
from code_generation.engine.tactics import Tactic, available_tactics, make_tactics, tactics_for  # noqa: E402
from code_generation.evaluation.report import ResultsLog, read_rows  # noqa: E402
from code_generation.types import LoopOutcome, digest  # noqa: E402
from my_llm.errors import MyLLMError  # noqa: E402

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from code_generation.evaluation.tasks import EvalTask

RESULTS_DIR = ROOT / "benchmarks" / "results"
EXAMPLES_DIR = ROOT / "examples"
SETS = ("examples", "humaneval")
BASELINE = "default"
# Hooks the loop calls before round 1's verdict: a tactic with one of them changes round 1.
FIRST_ROUND_HOOKS = frozenset({"opening", "reply_prefix", "fresh_requests", "clean"})
# Hooks that act only once round 1 has failed (`repair` is called only when no reply passed).
LATER_ROUND_HOOKS = frozenset({"repair", "shown_code", "case_note", "feedback_note", "next_request", "extra_requests"})
FULL, LATER = "full", "later-round"
SAME_RUN_KEYS = ("model", "max_iterations", "candidates")  # rows of one file must agree on these


# --------------------------------------------------------------------------- which tactics can act in round 1


def hook_names() -> list[str]:
    """The hooks of the `Tactic` interface, in its order."""
    return [name for name, value in vars(Tactic).items() if callable(value) and not name.startswith("_")]


def overridden_hooks(cls: type[Tactic]) -> list[str]:
    """The hooks a tactic class implements itself (or inherits from another tactic)."""
    return [name for name in hook_names() if getattr(cls, name) is not getattr(Tactic, name)]


def kind_of(cls: type[Tactic]) -> str:
    """FULL when a hook of the tactic may change round 1 (an unknown hook counts so), else LATER."""
    return LATER if set(overridden_hooks(cls)) <= LATER_ROUND_HOOKS else FULL


def classification() -> dict[str, tuple[str, list[str]]]:
    """Every registered tactic -> (its kind, the hooks it implements), in the loop's calling order."""
    return {type(t).name: (kind_of(type(t)), overridden_hooks(type(t))) for t in make_tactics(available_tactics())}


def classification_table(kinds: dict[str, tuple[str, list[str]]]) -> Table:
    table = Table(title="tactics by the hooks they implement", title_justify="left")
    for column in ("tactic", "hooks", "runs"):
        table.add_column(column)
    for name, (kind, hooks) in kinds.items():
        runs = ("every task; turned off, only where the default's run shows it acted" if kind == FULL
                else "tasks the default did not solve in round 1; turned off, only where it acted")
        table.add_row(name, ", ".join(hooks) or "-", f"{kind}: {runs}")
    return table


# --------------------------------------------------------------------------- configurations and tasks


@dataclass(frozen=True)
class Config:
    """One configuration: its name, the tactics it runs and whether it needs every task run."""

    name: str
    tactics: tuple[str, ...]
    kind: str  # FULL, or LATER: tasks the default solved in round 1 are taken from the default's rows


def default_set(chat: BaseChatModel) -> tuple[str, ...]:
    """The tactics the model runs by default (its profile decides `append`), in calling order."""
    from code_generation.engine.tactics import tactic_names
    from code_generation.types import LoopSettings
    from my_llm.models import profile_of

    return tactic_names(LoopSettings(), profile_of(chat))


def all_configs(defaults: Sequence[str]) -> list[str]:
    """default, each default tactic off in turn, then each other tactic of the Python path added."""
    python = tactics_for(None)
    return [BASELINE, *(f"-{t}" for t in defaults),
            *(f"+{t}" for t in available_tactics() if t not in defaults and t in python)]


def parse_configs(text: str, defaults: Sequence[str], kinds: dict[str, tuple[str, list[str]]]) -> list[Config]:
    """``"default,-focus,+trace"`` (or ``all``) -> configurations, the baseline first (it is always run)."""
    names = all_configs(defaults) if text.strip() == "all" else [n.strip() for n in text.split(",") if n.strip()]
    configs = [Config(BASELINE, tuple(defaults), FULL)]
    for name in dict.fromkeys(n for n in names if n != BASELINE):
        sign, tactic = name[:1], name[1:]
        if sign not in "+-" or tactic not in kinds:
            raise MyLLMError(f"unknown configuration {name!r}: default, -TACTIC or +TACTIC, tactics {', '.join(kinds)}")
        if (sign == "-") != (tactic in defaults):
            raise MyLLMError(f"{name} changes nothing: the default set is {', '.join(defaults)}")
        chosen = [t for t in defaults if t != tactic] + ([tactic] if sign == "+" else [])
        configs.append(Config(name, tuple(t for t in available_tactics() if t in chosen), kinds[tactic][0]))
    return configs


def spread(items: Sequence[Any], n: int) -> list[Any]:
    """A fixed spread of `n` items: every (len // n)-th from the first."""
    if n < 1:
        raise MyLLMError("--humaneval-sample must be at least 1")
    return list(items[:: max(1, len(items) // n)])[:n]


def load_set(name: str, args: argparse.Namespace) -> list[EvalTask]:
    """The tasks of one set, as the evaluation harness loads them (`--only` narrows them)."""
    from code_generation.evaluation.tasks import load_tasks

    tasks = spread(load_tasks("humaneval"), args.humaneval_sample) if name == "humaneval" else load_tasks(args.examples_dir)
    only = {i.strip() for i in args.only.split(",") if i.strip()}
    return [t for t in tasks if not only or t.id in only or t.id.split("/")[-1] in only]


# --------------------------------------------------------------------------- one task


@dataclass(frozen=True)
class RunSettings:
    """What every row of one run shares."""

    model: str
    seed: int
    max_iterations: int
    candidates: int
    commit: str
    full: bool


def round1_codes(outcome: LoopOutcome) -> list[str | None]:
    """Short digests of round 1's programs as the model wrote them (None: no code), by candidate."""
    first = [a for a in outcome.attempts if a.iteration == 1 and a.usage is not None]
    return [digest(a.code)[:12] if a.code is not None else None for a in first]


def solved_in_round1(outcome: LoopOutcome) -> bool:
    """A reply of round 1 passed (not a repair): later-round tactics never acted."""
    return any(a.iteration == 1 and a.usage is not None and a.success for a in outcome.attempts)


def run_task(task: EvalTask, set_name: str, config: Config, chat: BaseChatModel, settings: RunSettings) -> dict[str, Any]:
    """One task under one configuration, through the harness's `loop` strategy; its row."""
    from code_generation.evaluation.evaluate import EvalSettings, pair_row
    from code_generation.evaluation.strategies import StrategyContext, get_strategy

    loop_settings = replace(EvalSettings(settings.max_iterations, seed=settings.seed, tactics=config.tactics).loop_settings(),
                            candidates=settings.candidates)
    meta = {"config": config.name, "set": set_name, "commit": settings.commit, "seed": settings.seed,
            "max_iterations": settings.max_iterations, "candidates": settings.candidates,
            "tactics": list(config.tactics), "kind": config.kind, "reused": False}
    started = time.monotonic()
    try:
        outcome = get_strategy("loop")(task.task, StrategyContext(chat, loop_settings))
    except MyLLMError:
        raise  # the model or the configuration is broken: stop, keep the rows written
    except Exception as exc:  # a harness bug on one task must not lose the others; a rerun retries it
        return {"task": task.id, "strategy": "loop", **meta, "solved": False, "iterations": 0, "tokens_in": 0,
                "tokens_out": 0, "seconds": round(time.monotonic() - started, 3), "model": settings.model,
                "error": True, "failure": f"harness error: {type(exc).__name__}: {exc}"[:300]}
    return {**pair_row(task, "loop", outcome, settings.model), **meta,
            "round1": solved_in_round1(outcome), "round1_codes": round1_codes(outcome)}


def reused_row(base: dict[str, Any], config: Config, why: str) -> dict[str, Any]:
    """The default's row as this configuration's: the tactic cannot have changed the run."""
    return {**base, "config": config.name, "tactics": list(config.tactics), "kind": config.kind, "reused": True,
            "reused_because": why}


def reuse_reason(config: Config, base: dict[str, Any] | None, full: bool) -> str | None:
    """Why the default's row stands for this configuration's on the task, or None (run it).

    A later-round tactic cannot act on a task solved in round 1; a tactic turned off that never
    acted in the default's run (`LoopOutcome.tactics_acted`: no answer, note, change or test run
    of its hooks) leaves every request of the run as it was."""
    if full or base is None:
        return None
    if config.kind == LATER and base.get("round1"):
        return "solved in round 1"
    off = config.name[1:] if config.name.startswith("-") else None
    if off is not None and isinstance(base.get("tactics_acted"), list) and off not in base["tactics_acted"]:
        return f"{off} never acted in the default's run"
    return None


# --------------------------------------------------------------------------- the run


def row_key(row: dict[str, Any]) -> tuple[str, str, str, int | None]:
    return row.get("config", ""), row.get("set", ""), row["task"], row.get("seed")


def check_same_run(rows: Iterable[dict[str, Any]], settings: RunSettings) -> None:
    """Refuse to add rows of another model or budget to a file (another --out, or the same options)."""
    for row in rows:
        if row.get("seed") != settings.seed or row.get("error"):
            continue
        changed = [k for k in SAME_RUN_KEYS if row.get(k) != getattr(settings, k)]
        if changed:
            diff = ", ".join(f"{k} {row.get(k)!r} -> {getattr(settings, k)!r}" for k in changed)
            raise MyLLMError(f"the results file holds rows of another run ({diff}): use another --out")


def pending(plan: Sequence[tuple[Config, str, EvalTask]], rows: Sequence[dict[str, Any]],
            settings: RunSettings) -> list[tuple[Config, str, EvalTask]]:
    """The plan's tasks without a row yet (with --full, a reused row does not count)."""
    done = {row_key(r) for r in rows if not r.get("error") and not (settings.full and r.get("reused"))}
    return [(c, s, t) for c, s, t in plan if (c.name, s, t.id, settings.seed) not in done]


def run_plan(todo: Sequence[tuple[Config, str, EvalTask]], rows: Sequence[dict[str, Any]], chat: BaseChatModel,
             log: ResultsLog, settings: RunSettings, console: Console) -> None:
    """Every pending task in turn, each row written as it finishes."""
    baseline = {(r["set"], r["task"]): r for r in rows
                if r.get("config") == BASELINE and r.get("seed") == settings.seed and not r.get("error")}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("ablation", total=len(todo))
        for config, set_name, task in todo:
            progress.update(bar, description=f"{config.name} · {set_name} · {task.id}")
            base = baseline.get((set_name, task.id))
            why = reuse_reason(config, base, settings.full)
            if why is not None:
                assert base is not None
                row = reused_row(base, config, why)
            else:
                row = run_task(task, set_name, config, chat, settings)
            log.append(row)
            if config.name == BASELINE and not row.get("error"):
                baseline[(set_name, task.id)] = row
            progress.console.print(_line(row))
            progress.advance(bar)


def _line(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"{row['config']} {row['task']}: [red]{row['failure']}[/red] (a rerun retries it)"
    if row["reused"]:
        return f"{row['config']} {row['task']}: [dim]reused the default's row ({row.get('reused_because', 'solved in round 1')})[/dim]"
    mark = "[green]solved[/green]" if row["solved"] else "[red]not solved[/red]"
    return (f"{row['config']} {row['task']}: {mark} in {row['iterations']} round(s), "
            f"{row['tokens_in']}+{row['tokens_out']} tokens, {row['seconds']:.1f} s")


def build_model(args: argparse.Namespace) -> BaseChatModel:
    """The model, built as the evaluation harness builds it (its weights load on first use)."""
    from my_llm.models import get_chat_model

    return get_chat_model(args.model, base_url=args.base_url, temperature=0.2, seed=args.seed)


def run(args: argparse.Namespace, out: Path, console: Console) -> None:
    """Plan the configurations over the sets, skip what the results file holds, run the rest."""
    from code_generation.api import default_candidates
    from my_llm.models import describe_model

    kinds = classification()
    console.print(classification_table(kinds))
    chat = build_model(args)
    defaults = default_set(chat)
    configs = parse_configs(args.configs, defaults, kinds)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if unknown := [s for s in sets if s not in SETS]:
        raise MyLLMError(f"unknown set {unknown[0]!r}: choose from {', '.join(SETS)}")
    settings = RunSettings(describe_model(chat), args.seed, args.max_iterations,
                           args.candidates or default_candidates(chat), args.commit, args.full)
    tasks = {s: load_set(s, args) for s in sets}
    plan = [(c, s, t) for s in sets for c in configs for t in tasks[s]]  # per set: the default first
    log = ResultsLog(out)
    rows = log.rows()
    check_same_run(rows, settings)
    todo = pending(plan, rows, settings)
    console.print(f"{len(configs)} configurations × {', '.join(sets)}: {len(todo)} task runs to do, "
                  f"{len(plan) - len(todo)} already in {out} (commit {args.commit}, {settings.candidates} "
                  f"candidates, seed {args.seed}{', --full' if args.full else ''})", soft_wrap=True)
    if not todo:
        return
    load = getattr(chat, "load", None)
    if callable(load):
        load()  # the weights load before the progress bar starts
    run_plan(todo, rows, chat, log, settings, console)


# --------------------------------------------------------------------------- the report


def _order(name: str, tactics: list[str]) -> tuple[int, int]:
    tactic = name[1:]
    return ({BASELINE: 0, "-": 1, "+": 2}.get(name if name == BASELINE else name[:1], 3),
            tactics.index(tactic) if tactic in tactics else len(tactics))


def summarize(rows: Iterable[dict[str, Any]], seed: int) -> dict[str, dict[str, Any]]:
    """Per configuration: per set solved / tasks and Δ against the default on the tasks both ran,
    tokens, seconds and their change against the default, rows reused."""
    latest = {row_key(r): r for r in rows if r.get("seed") == seed and not r.get("error")}
    by_config: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for (config, set_name, task, _), row in latest.items():
        by_config.setdefault(config, {})[(set_name, task)] = row
    base = by_config.get(BASELINE, {})
    order = list(available_tactics())
    summary: dict[str, dict[str, Any]] = {}
    for config in sorted(by_config, key=lambda n: _order(n, order)):
        own = by_config[config]
        common = [k for k in own if k in base]
        entry: dict[str, Any] = {"kind": next(iter(own.values())).get("kind", FULL), "sets": {},
                                 "tokens_in": sum(r["tokens_in"] for r in own.values()),
                                 "tokens_out": sum(r["tokens_out"] for r in own.values()),
                                 "seconds": sum(r["seconds"] for r in own.values()),
                                 "reused": sum(bool(r.get("reused")) for r in own.values()),
                                 "acted_on": _acted_on(config, base),
                                 "tokens_change": _change(own, base, common, ("tokens_in", "tokens_out")),
                                 "seconds_change": _change(own, base, common, ("seconds",))}
        for set_name in SETS:
            keys = [k for k in own if k[0] == set_name]
            if keys:
                shared = [k for k in keys if k in base]
                entry["sets"][set_name] = {
                    "solved": sum(own[k]["solved"] for k in keys), "tasks": len(keys),
                    "delta": sum(own[k]["solved"] for k in shared) - sum(base[k]["solved"] for k in shared)}
        summary[config] = entry
    return summary


def _acted_on(config: str, base: dict[Any, dict[str, Any]]) -> str:
    """For ``-NAME``: on how many of the default's runs that record it the tactic acted ("3/40")."""
    recorded = [r["tactics_acted"] for r in base.values() if isinstance(r.get("tactics_acted"), list)]
    if not config.startswith("-") or not recorded:
        return ""
    return f"{sum(config[1:] in acted for acted in recorded)}/{len(recorded)}"


def _change(own: dict[Any, dict[str, Any]], base: dict[Any, dict[str, Any]], common: list[Any],
            fields: tuple[str, ...]) -> float | None:
    """The relative change of the summed fields against the default's, on the tasks both ran."""
    theirs = sum(base[k][f] for k in common for f in fields)
    return (sum(own[k][f] for k in common for f in fields) - theirs) / theirs if theirs else None


def _sets(summary: dict[str, dict[str, Any]]) -> list[str]:
    return [s for s in SETS if any(s in e["sets"] for e in summary.values())]


def _cells(entry: dict[str, Any], sets: list[str], config: str) -> list[str]:
    """The row's cells: kind, per set solved and Δ, tokens in, out, Δ tokens, seconds, Δ seconds, reused."""
    cells = ["baseline" if config == BASELINE else entry["kind"]]
    for set_name in sets:
        s = entry["sets"].get(set_name)
        cells += ["-", "-"] if s is None else [f"{s['solved']}/{s['tasks']}",
                                               "" if config == BASELINE else f"{s['delta']:+d}".replace("+0", "0")]
    pct = ["" if config == BASELINE or v is None else f"{100 * v:+.0f}%"
           for v in (entry["tokens_change"], entry["seconds_change"])]
    return [*cells, f"{entry['tokens_in']:,}", f"{entry['tokens_out']:,}", pct[0], f"{entry['seconds']:,.0f}", pct[1],
            str(entry["reused"]), entry.get("acted_on", "")]


def _headers(sets: list[str], short: bool = False) -> list[str]:
    names = {"humaneval": "HumanEval"}
    per_set = [h for s in sets for h in (names.get(s, s) + ("" if short else " solved"), "Δ")]
    cost = ["tok in", "tok out", "Δ tok", "s", "Δ s"] if short else ["tokens in", "tokens out", "Δ tokens", "seconds",
                                                                      "Δ seconds"]
    return ["configuration", "runs", *per_set, *cost, "reused", "acted" if short else "acted in default's runs"]


def report_table(summary: dict[str, dict[str, Any]], title: str) -> Table:
    sets = _sets(summary)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for k, header in enumerate(_headers(sets, short=True)):
        table.add_column(header, justify="left" if k < 2 else "right", no_wrap=k == 0)
    for config, entry in summary.items():
        cells = _cells(entry, sets, config)
        cells[0] = cells[0].replace("later-round", "later")
        table.add_row(config, *cells, style="bold" if config == BASELINE else None)
    return table


def markdown(summary: dict[str, dict[str, Any]]) -> str:
    """The table for docs/tactics.md."""
    sets = _sets(summary)
    headers = _headers(sets)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for config, entry in summary.items():
        name = "default" if config == BASELINE else f"`{config}`"
        lines.append("| " + " | ".join([name, *_cells(entry, sets, config)]) + " |")
    return "\n".join(lines)


def plot(summary: dict[str, dict[str, Any]], path: Path) -> Path:
    """Two panels per configuration: solved against the default per set, tokens and seconds in %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = [n for n in summary if n != BASELINE] or list(summary)
    sets, base = _sets(summary), summary.get(BASELINE, {"sets": {}})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.4 * len(names) + 1.8), sharey=True)
    height = 0.8 / max(1, len(sets))
    for k, set_name in enumerate(sets):
        deltas = [summary[n]["sets"].get(set_name, {}).get("delta", 0) for n in names]
        ys = [i + (k - (len(sets) - 1) / 2) * height for i in range(len(names))]
        own = base["sets"].get(set_name)
        label = f"{set_name} (default {own['solved']}/{own['tasks']})" if own else set_name
        left.barh(ys, deltas, height, label=label)
    for k, (field, label) in enumerate((("tokens_change", "tokens"), ("seconds_change", "seconds"))):
        values = [100 * (summary[n][field] or 0.0) for n in names]
        right.barh([i + (k - 0.5) * 0.4 for i in range(len(names))], values, 0.4, label=label)
    left.set_yticks(range(len(names)), names)
    left.invert_yaxis()
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlim(min(-1.0, left.get_xlim()[0]), max(1.0, left.get_xlim()[1]))
    left.set_xlabel("tasks solved minus the default's (same tasks)")
    right.set_xlabel("change against the default (%)")
    for axis in (left, right):
        axis.axvline(0, color="black", linewidth=0.8)
        axis.legend(fontsize="small")
    fig.suptitle("tactic ablation: each configuration against the default tactic set", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def round1_check(rows: Iterable[dict[str, Any]], seed: int) -> tuple[int, int]:
    """Of the later-round configurations' runs (not reused), how many made the same round-1
    programs as the default on that task: (same, compared). Round 1 should not differ at all;
    with --full this covers the tasks the default solved in round 1 as well."""
    rows = [r for r in rows if r.get("seed") == seed and not r.get("error")]
    base = {(r["set"], r["task"]): r for r in rows if r.get("config") == BASELINE}
    same = compared = 0
    for row in rows:
        first = base.get((row["set"], row["task"]))
        if row.get("kind") == LATER and not row.get("reused") and first is not None and first.get("round1_codes"):
            compared += 1
            same += row.get("round1_codes") == first["round1_codes"]
    return same, compared


def report(out: Path, seed: int, console: Console) -> int:
    """The table, the Markdown for docs/tactics.md and the plot, from the results file."""
    rows = read_rows(out)
    summary = summarize(rows, seed)
    if not summary:
        console.print(f"[red]no rows for seed {seed} in {out}[/red]")
        return 1
    commits = ", ".join(sorted({str(r.get("commit")) for r in rows if r.get("seed") == seed}))
    console.print(report_table(summary, f"tactic ablation · seed {seed} · commit {commits} · {out.name}"))
    if BASELINE not in summary:
        console.print("[yellow]no default rows yet: the Δ columns need them[/yellow]")
    same, compared = round1_check(rows, seed)
    if compared:
        console.print(f"round-1 check: {same} of {compared} runs of later-round configurations made the default's "
                      "round-1 programs again (the reuse assumes all do)", soft_wrap=True)
    print(markdown(summary))
    console.print(f"plot: {plot(summary, out.with_suffix('.png'))}")
    return 0


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="all", help="comma list: default, -TACTIC, +TACTIC; or all (the default)")
    parser.add_argument("--sets", default=",".join(SETS), help="comma list of: examples, humaneval")
    parser.add_argument("--humaneval-sample", type=int, default=40, help="HumanEval problems: every (164 // N)-th")
    parser.add_argument("--examples-dir", type=Path, default=EXAMPLES_DIR, help="the examples set's task folders (another folder: use its own --out; its rows still say examples)")
    parser.add_argument("--only", default="", help="comma list of task ids (fizzbuzz, HumanEval/4 or 4)")
    parser.add_argument("--model", default="local")
    parser.add_argument("--base-url", default=None, help="an OpenAI-compatible server")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-iterations", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=None, help="per round (default: the model profile's)")
    parser.add_argument("--full", action="store_true", help="run every task, reusing no default row")
    parser.add_argument("--out", type=Path, default=None, help="results file (default benchmarks/results/ablation_<commit>.jsonl)")
    parser.add_argument("--report", action="store_true", help="only the table, the Markdown and the plot of --out")
    return parser


def _joined(argv: Sequence[str]) -> list[str]:
    """``--configs -focus`` as ``--configs=-focus``: argparse would read ``-focus`` as an option."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] == "--configs":
            joined[-1] = f"--configs={arg}"
        else:
            joined.append(arg)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_joined(sys.argv[1:] if argv is None else argv))
    args.commit = commit()
    out = args.out or RESULTS_DIR / f"ablation_{args.commit.rstrip('+')}.jsonl"
    console = Console()
    try:
        if args.report:
            return report(out, args.seed, console)
        run(args, out, console)
    except MyLLMError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]: finished rows are in {out}; rerun the same command to resume")
        return 130
    return report(out, args.seed, console)


if __name__ == "__main__":
    sys.exit(main())
