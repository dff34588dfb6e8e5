"""Pub/Sub outages under load: writer processes append while the emulator is killed and restarted.

Issue 33: four writer processes append to one namespace through ``PubSubChatMessageHistory``
while Google's Pub/Sub emulator is killed (SIGKILL to its process group) and restarted on the
same port, twice. A subscriber here pulls all along; when the writers are done, ``my-llm flush``
sends what is left and the subscriber pulls until quiet. Every logged message (the JSONL is the
system of record) is then matched with what was delivered. The outbox cursor, saved after each
kill and when each subscription is back, tells the missing apart: **gone with a killed emulator**
(acknowledged, so rightly not resent, but the emulator keeps messages in memory only) or **lost**
(the product's fault; must be 0), e.g. published to the re-created topic before its subscription
(a restarted emulator has neither; ``--resubscribe-after`` widens that window). Duplicates are
told apart by Pub/Sub's own message ids: redelivered by Pub/Sub, or published again by the outbox
(an acknowledgement lost with a killed emulator). Figures: docs/benchmarks.md, docs/memory.md.

Usage: ``python benchmarks/memory_outage.py [--writers 4] [--messages 500] [--freeze]``;
results go to ``benchmarks/results/memory_outage_<commit>.json``. The emulator, the writers
and the temporary folder are removed on exit, Ctrl-C or SIGTERM. Needs gcloud; no model.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.completion import commit  # noqa: E402

NAMESPACE = "outage"
TOPIC = f"chat-messages-{NAMESPACE}"
RESULTS_DIR = ROOT / "benchmarks" / "results"
TICK_S = 0.25


def run_writer(index: int, count: int, pause: float) -> int:
    """One writer: ``count`` appends through the public history API, each naming (writer, seq).

    Prints one JSON line with each append's wall-clock start and milliseconds: appends must not
    wait on Pub/Sub, down or not.
    """
    from langchain_core.messages import HumanMessage

    from my_llm.langchain_class import PubSubChatMessageHistory

    failures: Counter[str] = Counter()

    class CountFailures(logging.Handler):  # the background publisher's own account, at debug level
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if text.startswith("Pub/Sub publish failed"):
                failures["held" if "lost its subscriptions" in text else "unreachable"] += 1

    logging.getLogger("my_llm.memory").addHandler(CountFailures())
    logging.getLogger("my_llm.memory").setLevel(logging.DEBUG)  # no output: no handler prints it
    memory = PubSubChatMessageHistory(NAMESPACE)
    appends = []
    for seq in range(count):
        wall, t = time.time(), time.perf_counter()
        memory.add_messages([HumanMessage(f"writer {index} message {seq}")],
                            metadata={"task": "outage", "writer": index, "seq": seq})  # fmt: skip
        appends.append((round(wall, 4), round(1000 * (time.perf_counter() - t), 2)))
        time.sleep(pause)
    print(json.dumps({"writer": index, "appends": appends, "failures": failures}), flush=True)
    return 0


@dataclass(frozen=True)
class Delivery:
    """One message as pulled: the log record's id, the emulator instance, Pub/Sub's own id."""

    record_id: str
    instance: int
    pubsub_id: str


class Collector(threading.Thread):
    """Pulls and acks all along; knows which emulator instance each message came from.

    Each instance gets its own subscription name, so a pull aimed at a killed instance can
    never be answered by the next one and be counted against the wrong instance.
    """

    def __init__(self) -> None:
        super().__init__(name="outage-collector", daemon=True)
        self.deliveries: list[Delivery] = []
        self.last_delivery = time.monotonic()
        self._target: tuple[int, str] | None = None
        self._done = threading.Event()
        self.lock = threading.Lock()

    def aim(self, target: tuple[int, str] | None) -> None:
        """Pull from (instance, subscription path) from now on; None while the emulator is down."""
        with self.lock:
            self._target = target

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=15)

    def run(self) -> None:
        from google.cloud import pubsub_v1

        client: Any = None
        while not self._done.is_set():
            with self.lock:
                target = self._target
            try:
                if target is not None:
                    client = client or pubsub_v1.SubscriberClient()
                    self._pull_once(client, *target)
                    continue
            except Exception:  # a killed emulator, or nothing to pull in time: reconnect, retry
                if client is not None:
                    client.api.transport.close()
                client = None
            time.sleep(0.05)
        if client is not None:
            client.api.transport.close()

    def _pull_once(self, client: Any, instance: int, path: str) -> None:
        response = client.pull(subscription=path, max_messages=1000, timeout=2, retry=None)
        received = response.received_messages
        if not received:
            return
        got = [Delivery(json.loads(m.message.data)["id"], instance, m.message.message_id)
               for m in received]  # fmt: skip
        with self.lock:  # counted on receipt: the ack may die with the emulator
            self.deliveries += got
            self.last_delivery = time.monotonic()
        client.acknowledge(subscription=path, ack_ids=[m.ack_id for m in received], retry=None)


# -- the log and the outbox cursor ------------------------------------------------------------
class LogWatch:
    """Follows the shared JSONL: where each line ends, and how far the outbox cursor is."""

    def __init__(self, root: Path) -> None:
        from my_llm.memory.outbox import Outbox

        self.path = root / NAMESPACE / "memory.jsonl"
        self.cursor = Outbox(root, NAMESPACE, TOPIC).cursor
        self.ends: list[int] = []
        self._read = 0

    def refresh(self) -> int:
        """Lines logged so far (complete ones only)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._read)
                data = f.read()
        except FileNotFoundError:
            return 0
        done = data.rfind(b"\n") + 1
        at = self._read
        for line in data[:done].split(b"\n")[:-1]:
            at += len(line) + 1
            self.ends.append(at)
        self._read += done
        return len(self.ends)

    def cursor_offset(self) -> int:
        """Bytes of the log Pub/Sub has acknowledged (0 before the first publish)."""
        pos = self.cursor.load()
        return pos.offset if pos is not None else 0

    def acked(self) -> int:
        """Lines Pub/Sub has acknowledged, by the cursor."""
        return bisect.bisect_right(self.ends, self.cursor_offset())

    def records(self) -> list[tuple[dict[str, Any], int]]:
        """Every record of the log with the offset just after its line."""
        lines = self.path.read_bytes().split(b"\n")[: self.refresh()]
        return [(json.loads(line), end) for line, end in zip(lines, self.ends, strict=True)]


