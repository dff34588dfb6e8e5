"""Load: one ``my-llm serve`` held by several clients for minutes: failures, latency, server memory.

    flock /tmp/model.lock .venv/bin/python benchmarks/serve_load.py [--clients 8] [--duration 300]
        [--model local] [--parallel N] [--ctx TOKENS] [--max-tokens 96] [--out FILE.json]
    .venv/bin/python benchmarks/serve_load.py --url http://127.0.0.1:8080/v1 [--pid PID]

Without ``--url`` it starts ``my-llm serve`` (loopback, a free port, ``--model``) and stops it at
the end, on Ctrl-C or SIGTERM. ``--clients`` threads, each on its own connection as separate tools
are, send chat completions in a loop for ``--duration`` seconds: short code-writing prompts, each
different and with its own seed, so every reply is computed (``my-llm serve`` has no reply cache).

A failure: a non-200 answer, none within ``--timeout``, a dropped connection, or a body that is not
a chat completion with text. Every ``--sample-seconds``: the resident memory of the server and its
children (with ``--url``, of ``--pid``), llama.cpp's queue from ``/metrics``, and the time of
``GET /v1/models``, the probe every tool makes first (with a 3-second limit).

Results: a table, ``benchmarks/results/serve_load_<commit>.json`` (every request and sample) and a
plot beside it (``.png``). Exit code 1 when a request failed or the memory was not flat.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import RESULTS, TASKS, commit, free_port  # noqa: E402
from my_llm.models.server_info import PROBE_SECONDS, root_url  # noqa: E402

console = Console(stderr=True)
MAX_TOKENS = 96
CLIENT_TIMEOUT = 600.0
START_TIMEOUT = 900.0  # the first start may assemble the model from its packages
STOP_TIMEOUT = 60.0
FLAT_PERCENT = 5.0
SYSTEM = "You write Python code. Reply with one Python code block and nothing else."
VARIANTS = ("Use type hints.", "Add a one-line docstring.", "Avoid imports.", "Keep it under 15 lines.",
            "Raise ValueError on invalid input.", "Name the parameters clearly.")
SCRUBBED_ENV = ("MY_LLM_BASE_URL", "MY_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL")


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 8
    duration: float = 300.0
    max_tokens: int = MAX_TOKENS
    timeout: float = CLIENT_TIMEOUT
    sample_seconds: float = 5.0
    warmup_seconds: float = 60.0
    fresh_connections: bool = False  # Connection: close on every request, instead of keep-alive


@dataclass(frozen=True)
class Target:
    base_url: str  # ends in /v1
    model: str
    api_key: str | None = None
    pid: int | None = None  # the server process, for its memory
    started: bool = False  # started by this script


@dataclass
class Record:
    """One request: when it started (seconds into the run), how long it took, what came back."""

    client: int
    index: int
    start: float
    latency: float
    status: int | None  # None: no HTTP answer at all
    error: str | None = None  # None: a good reply
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cache_n: int | None = None  # llama.cpp: prompt tokens served from its prompt cache
    compute_s: float | None = None  # llama.cpp: prompt_ms + predicted_ms, the request's own model time


@dataclass
class LoadState:
    """What the clients and samplers share while the run goes on."""

    t0: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[Record] = field(default_factory=list)
    memory: list[dict[str, float]] = field(default_factory=list)
    server: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0

    def now(self) -> float:
        return time.monotonic() - self.t0


def _auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def prompt_for(client: int, index: int) -> tuple[str, int]:
    """A prompt no earlier request had, and a seed of its own: every reply is really computed."""
    task = TASKS[(client * 3 + index) % len(TASKS)]
    variant = VARIANTS[(client + index) % len(VARIANTS)]
    return f"{task} {variant} (Request {client}.{index}.)", 1_000_000 * client + index


def judge_reply(status: int, text: str) -> dict[str, Any]:
    """The record's fields from an HTTP answer; ``error`` is set for anything but a usable reply."""
    if status != 200:
        return {"error": f"HTTP {status}: {text[:200]}"}
    try:
        body = json.loads(text)
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return {"error": f"malformed body: {text[:200]!r}"}
    if not isinstance(content, str) or not content.strip():
        return {"error": "empty reply"}
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    timings = body.get("timings") if isinstance(body.get("timings"), dict) else {}
    fields: dict[str, Any] = {"prompt_tokens": usage.get("prompt_tokens"),
                              "completion_tokens": usage.get("completion_tokens"), "cache_n": timings.get("cache_n")}
    if isinstance(timings.get("prompt_ms"), int | float) and isinstance(timings.get("predicted_ms"), int | float):
        fields["compute_s"] = round((timings["prompt_ms"] + timings["predicted_ms"]) / 1000, 3)
    return fields


