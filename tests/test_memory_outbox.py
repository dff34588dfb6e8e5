"""Nothing lost: the JSONL log drives Pub/Sub (an outbox) and Chroma (an index cursor).

Real processes and real services: writer subprocesses killed with SIGKILL, the
real `my-llm` command, Google's Pub/Sub emulator stopped, frozen and restarted,
and a `chroma run` server that is not there yet.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from my_llm.memory.message_log import encode, make_record
from tests.conftest import ChromaServer, PubSubEmulator
from tests.test_memory_pubsub import PROJECT, subscribe

WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from langchain_core.messages import HumanMessage
    from my_llm.langchain_class import PubSubChatMessageHistory

    namespace, count, then = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    memory = PubSubChatMessageHistory(namespace)

    def append(n, total):
        for i in range(n, n + total):
            memory.add_messages([HumanMessage(f"message {i}")], metadata={"task": "outbox", "n": i})
        return n + total

    n = append(0, count)
    if then == "clear":  # archive the log with messages still unsent, then write more
        memory.clear()
        n = append(n, count)
    print("LAST", flush=True)
    if then == "commands":  # a long-lived process driven from stdin
        for line in sys.stdin:
            cmd, arg = line.split()
            if cmd == "append":
                n = append(n, int(arg))
                print("appended", n, flush=True)
            elif cmd == "flush":
                print("flushed", memory.flush(timeout=float(arg)), flush=True)
            else:
                break
    """
)


def cli_command() -> list[str]:
    exe = Path(sys.executable).parent / "my-llm"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "my_llm.cli"]