# -- the run ----------------------------------------------------------------------------------
@dataclass
class Instance:
    """One life of the emulator, as the outbox cursor saw it (offsets are bytes of the log)."""

    number: int
    ready_offset: int = 0  # cursor once its topic and subscription existed
    killed_offset: int | None = None  # cursor once it was dead
    topic_made_by_writer: bool = False  # a writer re-created the topic before the harness did
    logged_at_ready: int = 0
    logged_at_kill: int | None = None
    down_s: float | None = None  # from the kill of the one before to this one's subscription
    catch_up_s: float | None = None  # ready -> the cursor passed what was logged at ready
    ready_at: float = 0.0


@dataclass
class Run:
    args: argparse.Namespace
    workdir: Path
    emulator: Any = None
    env: dict[str, str] = field(default_factory=dict)
    writers: list[subprocess.Popen[str]] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    collector: Collector = field(default_factory=Collector)
    watch: LogWatch = field(init=False)  # set once the history folder is known
    down: list[tuple[float, float]] = field(default_factory=list)  # wall clock, kill -> ready
    frozen: list[tuple[float, float]] = field(default_factory=list)  # wall clock, SIGSTOP -> CONT

    @property
    def total(self) -> int:
        return self.args.writers * self.args.messages


def signal_writers(run: Run, sig: signal.Signals) -> None:
    """Freeze or thaw the writers this script started (by pid, nothing else)."""
    for writer in run.writers:
        if writer.poll() is None:  # not reaped yet, so the pid is still this writer's
            os.kill(writer.pid, sig)