def one_request(http: httpx.Client, target: Target, cfg: LoadConfig, client: int, index: int,
                state: LoadState) -> Record:
    """Send one chat completion and judge what came back (or did not)."""
    prompt, seed = prompt_for(client, index)
    body = {"model": target.model, "max_tokens": cfg.max_tokens, "temperature": 0.2, "seed": seed,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]}
    start, began = round(state.now(), 3), time.monotonic()
    try:
        response = http.post(target.base_url + "/chat/completions", json=body)
    except httpx.TimeoutException:
        error = f"timeout after {cfg.timeout:.0f} s"
    except httpx.HTTPError as exc:  # refused, reset, closed without an answer
        error = f"{type(exc).__name__}: {exc}"[:300]
    else:
        return Record(client, index, start, round(time.monotonic() - began, 3), response.status_code,
                      **judge_reply(response.status_code, response.text))
    return Record(client, index, start, round(time.monotonic() - began, 3), None, error)


def client_loop(state: LoadState, target: Target, cfg: LoadConfig, client: int, deadline: float) -> None:
    """One client: a request after another on its own connection until the deadline."""
    headers = {**_auth(target.api_key), **({"Connection": "close"} if cfg.fresh_connections else {})}
    with httpx.Client(timeout=cfg.timeout, headers=headers) as http:
        index = 0
        while not state.stop.is_set() and time.monotonic() < deadline:
            with state.lock:
                state.in_flight += 1
            try:
                record = one_request(http, target, cfg, client, index, state)
            finally:
                with state.lock:
                    state.in_flight -= 1
            with state.lock:
                state.records.append(record)
            index += 1
            if record.status is None:  # no server there: a failure a second, not a flood of them
                state.stop.wait(1.0)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it, from ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    tree = [pid]
    for each in tree:  # grows as it goes: breadth first
        tree.extend(children.get(each, []))
    return tree


def memory_mb(pid: int) -> tuple[float, float] | None:
    """(resident, anonymous resident) MB of ``pid`` and its children; None once it is gone."""
    totals = {"VmRSS": 0, "RssAnon": 0}
    found = False
    for each in process_tree(pid):
        try:
            lines = Path(f"/proc/{each}/status").read_text().splitlines()
        except OSError:
            continue
        found = found or each == pid
        for line in lines:
            name, _, value = line.partition(":")
            if name in totals:
                totals[name] += int(value.split()[0])  # kB
    return (totals["VmRSS"] / 1024, totals["RssAnon"] / 1024) if found else None


def sample_memory(state: LoadState, pid: int) -> None:
    mb = memory_mb(pid)
    if mb is not None:
        with state.lock:
            state.memory.append({"t": round(state.now(), 2), "rss_mb": round(mb[0], 1), "anon_mb": round(mb[1], 1)})