def service_env(
    root: Path, pubsub_host: str | None, chroma_url: str | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUBSUB_", "MY_LLM_"))}
    for name in ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CHROMA_URL"):
        env.pop(name, None)
    env["MESSAGE_HISTORY"] = str(root)
    env["MY_LLM_PUBSUB_TIMEOUT"] = "2"
    if pubsub_host:
        env["PUBSUB_EMULATOR_HOST"] = pubsub_host
        env["GOOGLE_CLOUD_PROJECT"] = PROJECT
    if chroma_url:
        env["CHROMA_URL"] = chroma_url
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> tuple[int, str, list[str], float]:
    """Run `my-llm`; returns exit code, stdout, stderr lines and seconds taken."""
    start = time.monotonic()
    done = subprocess.run(
        cli_command() + args, env=env, capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stdout, done.stderr.splitlines(), time.monotonic() - start


def start_writer(
    env: dict[str, str], namespace: str, count: int, then: str = "exit"
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, namespace, str(count), then],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def command(writer: subprocess.Popen[str], line: str) -> str:
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write(line + "\n")
    writer.stdin.flush()
    return writer.stdout.readline().strip()


def log_ids(root: Path, namespace: str) -> list[str]:
    folder = root / namespace
    ids = []
    for path in sorted(folder.glob("memory*.jsonl")):
        ids += [json.loads(line)["id"] for line in path.read_text().splitlines() if line]
    return ids


def pull_ids(
    sub_path: str,
    wanted: set[str],
    limit_s: float = 30.0,
    publishes: dict[str, set[str]] | None = None,
) -> dict[str, int]:
    """Pull and ack until every wanted id came (or the limit); returns id -> times received.

    ``publishes``, when given, collects id -> the Pub/Sub message ids it came with: one per
    publish, so a redelivery (an ack that came late on a loaded machine) is not a resend.
    """
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    got: dict[str, int] = {}
    deadline = time.monotonic() + limit_s
    while not wanted <= got.keys() and time.monotonic() < deadline:
        response = subscriber.pull(subscription=sub_path, max_messages=1000, timeout=5)
        if not response.received_messages:
            continue
        subscriber.acknowledge(
            subscription=sub_path, ack_ids=[m.ack_id for m in response.received_messages]
        )
        for received in response.received_messages:
            payload = json.loads(received.message.data)
            assert received.message.attributes["message_id"] == payload["id"]
            got[payload["id"]] = got.get(payload["id"], 0) + 1
            if publishes is not None:
                publishes.setdefault(payload["id"], set()).add(received.message.message_id)
    return got


def signal_group(service: Any, sig: signal.Signals) -> None:
    """Signal a service we started (its own process group: the gcloud wrapper and java)."""
    assert service.proc is not None
    os.killpg(service.proc.pid, sig)


@pytest.fixture
def unstarted_emulator(tmp_path: Path) -> Iterator[PubSubEmulator]:
    """An emulator with its port chosen but nothing listening yet; stopped at the end."""
    if shutil.which("gcloud") is None:
        pytest.skip("gcloud is not installed: the Pub/Sub emulator tests need it")
    emulator = PubSubEmulator(tmp_path / "emulator")
    yield emulator
    if emulator.proc is not None:
        signal_group(emulator, signal.SIGCONT)  # in case a test froze it
        emulator.stop()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "history"


# -- (1) kill -9 right after the appends -------------------------------------------------------
def test_kill_9_after_2000_appends_then_flush_delivers_every_message(
    pubsub_emulator: PubSubEmulator, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    sub = subscribe("chat-messages-killed", "killed-sub")
    env = service_env(root, pubsub_emulator.host)
    writer = start_writer(env, "killed", 2000)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "LAST"
    writer.kill()  # SIGKILL: no atexit, no last attempt
    assert writer.wait(timeout=30) == -signal.SIGKILL
    ids = log_ids(root, "killed")
    assert len(ids) == 2000 and len(set(ids)) == 2000

    cursor = json.loads(
        (root / "killed" / ".cursors" / "pubsub.chat-messages-killed.json").read_text()
    )
    unsent = sum(
        1
        for line in (root / "killed" / "memory.jsonl").read_bytes()[cursor["offset"] :].splitlines()
    )
    code, out, err, seconds = run_cli(["flush"], env)
    assert code == 0, err
    assert err == []
    expected = f"sent {unsent} messages" if unsent else "nothing to send"
    assert out.startswith(expected), (out, unsent)
    got = pull_ids(sub, set(ids))
    assert set(ids) <= got.keys(), f"{len(set(ids) - got.keys())} of 2000 never reached Pub/Sub"
    # At least once: a batch Pub/Sub acknowledged just before the kill, with the cursor not yet
    # saved, is sent again; only lines after the cursor can be duplicated.
    assert sum(got.values()) - len(got) <= unsent


# -- (2) Pub/Sub configured but nothing listening -----------------------------------------------
def test_pubsub_down_exit_is_quick_flush_fails_fast_then_delivers(
    unstarted_emulator: PubSubEmulator, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = service_env(root, unstarted_emulator.host)  # nothing listens on that port yet
    writer = start_writer(env, "offline", 40)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "LAST"
    last_append = time.monotonic()
    assert writer.wait(timeout=30) == 0
    exit_seconds = time.monotonic() - last_append
    assert exit_seconds < 2.0, f"exit took {exit_seconds:.2f} s after the last append"
    assert writer.stderr is not None
    warning = writer.stderr.read().splitlines()
    assert len(warning) == 1 and "40 messages not yet on Pub/Sub" in warning[0]

    code, out, err, seconds = run_cli(["flush"], env)
    assert code != 0 and seconds < 30
    assert len(err) == 1 and err[0].startswith("my-llm: error: Pub/Sub"), err
    assert "40 messages not sent (offline)" in err[0]

    unstarted_emulator.start()  # Pub/Sub is back, on the same address
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", unstarted_emulator.host)
    sub = subscribe("chat-messages-offline", "offline-sub")
    code, out, err, _ = run_cli(["flush"], env)
    assert (code, err) == (0, []) and out.startswith("sent 40 messages"), (out, err)
    ids = log_ids(root, "offline")
    assert set(pull_ids(sub, set(ids))) == set(ids)
    code, out, err, _ = run_cli(["flush"], env)
    assert code == 0 and out.startswith("nothing to send")  # the cursor moved: no resend


def test_clear_with_unsent_messages_sends_the_archive_too(
    unstarted_emulator: PubSubEmulator, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = service_env(root, unstarted_emulator.host)
    writer = start_writer(env, "cleared", 5, then="clear")  # 5, clear(), 5 more; all unsent
    assert writer.wait(timeout=30) == 0
    assert len(list((root / "cleared").glob("memory-*.jsonl"))) == 1
    unstarted_emulator.start()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", unstarted_emulator.host)
    sub = subscribe("chat-messages-cleared", "cleared-sub")
    code, out, err, _ = run_cli(["flush"], env)
    assert code == 0 and out.startswith("sent 10 messages"), (out, err)
    ids = log_ids(root, "cleared")
    assert len(ids) == 10 and set(pull_ids(sub, set(ids))) == set(ids)


# -- (3) an outage in the middle of a long-lived process -----------------------------------------
def test_emulator_restarted_mid_run_long_lived_writer_loses_nothing(
    pubsub_emulator_factory: Any, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = pubsub_emulator_factory()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    sub = subscribe("chat-messages-restart", "restart-sub")
    writer = start_writer(service_env(root, emulator.host), "restart", 30, then="commands")
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "LAST"
        assert command(writer, "flush 20") == "flushed True"
        before = set(log_ids(root, "restart"))
        assert set(pull_ids(sub, before)) == before

        emulator.stop()  # Pub/Sub goes away
        started = time.monotonic()
        assert command(writer, "append 30") == "appended 60"
        assert time.monotonic() - started < 5  # appends never wait on the network
        started = time.monotonic()
        assert command(writer, "flush 3") == "flushed False"  # gives up, keeps the lines
        assert time.monotonic() - started < 5

        # The emulator keeps nothing across a restart (even with the same --data-dir), so the
        # test re-creates the topic and subscription; the writer is frozen meanwhile, so it
        # cannot publish into a topic nobody subscribes to yet.
        os.kill(writer.pid, signal.SIGSTOP)
        emulator.start()
        sub = subscribe("chat-messages-restart", "restart-sub")
        os.kill(writer.pid, signal.SIGCONT)
        assert command(writer, "flush 20") == "flushed True"  # same process: reconnects
        outage = set(log_ids(root, "restart")) - before
        assert len(outage) == 30 and set(pull_ids(sub, outage)) >= outage
        assert command(writer, "exit 0") == ""
        assert writer.wait(timeout=10) == 0
    finally:
        if writer.poll() is None:
            os.kill(writer.pid, signal.SIGCONT)
            writer.kill()


def test_emulator_restarted_without_its_subscriptions_messages_wait_for_one(
    pubsub_emulator_factory: Any, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 33: a restarted emulator has no topic and no subscription, and Pub/Sub drops what a
    topic without one receives. A writer that keeps running must not publish into the topic it
    re-creates: the messages wait in the log until a subscription is back, then all arrive."""
    emulator = pubsub_emulator_factory()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    sub = subscribe("chat-messages-resub", "resub-sub")
    writer = start_writer(service_env(root, emulator.host), "resub", 10, then="commands")
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "LAST"
        assert command(writer, "flush 20") == "flushed True"
        before = set(log_ids(root, "resub"))
        assert set(pull_ids(sub, before)) == before

        emulator.stop()
        emulator.start()  # same port, nothing in it; the writer is not frozen this time
        assert command(writer, "append 20") == "appended 30"
        assert command(writer, "flush 5") == "flushed False"  # nobody would receive them: held
        sub = subscribe("chat-messages-resub", "resub-sub")
        assert command(writer, "flush 20") == "flushed True"
        outage = set(log_ids(root, "resub")) - before
        assert len(outage) == 20 and set(pull_ids(sub, outage)) == outage
        assert command(writer, "exit 0") == ""
        assert writer.wait(timeout=10) == 0
    finally:
        if writer.poll() is None:
            writer.kill()


def test_emulator_frozen_mid_burst_in_flight_messages_are_resent(
    pubsub_emulator_factory: Any, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = pubsub_emulator_factory()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    sub = subscribe("chat-messages-frozen", "frozen-sub")
    writer = start_writer(service_env(root, emulator.host), "frozen", 0, then="commands")
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "LAST"
        log_path = root / "frozen" / "memory.jsonl"
        freezer = threading.Thread(target=_freeze_when, args=(emulator, log_path, 150))
        freezer.start()  # freezes the emulator while the writer is publishing
        started = time.monotonic()
        assert command(writer, "append 400") == "appended 400"
        freezer.join()
        assert time.monotonic() - started < 15  # a frozen Pub/Sub never slows the appends
        assert command(writer, "flush 3") == "flushed False"
        cursor = root / "frozen" / ".cursors" / "pubsub.chat-messages-frozen.json"
        assert json.loads(cursor.read_text())["offset"] < log_path.stat().st_size
        signal_group(emulator, signal.SIGCONT)  # back, with everything it had
        assert command(writer, "flush 30") == "flushed True"
        ids = set(log_ids(root, "frozen"))
        assert len(ids) == 400 and set(pull_ids(sub, ids)) >= ids  # duplicates allowed
        assert command(writer, "exit 0") == ""
        assert writer.wait(timeout=10) == 0
    finally:
        signal_group(emulator, signal.SIGCONT)
        if writer.poll() is None:
            writer.kill()


def _freeze_when(emulator: PubSubEmulator, log_path: Path, lines: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log_path.exists() and log_path.read_bytes().count(b"\n") >= lines:
            break
        time.sleep(0.005)
    signal_group(emulator, signal.SIGSTOP)


# -- several publishers, the old spool ----------------------------------------------------------
def test_two_writers_publish_one_log_without_duplicates(
    pubsub_emulator: PubSubEmulator, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    sub = subscribe("chat-messages-shared", "shared-sub")
    env = service_env(root, pubsub_emulator.host)
    # No timeout-driven resends on a busy machine: every publish, the exit-time last one
    # included (its RPC is otherwise cut to the 1 s exit budget), may wait 10 s for its ack.
    env["MY_LLM_PUBSUB_TIMEOUT"] = "10"
    env["MY_LLM_PUBSUB_EXIT_WAIT"] = "30"
    writers = [start_writer(env, "shared", 300) for _ in range(2)]
    assert [w.wait(timeout=90) for w in writers] == [0, 0]
    code, out, err, _ = run_cli(["flush"], env)
    assert code == 0, err
    ids = log_ids(root, "shared")
    assert len(set(ids)) == 600
    publishes: dict[str, set[str]] = {}
    got = pull_ids(sub, set(ids), publishes=publishes)
    assert set(got) == set(ids)
    resent = {i: len(p) for i, p in publishes.items() if len(p) > 1}
    assert not resent, f"published more than once: {resent}"  # the lock: each line sent once


def test_old_spool_is_delivered_once_and_removed(
    pubsub_emulator: PubSubEmulator, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.messages import HumanMessage

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    sub = subscribe("chat-messages-legacy", "legacy-sub")
    spool = root / ".pubsub_spool"
    spool.mkdir(parents=True)
    records = [make_record(HumanMessage(f"spooled {n}"), "legacy") for n in range(5)]
    (spool / "chat-messages-legacy.jsonl").write_text(
        "".join(encode(r) + "\n" for r in records[:3])
    )
    (spool / "chat-messages-legacy.jsonl.0123abcd.sending").write_text(
        "".join(encode(r) + "\n" for r in records[3:])
    )
    env = service_env(root, pubsub_emulator.host)
    code, out, err, _ = run_cli(["flush"], env)
    assert code == 0 and out.startswith("sent 5 messages"), (out, err)
    assert not spool.exists()
    got = pull_ids(sub, {r["id"] for r in records})
    assert got == {r["id"]: 1 for r in records}
    assert run_cli(["flush"], env)[1].startswith("nothing to send")


# -- (4) Chroma unavailable --------------------------------------------------------------------
def test_chroma_down_appends_succeed_and_reindex_rebuilds_later(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    from my_llm.langchain_class import PubSubChatMessageHistory
    from my_llm.memory.message_log import MemoryStoreError

    (tmp_path / "chroma").mkdir()
    server = ChromaServer(tmp_path / "chroma")  # its port is chosen; nothing listens yet
    env = service_env(root, None, chroma_url=server.url)
    monkeypatch.setenv("MESSAGE_HISTORY", str(root))
    memory = PubSubChatMessageHistory("no_chroma", chroma_url=server.url, publish=False)
    memory.add_messages([HumanMessage("Where is the build log?"), AIMessage("In build/out.txt")])
    with pytest.raises(MemoryStoreError, match="unreachable") as failure:
        memory.save_vectorstore_memory()
    assert "\n" not in str(failure.value)
    memory.add_ai_message("appends still work while Chroma is down")
    assert len(memory.records()) == 3

    code, out, err, _ = run_cli(["reindex", "--namespace", "no_chroma"], env)
    assert code == 2 and len(err) == 1 and err[0].startswith("my-llm: error: Chroma"), err

    try:
        server.start()
        code, out, err, _ = run_cli(["reindex", "--namespace", "no_chroma"], env)
        assert code == 0 and "no_chroma: indexed 3 messages" in out, (out, err)
        assert memory.index() == 0  # the cursor is at the end: nothing indexed twice
        memory.add_user_message("one more after the outage")
        assert memory.index() == 1
        assert memory.vector_index().count() == 4
    finally:
        server.stop()


def test_broken_embedded_chroma_dir_then_fixed_indexes_everything(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.messages import HumanMessage

    from my_llm.langchain_class import PubSubChatMessageHistory
    from my_llm.memory.message_log import MemoryStoreError

    monkeypatch.setenv("MESSAGE_HISTORY", str(root))
    monkeypatch.delenv("CHROMA_URL", raising=False)
    root.mkdir(parents=True)
    (root / "chroma").write_text("not a folder")  # Chroma cannot open its store
    memory = PubSubChatMessageHistory("broken_dir", publish=False)
    memory.add_messages([HumanMessage(f"note {n}") for n in range(4)])
    with pytest.raises(MemoryStoreError, match="Chroma cannot use"):
        memory.index()
    memory.add_user_message("still logged")
    (root / "chroma").unlink()
    assert memory.index() == 5
    assert memory.index() == 0


# -- (5) one line per error --------------------------------------------------------------------
@pytest.mark.parametrize("pubsub_state", ["off", "down"])
def test_cli_errors_are_one_line(
    pubsub_state: str, root: Path, tmp_path: Path, unstarted_emulator: PubSubEmulator
) -> None:
    env = service_env(root, unstarted_emulator.host if pubsub_state == "down" else None)
    bad_export = tmp_path / "conversations.json"
    bad_export.write_text("{not json")
    cases = [
        (["import-chatgpt", str(tmp_path / "missing.json")], "ChatGPT export not found"),
        (["import-chatgpt", str(bad_export)], ""),
        (["log", "--namespace", "bad name"], "bad memory namespace"),
        (["summarise", "-n", "0"], "-n must be at least 1"),
    ]
    if pubsub_state == "off":
        cases.append((["flush"], "Pub/Sub is not configured"))
    for args, message in cases:
        code, out, err, seconds = run_cli(args, env)
        assert code == 2, (args, err)
        assert len(err) == 1 and err[0].startswith("my-llm: error: ") and message in err[0], (
            args,
            err,
        )
        assert seconds < 10


# -- the cursor itself -------------------------------------------------------------------------
def test_cursor_reads_complete_lines_only_and_skips_a_fenced_torn_line(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from langchain_core.messages import HumanMessage

    from my_llm.memory.log_cursor import LogCursor
    from my_llm.memory.message_log import MessageLog

    log = MessageLog("torn", root)
    log.append([make_record(HumanMessage("one"), "torn")])
    cursor = LogCursor(log.path, root / "torn" / "c.json", follow_archives=True)
    pos = cursor.start_position()
    assert pos is not None
    intact = log.path.stat().st_size
    with open(log.path, "ab") as handle:  # a writer died mid-line (or is still writing it)
        handle.write(b'{"id": "half", "role": "human", "content": "ha')
    first = cursor.read(pos)
    assert [r["content"] for r in first.records] == ["one"]
    assert first.end is not None and first.end.offset == intact  # the torn line waits
    assert cursor.read(first.end).end == first.end
    cursor.save(first.end)
    log.append([make_record(HumanMessage("two"), "torn")])  # fences the torn line off
    loaded = cursor.load()
    assert loaded == first.end
    with caplog.at_level("WARNING", logger="my_llm.memory"):
        second = cursor.read(loaded)
    assert [r["content"] for r in second.records] == ["two"]
    assert "corrupt line" in caplog.text
    assert second.end is not None and second.end.offset == log.path.stat().st_size


def test_index_cursor_rebuilds_when_the_collection_was_dropped_elsewhere(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.messages import HumanMessage

    from my_llm.langchain_class import PubSubChatMessageHistory
    from my_llm.memory.vectorstore import collection_name, get_client

    monkeypatch.setenv("MESSAGE_HISTORY", str(root))
    monkeypatch.delenv("CHROMA_URL", raising=False)
    memory = PubSubChatMessageHistory("dropped", publish=False)
    memory.add_messages([HumanMessage(f"fact {n}") for n in range(3)])
    assert memory.index() == 3
    memory.add_user_message("fact 3")
    assert memory.index() == 1  # only what follows the cursor
    get_client(root).delete_collection(collection_name("dropped"))  # behind the cursor's back
    memory.vector_index()._collection = None
    memory.add_user_message("fact 4")
    assert memory.index() == 5  # noticed the empty collection: rebuilt from the log
    assert memory.vector_index().count() == 5