def start_instance(run: Run) -> Instance:
    """(Re)start the emulator on its port and give it back its topic and a subscription.

    A restarted emulator knows neither, and the writers keep publishing: the product
    re-creates the missing topic and must wait for a subscription (``SubscriptionsLost`` in
    my_llm.memory.pubsub). With --freeze the writers are stopped (SIGSTOP) meanwhile, so
    Pub/Sub comes back with its state, as the real service does.
    """
    from google.api_core import exceptions
    from google.cloud import pubsub_v1

    instance = Instance(len(run.instances))
    project = run.env["GOOGLE_CLOUD_PROJECT"]
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()  # made early
    freeze = instance.number > 0 and run.args.freeze
    frozen_at = time.time()
    try:
        if freeze:
            signal_writers(run, signal.SIGSTOP)
        run.emulator.start()
        topic = publisher.topic_path(project, TOPIC)
        try:
            publisher.create_topic(name=topic)
        except exceptions.AlreadyExists:
            instance.topic_made_by_writer = True
        time.sleep(run.args.resubscribe_after if instance.number else 0)  # a slower consumer
        path = subscriber.subscription_path(project, f"outage-sub-{instance.number}")
        subscriber.create_subscription(name=path, topic=topic)
        instance.ready_offset = run.watch.cursor_offset()
        instance.logged_at_ready = run.watch.refresh()
        instance.ready_at = time.monotonic()
    finally:
        if freeze:
            signal_writers(run, signal.SIGCONT)
            run.frozen.append((frozen_at, time.time()))
        publisher.api.transport.close()
        subscriber.api.transport.close()
    run.collector.aim((instance.number, path))
    run.instances.append(instance)
    return instance


def kill_instance(run: Run) -> None:
    """SIGKILL the emulator's process group (gcloud and java): no goodbye to anyone."""
    from tests.test_memory_outbox import signal_group

    run.collector.aim(None)
    instance = run.instances[-1]
    instance.logged_at_kill = run.watch.refresh()
    signal_group(run.emulator, signal.SIGKILL)
    run.emulator.stop()  # reaps it
    time.sleep(0.5)  # an acknowledgement that arrived before the kill has its cursor saved now
    instance.killed_offset = run.watch.cursor_offset()


def start_writers(run: Run) -> None:
    script = str(Path(__file__).resolve())
    for index in range(run.args.writers):
        argv = [sys.executable, script, "--writer", str(index), "--messages",
                str(run.args.messages), "--pause", str(run.args.pause)]  # fmt: skip
        with open(run.workdir / f"writer{index}.err", "w") as err:
            run.writers.append(subprocess.Popen(argv, env=run.env, stdout=subprocess.PIPE,
                                                stderr=err, text=True))  # fmt: skip


def outage_due(run: Run, logged: int, up_since: float) -> bool:
    """Outage k starts at k/(outages+1) of the writing, after at least --up seconds of uptime."""
    done = len(run.instances) - 1
    if done >= run.args.outages:
        return False
    share = (done + 1) / (run.args.outages + 1)
    return logged >= share * run.total and time.monotonic() - up_since >= run.args.up


def drive(run: Run, bars: Bars) -> None:
    """While the writers write: kill, wait, restart, twice; keep the progress bars current."""
    up_since = time.monotonic()
    while any(w.poll() is None for w in run.writers):
        logged = run.watch.refresh()
        if outage_due(run, logged, up_since):
            killed, killed_wall = time.monotonic(), time.time()
            kill_instance(run)
            while time.monotonic() < killed + run.args.down:
                bars.show(run, f"emulator down ({len(run.instances)}/{run.args.outages})")
                time.sleep(TICK_S)
            instance = start_instance(run)
            instance.down_s = round(time.monotonic() - killed, 2)
            run.down.append((killed_wall, time.time()))
            up_since = time.monotonic()
        instance = run.instances[-1]
        if instance.number and instance.catch_up_s is None:
            if run.watch.acked() >= instance.logged_at_ready:  # the backlog is on Pub/Sub
                instance.catch_up_s = round(time.monotonic() - instance.ready_at, 2)
        bars.show(run, f"emulator up (instance {len(run.instances) - 1})")
        time.sleep(TICK_S)