def sample_server(state: LoadState, target: Target) -> None:
    """llama.cpp's queue from ``/metrics``, and how long a tool's first probe would wait now."""
    row: dict[str, Any] = {"t": round(state.now(), 2)}
    with httpx.Client(timeout=PROBE_SECONDS, headers=_auth(target.api_key)) as http:
        began = time.monotonic()
        try:
            status = http.get(target.base_url + "/models").status_code
            row["probe_s"] = round(time.monotonic() - began, 3)
            row["probe_error"] = None if status == 200 else f"HTTP {status}"
        except httpx.HTTPError as exc:
            row["probe_s"], row["probe_error"] = None, type(exc).__name__
        try:
            response = http.get(root_url(target.base_url) + "/metrics")
            text = response.text if response.status_code == 200 else ""
        except httpx.HTTPError:
            text = ""
    for line in text.splitlines():
        for name in ("requests_processing", "requests_deferred"):
            if line.startswith(f"llamacpp:{name} "):
                row[name] = float(line.split()[-1])
    with state.lock:
        state.server.append(row)


def every(seconds: float, stop: threading.Event, action: Any, *args: Any) -> None:
    """Run ``action`` now and every ``seconds`` until ``stop``; a sampler never ends the run."""
    while True:
        try:
            action(*args)
        except Exception as exc:  # noqa: BLE001 - a lost sample is noted, the load goes on
            console.print(f"[yellow]sample lost: {type(exc).__name__}: {exc}[/yellow]")
        if stop.wait(seconds):
            return


def run_load(target: Target, cfg: LoadConfig) -> LoadState:
    """The clients for ``cfg.duration`` seconds, the samplers beside them, a progress bar."""
    state = LoadState()
    deadline = state.t0 + cfg.duration
    clients = [threading.Thread(target=client_loop, args=(state, target, cfg, c, deadline), daemon=True,
                                name=f"client-{c}") for c in range(cfg.clients)]
    samplers = [threading.Thread(target=every, args=(cfg.sample_seconds, state.stop, sample_server, state, target),
                                 daemon=True)]
    if target.pid is not None:
        samplers.append(threading.Thread(target=every, args=(cfg.sample_seconds, state.stop, sample_memory, state,
                                                              target.pid), daemon=True))
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("starting", total=cfg.duration)
            for thread in samplers + clients:
                thread.start()
            while any(t.is_alive() for t in clients):
                time.sleep(0.5)
                progress.update(task, completed=min(state.now(), cfg.duration), description=_status(state, deadline))
        if target.pid is not None:
            sample_memory(state, target.pid)  # the end, after the last answer
    finally:
        state.stop.set()
    for thread in samplers:
        thread.join(timeout=PROBE_SECONDS * 2 + 1)
    return state


