"""Memory throughput and latency, printed as a small table.

* ``add_messages`` messages/s: JSONL alone (one message per call, fsync'd, and
  batches of 100), JSONL + Chroma indexing, JSONL + Pub/Sub (real emulator,
  timed until the outbox cursor says every message is acknowledged), and with
  Pub/Sub configured but down (nothing listening: appends must stay fast);
* ``question_memory`` latency over 10,000 stored messages (retrieval and prompt
  building; the chat model is LangChain's fake, so model generation is excluded).

Usage: ``python benchmarks/memory.py [--messages 2000] [--stored 10000] [--json PATH]``.
Everything happens in a temporary MESSAGE_HISTORY; the emulator is started and
stopped by this script (skipped when gcloud is missing).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SUBJECTS = ["the deploy script", "a Pub/Sub topic", "the prime sieve", "Copenhagen", "a capybara",
            "the Chroma index", "unit tests", "the YAML parser", "a black hole", "the CSV reader"]  # fmt: skip
VERBS = ["fails on", "explains", "needs", "was renamed after", "is faster than", "depends on"]
OBJECTS = ["empty input", "Danish text", "a timeout", "the north pole", "large files", "retries"]


def sentence(rng: random.Random, n: int) -> str:
    return (
        f"Message {n}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}; "
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
    )


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} msg/s ({count} in {seconds:.2f} s)"


def start_emulator(workdir: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    host = f"127.0.0.1:{port}"
    (workdir / "pubsub").mkdir()
    proc = subprocess.Popen(
        [gcloud, "beta", "emulators", "pubsub", "start", f"--host-port={host}",
         f"--data-dir={workdir / 'pubsub'}", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{host}/", timeout=2):
                return proc, host
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    return None


def stop_emulator(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGKILL)  # the java child, if it outlived the wrapper
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


Results = list[tuple[str, str]]


def bench_jsonl_and_chroma(msgs: list, results: Results) -> None:
    """The append path alone, then with Chroma indexing."""
    from my_llm.memory.history import PubSubChatMessageHistory

    n = len(msgs)
    memory = PubSubChatMessageHistory("bench_jsonl")
    t = time.perf_counter()
    for m in msgs:
        memory.add_messages([m], metadata={"task": "bench"})
    results.append(("add_messages, JSONL only, 1 per call", rate(n, time.perf_counter() - t)))

    memory = PubSubChatMessageHistory("bench_jsonl_batch")
    t = time.perf_counter()
    for start in range(0, n, 100):
        memory.add_messages(msgs[start : start + 100], metadata={"task": "bench"})
    results.append(("add_messages, JSONL only, 100 per call", rate(n, time.perf_counter() - t)))

    memory = PubSubChatMessageHistory("bench_chroma")
    t = time.perf_counter()
    for m in msgs:
        memory.add_messages([m])
    memory.save_vectorstore_memory()
    results.append(
        ("add_messages + Chroma index (offline MiniLM)", rate(n, time.perf_counter() - t))
    )


def bench_pubsub(msgs: list, workdir: Path, results: Results) -> None:
    """Appends with the outbox publishing to the emulator, then with Pub/Sub down."""
    from my_llm.memory.history import PubSubChatMessageHistory

    n = len(msgs)
    emulator = start_emulator(workdir)
    if emulator is None:
        results.append(
            ("add_messages + Pub/Sub (emulator)", "skipped: gcloud emulator unavailable")
        )
    else:
        proc, host = emulator
        os.environ["PUBSUB_EMULATOR_HOST"] = host
        try:
            memory = PubSubChatMessageHistory("bench_pubsub")
            memory.add_user_message("warm-up: creates the topic")
            memory.flush(60)
            t = time.perf_counter()
            for m in msgs:
                memory.add_messages([m])
            delivered = memory.flush(300)
            elapsed = time.perf_counter() - t
            note = "" if delivered else " (not all acknowledged)"
            results.append(
                ("add_messages + Pub/Sub (emulator, until acked)", rate(n, elapsed) + note)
            )
        finally:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
            stop_emulator(proc)

    with socket.socket() as sock:  # a port where nothing listens: Pub/Sub down
        sock.bind(("127.0.0.1", 0))
        os.environ["PUBSUB_EMULATOR_HOST"] = f"127.0.0.1:{sock.getsockname()[1]}"
    try:
        memory = PubSubChatMessageHistory("bench_pubsub_down")
        t = time.perf_counter()
        for m in msgs:
            memory.add_messages([m])
        results.append(
            ("add_messages, Pub/Sub down (kept in the log)", rate(n, time.perf_counter() - t))
        )
    finally:
        os.environ.pop("PUBSUB_EMULATOR_HOST", None)


def bench_questions(rng: random.Random, stored: int, questions: int, results: Results) -> None:
    """Indexing a large namespace, then question_memory latency over it (fake LLM)."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.messages import HumanMessage

    from my_llm.memory.history import PubSubChatMessageHistory

    memory = PubSubChatMessageHistory("bench_questions")
    texts = [HumanMessage(sentence(rng, i)) for i in range(stored)]
    for start in range(0, len(texts), 500):
        memory.add_messages(texts[start : start + 500])
    t = time.perf_counter()
    memory.save_vectorstore_memory()
    results.append((f"index {stored:,} stored messages", rate(stored, time.perf_counter() - t)))
    chat = FakeListChatModel(responses=["ok"])
    latencies = []
    for _ in range(questions):
        question = f"What {rng.choice(VERBS)} {rng.choice(OBJECTS)}?"
        t = time.perf_counter()
        memory.question_memory(question, llm=chat)
        latencies.append(time.perf_counter() - t)
    results.append(
        (
            f"question_memory over {stored:,} messages (fake LLM)",
            f"median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} questions",
        )
    )


def report(results: Results, args: argparse.Namespace) -> None:
    """Print the table; with --json, also write it."""
    width = max(len(name) for name, _ in results)
    print(f"my-llm memory benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    for name, value in results:
        print(f"  {name:<{width}}  {value}")
    if args.json:
        import json

        summary = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                   "messages": args.messages, "stored": args.stored, "results": dict(results)}  # fmt: skip
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per add benchmark")
    parser.add_argument("--stored", type=int, default=10000, help="messages behind question_memory")
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--json", help="also write the results here (e.g. benchmarks/results/)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="my-llm-bench-"))
    os.environ["MESSAGE_HISTORY"] = str(workdir / "history")
    for name in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CHROMA_URL"):
        os.environ.pop(name, None)

    from langchain_core.messages import HumanMessage

    from my_llm.memory.embeddings import default_embedding_function

    rng = random.Random(7)
    results: Results = []
    default_embedding_function().warm_up()  # model load is reported separately, not in rates
    msgs = [HumanMessage(sentence(rng, i)) for i in range(args.messages)]
    bench_jsonl_and_chroma(msgs, results)
    bench_pubsub(msgs, workdir, results)
    bench_questions(rng, args.stored, args.questions, results)
    report(results, args)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