class Bars:
    """Appended, acknowledged by Pub/Sub (by the outbox cursor) and delivered, as rich bars."""

    def __init__(self, total: int) -> None:
        from rich import progress as rp

        self.progress = rp.Progress(rp.TextColumn("{task.description:<44}"), rp.BarColumn(),
                                    rp.MofNCompleteColumn(), rp.TimeElapsedColumn())  # fmt: skip
        self.logged = self.progress.add_task("appended to the JSONL", total=total)
        self.acked = self.progress.add_task("acknowledged by Pub/Sub", total=total)
        self.delivered = self.progress.add_task("delivered to the subscriber (unique)", total=total)

    def show(self, run: Run, state: str) -> None:
        self.progress.update(self.logged, completed=run.watch.refresh())
        self.progress.update(self.acked, completed=run.watch.acked(),
                             description=f"acknowledged by Pub/Sub: {state}")  # fmt: skip
        with run.collector.lock:
            unique = len({d.record_id for d in run.collector.deliveries})
        self.progress.update(self.delivered, completed=unique)


def finish_writers(run: Run) -> list[dict[str, Any]]:
    """Each writer's own figures, exit code and what it warned about at exit."""
    out = []
    for index, writer in enumerate(run.writers):
        stdout, _ = writer.communicate(timeout=60)
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        row: dict[str, Any] = json.loads(lines[-1]) if lines else {"writer": index}
        row["exit_code"] = writer.returncode
        err = (run.workdir / f"writer{index}.err").read_text(errors="replace").splitlines()
        row["exit_warnings"] = [line for line in err if "not yet on Pub/Sub" in line]
        row["stderr_tail"] = err[-5:] if writer.returncode else []
        out.append(row)
    return out


def flush_outbox(run: Run) -> dict[str, Any]:
    """`my-llm flush`, the real command, as a user would run it after the writers are done."""
    from tests.test_memory_outbox import run_cli

    code, stdout, stderr, seconds = run_cli(["flush"], run.env, timeout=120)
    return {"exit_code": code, "seconds": round(seconds, 2),
            "output": (stdout.strip() or " ".join(stderr))[:300]}  # fmt: skip


def drain(run: Run, bars: Bars) -> None:
    """Pull until nothing new came for --quiet seconds (at most --drain seconds)."""
    started = time.monotonic()
    while time.monotonic() - started < run.args.drain:
        bars.show(run, "writers done, flushed")
        if time.monotonic() - max(run.collector.last_delivery, started) >= run.args.quiet:
            return
        time.sleep(TICK_S)


# -- the accounting ---------------------------------------------------------------------------
def classify_missing(run: Run, offsets: list[int], final: int) -> Counter[str]:
    """Why each undelivered record is missing, from where its line ends against the cursor."""
    why: Counter[str] = Counter()
    for end in offsets:
        if end > final:
            why["lost: never acknowledged (still in the outbox)"] += 1
            continue
        lives = run.instances
        instance = next(i for i in lives if i.killed_offset is None or end <= i.killed_offset)
        if instance.number > 0 and end <= instance.ready_offset:
            why["lost: published to the re-created topic before its subscription"] += 1
        elif instance.killed_offset is None:
            why["lost: acknowledged by the last emulator, never delivered"] += 1
        else:
            why["gone_with_killed_emulator"] += 1
    return why


def classify_duplicates(run: Run, ends: dict[str, int]) -> Counter[str]:
    """Extra copies by cause: Pub/Sub redelivery, or the outbox publishing a record again."""
    copies: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for d in run.collector.deliveries:
        copies[d.record_id].append((d.instance, d.pubsub_id))  # emulator ids restart at 1
    why: Counter[str] = Counter()
    for record_id, seen in copies.items():
        publishes = sorted(set(seen))
        why["redelivered_by_pubsub"] += len(seen) - len(publishes)
        instances = sorted({i for i, _ in publishes})
        across = len(instances) - 1
        first = run.instances[instances[0]]
        if across and first.killed_offset is not None and ends[record_id] > first.killed_offset:
            why["resent_after_kill_ack_lost"] += across  # accepted, then the ack died with it
        elif across:
            why["resent_across_instances_other"] += across
        why["resent_to_same_instance"] += len(publishes) - 1 - across
    return why