def _status(state: LoadState, deadline: float) -> str:
    with state.lock:
        done = len(state.records)
        failed = sum(r.error is not None for r in state.records)
        rss = state.memory[-1]["rss_mb"] if state.memory else None
        busy = state.in_flight
    memory = f", server {rss:,.0f} MB" if rss is not None else ""
    phase = f"waiting for {busy} in flight" if time.monotonic() >= deadline else f"{busy} in flight"
    return f"{done} done, {failed} failed, {phase}{memory}"


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p90, p99 and max (statistics.quantiles, inclusive); None without data."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50": round(cuts[49], 2), "p90": round(cuts[89], 2), "p99": round(cuts[98], 2),
            "max": round(max(values), 2)}


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) in MB per minute; None with fewer than two times."""
    if len({t for t, _ in points}) < 2:
        return None
    return round(statistics.linear_regression([t for t, _ in points], [v for _, v in points]).slope * 60, 2)


def memory_summary(samples: list[dict[str, float]], first_answer: float | None, cfg: LoadConfig) -> dict[str, Any]:
    """Start, after warm-up, end, max and slopes; flat by the rule stated in ``rule``."""
    warmup = min(cfg.warmup_seconds, cfg.duration / 5)
    rule = (f"flat: RSS at the end at most {FLAT_PERCENT:g}% above RSS after warm-up (the first sample "
            f"{warmup:.0f} s or more after the first answer)")
    after = [s for s in samples if first_answer is not None and s["t"] >= first_answer]
    if first_answer is None or not after:
        return {"measured": False, "rule": rule, "flat": None}
    warm = next((s for s in after if s["t"] >= first_answer + warmup), after[-1])
    settled = [s for s in after if s["t"] >= warm["t"]]
    end = after[-1]
    growth = (end["rss_mb"] - warm["rss_mb"]) / warm["rss_mb"] * 100 if warm["rss_mb"] else 0.0
    return {"measured": True, "rule": rule, "start_mb": after[0]["rss_mb"], "after_warmup_mb": warm["rss_mb"],
            "after_warmup_t": warm["t"], "end_mb": end["rss_mb"], "max_mb": max(s["rss_mb"] for s in after),
            "end_anon_mb": end["anon_mb"], "start_anon_mb": after[0]["anon_mb"],
            "slope_mb_per_min": slope_per_minute([(s["t"], s["rss_mb"]) for s in after]),
            "slope_after_warmup_mb_per_min": slope_per_minute([(s["t"], s["rss_mb"]) for s in settled]),
            "growth_after_warmup_pct": round(growth, 2), "flat": growth <= FLAT_PERCENT}


def summarize(state: LoadState, cfg: LoadConfig) -> dict[str, Any]:
    """The figures the issue asks for, from the records and samples."""
    good = [r for r in state.records if r.error is None]
    failed = [r for r in state.records if r.error is not None]
    window = max((r.start + r.latency for r in state.records), default=0.0)
    first_answer = min((r.start + r.latency for r in good), default=None)
    waits = [r.latency - r.compute_s for r in good if r.compute_s is not None]
    probes = [s for s in state.server if "probe_s" in s]
    deferred = [s["requests_deferred"] for s in state.server if "requests_deferred" in s]
    errors = dict(Counter((r.error or "").split(":")[0] for r in failed))
    return {
        "requests": len(state.records), "ok": len(good), "failures": len(failed), "failure_kinds": errors,
        "per_client": [sum(r.client == c for r in state.records) for c in range(cfg.clients)],
        "window_s": round(window, 1), "requests_per_min": round(len(good) / window * 60, 2) if window else 0.0,
        "completion_tokens": sum(r.completion_tokens or 0 for r in good),
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in good),
        "prompt_tokens_from_cache": sum(r.cache_n or 0 for r in good),
        "latency_s": percentiles([r.latency for r in good]),
        "queue_wait_s": percentiles(waits),  # latency minus llama.cpp's own time for the request
        "max_deferred": max(deferred) if deferred else None,
        "probe_s": percentiles([s["probe_s"] for s in probes if s.get("probe_s") is not None]),
        "probe_failures": sum(s.get("probe_error") is not None for s in probes), "probes": len(probes),
        "memory": memory_summary(state.memory, first_answer, cfg),
    }


def serve_command(args: argparse.Namespace, port: int) -> list[str]:
    """``my-llm serve`` on loopback with the options passed through."""
    command = [sys.executable, "-m", "my_llm.cli", "serve", "--model", args.model, "--host", "127.0.0.1",
               "--port", str(port)]
    if args.parallel is not None:
        command += ["--parallel", str(args.parallel)]
    if args.ctx is not None:
        command += ["--ctx", str(args.ctx)]
    return command


def _death_signal() -> Any:
    """A preexec_fn: SIGTERM to the child when this script dies, even by SIGKILL (no orphaned model).

    libc is looked up here, in the parent: after the fork the child only makes the one call.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_ready(proc: subprocess.Popen[bytes], root: str, log: Any, timeout: float) -> None:
    """Until ``/health`` answers 200 (llama.cpp says 503 while it loads)."""
    started = time.monotonic()
    with console.status("starting my-llm serve ..."):
        while True:
            if proc.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise SystemExit(f"my-llm serve exited with {proc.returncode}:\n{tail}")
            if time.monotonic() - started > timeout:
                raise SystemExit(f"my-llm serve was not ready after {timeout:.0f} s")
            try:
                with urllib.request.urlopen(root + "/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C as a user would give it, then SIGKILL to its process group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            console.print(f"[yellow]my-llm serve did not stop in {STOP_TIMEOUT:.0f} s: killed[/yellow]")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def own_server(args: argparse.Namespace) -> Iterator[tuple[str, int]]:
    """A ``my-llm serve`` process for the block, stopped on any exit; yields (base URL, pid)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(serve_command(args, port), stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_death_signal())
        try:
            root = f"http://127.0.0.1:{port}"
            wait_ready(proc, root, log, args.start_timeout)
            yield root + "/v1", proc.pid
        finally:
            stop_server(proc)


def served_model(base_url: str, api_key: str | None) -> str:
    """The first model the server lists (llama.cpp: the alias ``my-llm serve`` gave it)."""
    try:
        data = httpx.get(base_url + "/models", headers=_auth(api_key), timeout=30).json()
        return str(data["data"][0]["id"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        return "local"


@contextmanager
def target_for(args: argparse.Namespace) -> Iterator[Target]:
    """The server under load: the one at ``--url``, or a ``my-llm serve`` started here."""
    if args.url:
        base = args.url.rstrip("/")
        base = base if base.endswith("/v1") else base + "/v1"
        yield Target(base, served_model(base, args.api_key), args.api_key, args.pid, started=False)
        return
    with own_server(args) as (base, pid):
        yield Target(base, served_model(base, None), None, pid, started=True)


def _pct(p: dict[str, Any]) -> str:
    return "-" if p["p50"] is None else f"{p['p50']} / {p['p90']} / {p['p99']} / {p['max']}"


def report(result: dict[str, Any]) -> None:
    """The figures as one table on stdout, and the memory rule under it."""
    s, m = result["summary"], result["summary"]["memory"]
    rows = [("requests (ok / failed)", f"{s['requests']} ({s['ok']} / {s['failures']})"),
            ("failures by kind", ", ".join(f"{k}: {n}" for k, n in s["failure_kinds"].items()) or "-"),
            ("throughput", f"{s['requests_per_min']} requests/min over {s['window_s']} s"),
            ("tokens out / prompt / prompt from cache",
             f"{s['completion_tokens']} / {s['prompt_tokens']} / {s['prompt_tokens_from_cache']}"),
            ("latency s p50 / p90 / p99 / max", _pct(s["latency_s"])),
            ("queue wait s p50 / p90 / p99 / max", _pct(s["queue_wait_s"])),
            ("most requests deferred", str(s["max_deferred"]) if s["max_deferred"] is not None else "-"),
            (f"a tool's probe, GET /v1/models s ({PROBE_SECONDS:g} s limit)",
             f"{_pct(s['probe_s'])}; {s['probe_failures']} of {s['probes']} failed")]
    if m["measured"]:
        rows += [("server RSS MB start / after warm-up / end / max",
                  f"{m['start_mb']:,.0f} / {m['after_warmup_mb']:,.0f} / {m['end_mb']:,.0f} / {m['max_mb']:,.0f}"),
                 ("RSS slope MB/min (all / after warm-up)",
                  f"{m['slope_mb_per_min']} / {m['slope_after_warmup_mb_per_min']}"),
                 ("RSS growth after warm-up", f"{m['growth_after_warmup_pct']}%: {'flat' if m['flat'] else 'NOT flat'}")]
    else:
        rows.append(("server RSS", "not measured (with --url, give --pid)"))
    table = Table(title=f"Load: {result['clients']} clients for {result['duration_s']:.0f} s on {result['url']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    console.print(m["rule"])


def plot(result: dict[str, Any], path: Path) -> Path | None:
    """Latency of each request by its start, and server memory, over the run."""
    try:
        import matplotlib
    except ImportError:
        console.print("matplotlib is not installed (the 'eval' extra): no plot")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    good = [r for r in result["requests"] if r["error"] is None]
    bad = [r for r in result["requests"] if r["error"] is not None]
    top.scatter([r["start"] for r in good], [r["latency"] for r in good], s=10, label="answered")
    if bad:
        top.scatter([r["start"] for r in bad], [r["latency"] for r in bad], s=30, marker="x", color="red",
                    label="failed")
    top.set_ylabel("latency (s), by request start")
    top.set_title(f"my-llm serve under load: {result['clients']} clients, {result['commit']}")
    top.legend(loc="upper left")
    samples = result["memory_samples"]
    if samples:
        bottom.plot([s["t"] for s in samples], [s["rss_mb"] for s in samples], label="RSS")
        bottom.plot([s["t"] for s in samples], [s["anon_mb"] for s in samples], label="anonymous RSS")
        memory = result["summary"]["memory"]
        if memory.get("measured"):
            bottom.axvline(memory["after_warmup_t"], color="grey", linestyle=":", label="after warm-up")
        bottom.legend(loc="upper left")
    bottom.set_ylabel("server memory (MB)")
    bottom.set_xlabel("seconds into the run")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="measure this OpenAI-compatible server instead of starting one")
    parser.add_argument("--pid", type=int, default=None, help="with --url: the server's process, for its memory")
    parser.add_argument("--api-key", default=os.environ.get("MY_LLM_API_KEY") or None, help="with --url: its key")
    parser.add_argument("--model", default="local", help="the spec my-llm serve loads (default: local)")
    parser.add_argument("--parallel", type=int, default=None, help="my-llm serve --parallel (default: the model's)")
    parser.add_argument("--ctx", type=int, default=None, help="my-llm serve --ctx (default: the model's)")
    parser.add_argument("--clients", type=int, default=8, help="clients at once (default 8)")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS, help=f"per reply (default {MAX_TOKENS})")
    parser.add_argument("--timeout", type=float, default=CLIENT_TIMEOUT, help="seconds per request (default 600)")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="memory and queue samples (default 5)")
    parser.add_argument("--warmup-seconds", type=float, default=60.0,
                        help="after the first answer, before memory is judged (default 60, at most a fifth of the run)")
    parser.add_argument("--fresh-connections", action="store_true",
                        help="a new connection per request (default: each client keeps one, as the tools do)")
    parser.add_argument("--no-plot", action="store_true", help="the table and the JSON only")
    parser.add_argument("--start-timeout", type=float, default=START_TIMEOUT, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default "
                        "benchmarks/results/serve_load_<commit>.json; the plot beside it as .png)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.max_tokens < 1:
        parser.error("--clients, --duration and --max-tokens must be positive")
    return args


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = LoadConfig(args.clients, args.duration, args.max_tokens, args.timeout, args.sample_seconds,
                     args.warmup_seconds, args.fresh_connections)
    out: Path = args.out or RESULTS / f"serve_load_{commit()}.json"
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with target_for(args) as target:
            console.print(f"{cfg.clients} clients for {cfg.duration:.0f} s on {target.base_url} ({target.model})")
            state = run_load(target, cfg)
    except KeyboardInterrupt:
        console.print("Interrupted: the server is stopped; no results written.")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    summary = summarize(state, cfg)
    result: dict[str, Any] = {
        "commit": commit(), "when": datetime.now(UTC).isoformat(timespec="seconds"), "url": target.base_url,
        "model": target.model, "server_started_here": target.started, "server_pid": target.pid,
        "serve_options": {"model": args.model, "parallel": args.parallel, "ctx": args.ctx},
        "clients": cfg.clients, "duration_s": cfg.duration, "max_tokens": cfg.max_tokens,
        "client_timeout_s": cfg.timeout, "fresh_connections": cfg.fresh_connections, "summary": summary,
        "requests": [asdict(r) for r in sorted(state.records, key=lambda r: r.start)],
        "memory_samples": state.memory, "server_samples": state.server}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)
    report(result)
    picture = None if args.no_plot else plot(result, out.with_suffix(".png"))
    console.print(f"Results: {out}" + (f", {picture}" if picture else ""))
    return 0 if summary["failures"] == 0 and summary["memory"]["flat"] is not False else 1


if __name__ == "__main__":
    sys.exit(main())