def append_stats(run: Run, writers: list[dict[str, Any]]) -> dict[str, Any]:
    """Append milliseconds, leaving out appends that overlap a freeze (the harness's pause)."""

    def overlaps(start: float, ms: float, windows: list[tuple[float, float]]) -> bool:
        return any(a < start + ms / 1000 and start < b for a, b in windows)

    every = [a for w in writers for a in w.pop("appends", [])]
    kept = sorted((ms, start) for start, ms in every if not overlaps(start, ms, run.frozen))
    down = [ms for ms, start in kept if overlaps(start, ms, run.down)]
    kept = [ms for ms, _ in kept]
    return {"timed": len(kept), "left_out_frozen": len(every) - len(kept),
            "median_ms": kept[len(kept) // 2] if kept else None,
            "p99_ms": kept[int(len(kept) * 0.99)] if kept else None, "max_ms": max(kept, default=None),
            "during_outages": len(down), "during_outages_max_ms": max(down, default=None)}  # fmt: skip


def analyse(run: Run, writers: list[dict[str, Any]], flush: dict[str, Any]) -> dict[str, Any]:
    """The figures: written, delivered, lost (by cause), duplicates (by cause)."""
    records = run.watch.records()
    ends = {r["id"]: end for r, end in records}
    pairs = Counter((r["metadata"].get("writer"), r["metadata"].get("seq")) for r, _ in records)
    delivered = Counter(d.record_id for d in run.collector.deliveries)
    missing = [end for record_id, end in ends.items() if record_id not in delivered]
    final = run.watch.cursor_offset()
    why_missing = classify_missing(run, missing, final)
    why_dup = classify_duplicates(run, ends)
    return {"written": len(records), "expected": run.total, "unique_ids": len(ends),
            "writer_seq_pairs_once": sum(1 for n in pairs.values() if n == 1),
            "acknowledged": bisect.bisect_right(sorted(ends.values()), final),
            "deliveries": sum(delivered.values()),
            "delivered_unique": sum(1 for i in delivered if i in ends),
            "delivered_unknown": sum(1 for i in delivered if i not in ends),
            "lost": sum(n for k, n in why_missing.items() if k.startswith("lost")),
            "missing_by_cause": dict(why_missing), "duplicates": sum(why_dup.values()),
            "duplicates_by_cause": {k: v for k, v in why_dup.items() if v},
            "instances": [{k: v for k, v in asdict(i).items() if k != "ready_at"} for i in run.instances],
            "appends": append_stats(run, writers), "writers": writers, "flush": flush}  # fmt: skip


# -- report, main -----------------------------------------------------------------------------
def table(results: dict[str, Any]) -> Any:
    """The figures as a rich table."""
    from rich.table import Table

    r, args, lives, a, flush = (results, results["args"], results["instances"],
                                results["appends"], results["flush"])  # fmt: skip
    rows = [("writers x messages", f"{args['writers']} x {args['messages']} (pause {args['pause']} s), "
             f"{len(lives) - 1} outages, freeze {args['freeze']}")]  # fmt: skip
    rows += [(f"outage {after['number']}", f"killed with {before['logged_at_kill']} logged; back "
              f"{after['down_s']} s later with {after['logged_at_ready']} logged; backlog sent "
              f"{after['catch_up_s']} s after; a writer re-made the topic first: "
              f"{after['topic_made_by_writer']}") for before, after in pairwise(lives)]  # fmt: skip
    rows += [("written to the JSONL", f"{r['written']} of {r['expected']} ({r['unique_ids']} ids, "
              f"{r['writer_seq_pairs_once']} (writer, seq) once)"),
             ("acknowledged by Pub/Sub", str(r["acknowledged"])),
             ("delivered, unique", f"{r['delivered_unique']} ({r['deliveries']} deliveries, "
              f"{r['delivered_unknown']} unknown ids)"), ("lost", str(r["lost"]))]  # fmt: skip
    rows += [(f"  missing: {cause}", str(n)) for cause, n in r["missing_by_cause"].items()]
    rows += [("duplicates (extra copies)", str(r["duplicates"]))]
    rows += [(f"  {cause}", str(n)) for cause, n in r["duplicates_by_cause"].items()]
    rows += [("append ms: median / p99 / max", f"{a['median_ms']} / {a['p99_ms']} / {a['max_ms']} "
              f"(max {a['during_outages_max_ms']} over the {a['during_outages']} appends during "
              f"outages; {a['left_out_frozen']} frozen ones left out)"),
             ("writers' exit warnings", str(sum(len(w["exit_warnings"]) for w in r["writers"]))),
             ("failed publishes: unreachable / held for a subscription", " / ".join(
                 str(sum(w.get("failures", {}).get(k, 0) for w in r["writers"])) for k in ("unreachable", "held"))),
             ("my-llm flush", f"exit {flush['exit_code']} in {flush['seconds']} s: {flush['output']}"),
             ("seconds in all", str(r["seconds"]))]  # fmt: skip
    out = Table(title=f"Pub/Sub outages under load ({r['commit']})", show_header=False)
    out.add_column(style="bold")
    out.add_column()
    for row in rows:
        out.add_row(*row)
    return out


def benchmark(run: Run) -> dict[str, Any]:
    """Start everything, drive the outages, flush, pull until quiet, count."""
    from tests.conftest import PubSubEmulator
    from tests.test_memory_outbox import service_env
    from tests.test_memory_pubsub import PROJECT

    started = time.monotonic()
    run.emulator = PubSubEmulator(run.workdir)
    root = run.workdir / "history"
    run.env = service_env(root, run.emulator.host)
    os.environ.update(PUBSUB_EMULATOR_HOST=run.emulator.host, GOOGLE_CLOUD_PROJECT=PROJECT)
    run.watch = LogWatch(root)
    start_instance(run)  # the subscription exists before the first publish
    run.collector.start()
    bars = Bars(run.total)
    with bars.progress:
        start_writers(run)
        drive(run, bars)
        writers = finish_writers(run)
        flush = flush_outbox(run)
        drain(run, bars)
    run.collector.stop()
    results = analyse(run, writers, flush)
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


def cleanup(run: Run) -> None:
    """Stop what this script started (writers, subscriber, emulator); remove the temp folder."""
    signal_writers(run, signal.SIGCONT)
    for writer in run.writers:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=10)
    if run.collector.is_alive():
        run.collector.stop()
    if run.emulator is not None:
        run.emulator.stop()
    shutil.rmtree(run.workdir, ignore_errors=True)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--writers", type=int, default=4, help="writer processes")
    add("--messages", type=int, default=500, help="appends per writer")
    add("--pause", type=float, default=0.08, help="seconds between appends")
    add("--outages", type=int, default=2, help="kills and restarts")
    add("--down", type=float, default=4.0, help="seconds from a kill to the restart")
    add("--up", type=float, default=3.0, help="least seconds up between outages")
    add("--freeze", action="store_true",
        help="stop the writers while the emulator restarts and gets its subscription back")  # fmt: skip
    add("--resubscribe-after", type=float, default=0.0,
        help="seconds from re-creating the topic to re-creating the subscription")  # fmt: skip
    add("--quiet", type=float, default=5.0, help="pull until nothing new came for this long")
    add("--drain", type=float, default=120.0, help="pull at most this long after the flush")
    add("--out", type=Path, help="default benchmarks/results/memory_outage_<commit>.json")
    add("--writer", type=int, help=argparse.SUPPRESS)  # a writer process
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.writer is not None:
        return run_writer(args.writer, args.messages, args.pause)
    if shutil.which("gcloud") is None:
        print("gcloud is not installed: this benchmark needs its Pub/Sub emulator", file=sys.stderr)
        return 2
    from rich.console import Console

    signal.signal(signal.SIGTERM, _interrupted)
    run = Run(args, Path(tempfile.mkdtemp(prefix="my-llm-outage-")))
    try:
        results = benchmark(run)
    except KeyboardInterrupt:
        print("interrupted: emulator, writers and temporary folder removed", file=sys.stderr)
        return 130
    finally:
        cleanup(run)
    version = commit()
    results = {"commit": version, "command": " ".join(["python", *sys.argv]),
               "cpus": os.cpu_count(), "python": sys.version.split()[0],
               "args": {k: v for k, v in vars(args).items() if k not in ("writer", "out")}, **results}  # fmt: skip
    Console().print(table(results))
    out = args.out or RESULTS_DIR / f"memory_outage_{version.rstrip('+')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results: {out}")
    return 0 if results["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
