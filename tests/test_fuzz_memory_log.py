"""Property tests: the JSONL message log, and the cursors the outbox and the index read it from.

The log is the system of record; anything can end up in it (a crash's torn line, another tool's
garbage, a file rewritten by hand) and its cursor files can be damaged or point past the end. A
random sequence of appends, garbage, partial sends and indexing (each failing after a few batches),
archives, replaced files, damaged cursors and restarts must leave: every record written read back
unchanged and in order; every record the outbox and the index owe delivered at least once (only
the records of a file that is gone for good may be lost); and, while no cursor was damaged and no
file replaced, none delivered twice.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from langchain_core.messages import HumanMessage

from my_llm.memory import index_sync, outbox
from my_llm.memory.history import PubSubChatMessageHistory
from my_llm.memory.index_sync import index_cursor, index_pending
from my_llm.memory.log_cursor import LogCursor
from my_llm.memory.message_log import (
    MessageLog,
    Record,
    encode,
    make_record,
    parse_record,
    record_text,
)
from tests.fuzzing import budget, time_limit

NAMESPACE, TOPIC = "fuzz", "topic"
texts = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=12)  # lone surrogates too
garbage = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b'{"id": "half', b'{"id": [1], "role": "human"}\n', b'{"id": "x", "role": 5}\n', b"[1, 2]\n",
                     b"\n", b"\r", b"\xff\xfe\n", b'{"id": "g", "role": "human", "content": 7}\n',
                     b"[" * 3000 + b"\n", b'{"id": "u", "role": "nobody"}\n', b'{"id": "m", "role": "ai", "metadata": []}\n',
                     b'{"id": "t", "role": "ai", "lc": {"tool_calls": "x"}}\n']),
)
LOSES_PLACE = {"garbage", "negative", "huge", "other_ino", "list", "missing"}  # (documented: from the top)
DAMAGE = ["garbage", "past_end", "negative", "huge", "mid_line", "other_ino", "list", "missing", "wrong_line",
          "deleted"]
operations = st.lists(st.one_of(
    st.tuples(st.just("append"), st.lists(texts, min_size=1, max_size=3)),
    st.tuples(st.just("garbage"), garbage),
    st.tuples(st.just("drain"), st.integers(0, 2)),
    st.tuples(st.just("index"), st.integers(0, 2)),
    st.tuples(st.just("archive"), st.none()),
    st.tuples(st.just("replace"), st.tuples(st.sampled_from(["unlink", "rename", "in_place"]),
                                            st.lists(texts, max_size=3))),
    st.tuples(st.just("damage"), st.tuples(st.sampled_from(DAMAGE), st.sampled_from(["outbox", "index"]),
                                           st.binary(max_size=20))),
    st.tuples(st.just("restart"), st.none()),
), max_size=14)


class FakeIndex:
    """What index_sync needs of a Chroma collection; add_records fails after `allowed` batches."""

    def __init__(self, root: Path) -> None:
        self.root, self.namespace, self.target = root, NAMESPACE, "fake"
        self.stored: set[str] = set()
        self.indexed: Counter[str] = Counter()
        self.allowed: int | None = None

    def count(self) -> int:
        return len(self.stored)

    def add_records(self, records: list[Record]) -> int:
        if self.allowed is not None:
            if self.allowed <= 0:
                raise RuntimeError("chroma down")
            self.allowed -= 1
        self.indexed.update(str(r["id"]) for r in records)
        self.stored.update(str(r["id"]) for r in records)
        return len(records)


@dataclass
class World:
    """The log, its two readers, and what the test expects of them."""

    root: Path
    log: MessageLog
    outbox: outbox.Outbox
    index: FakeIndex
    live: list[Record] = field(default_factory=list)  # our records in the current log file, in order
    owed_outbox: set[str] = field(default_factory=set)
    owed_index: set[str] = field(default_factory=set)
    sent: Counter[str] = field(default_factory=Counter)
    disturbed: set[str] = field(default_factory=set)  # readers whose cursor or file was tampered with
    place_lost: bool = False  # the outbox cursor names no file: it reads the current log from the top
    made: int = 0

    def records(self, contents: list[str]) -> list[Record]:
        out = []
        for text in contents:
            out.append(make_record(HumanMessage(text), NAMESPACE, {"n": self.made}, record_id=f"r{self.made}"))
            self.made += 1
        return out


def _drain(world: World, allowed: int | None) -> None:
    calls = [0]

    def send(_topic: str, batch: list[Record], _timeout: float) -> None:
        if allowed is not None and calls[0] >= allowed:
            raise RuntimeError("pubsub down")
        calls[0] += 1
        world.sent.update(str(r["id"]) for r in batch)

    before = world.outbox.cursor.path.read_bytes() if world.outbox.cursor.path.exists() else b""
    world.outbox.drain(send, time.monotonic() + 60)
    if world.outbox.cursor.path.exists() and world.outbox.cursor.path.read_bytes() != before:
        world.place_lost = False  # a position saved again


def _index(world: World, allowed: int | None) -> None:
    world.index.allowed = allowed
    try:
        index_pending(world.index)
    except RuntimeError:
        pass
    world.index.allowed = None


def _replace(world: World, how: str, contents: list[str]) -> None:
    """The log written anew: the old file's unsent records are gone for good, the new ones are owed."""
    new = world.records(contents)
    data = "".join(encode(r) + "\n" for r in new).encode("utf-8")
    path = world.log.path
    if how == "unlink":
        path.unlink(missing_ok=True)
        path.write_bytes(data)  # ext4 gives the old inode back at once
    elif how == "rename":
        tmp = path.with_name("replacement.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    else:
        with open(path, "r+b" if path.exists() else "wb") as handle:
            handle.truncate(0)
            handle.write(data)
    gone = {r["id"] for r in world.live}  # not archived: unsent records of the old file are lost with it
    world.owed_outbox -= gone
    world.owed_index -= gone
    world.live = new
    world.owed_outbox |= {r["id"] for r in new}
    world.owed_index |= {r["id"] for r in new}
    world.disturbed |= {"outbox", "index"}
    world.place_lost = world.place_lost or how != "in_place"  # the cursor's file is gone: from the top


def _damage(world: World, kind: str, which: str, noise: bytes) -> None:
    cursor = world.outbox.cursor if which == "outbox" else index_cursor(world.root, NAMESPACE, "fake")
    if kind == "deleted" and which == "outbox":
        return  # a deleted outbox cursor is a fresh start at the end of the log, as documented
    world.disturbed.add(which)
    if which == "outbox" and kind in LOSES_PLACE:  # what waits in archives cannot be found any more
        world.place_lost = True
        world.owed_outbox &= {r["id"] for r in world.live}
    saved = json.loads(cursor.path.read_text()) if cursor.path.exists() and cursor.load() else {}
    size = world.log.path.stat().st_size if world.log.path.exists() else 0
    ino = saved.get("ino", 0)
    damaged: object = {
        "past_end": {**saved, "ino": ino, "offset": size + 7},
        "negative": {**saved, "offset": -3},
        "huge": {**saved, "offset": 2**70},
        "mid_line": {**saved, "ino": ino, "offset": max(1, size // 2)},
        "other_ino": {**saved, "ino": ino + 1},
        "list": [ino, size],
        "missing": {"log": "memory.jsonl"},
        "wrong_line": {**saved, "last_id": "nope", "line": "0" * 16},
    }.get(kind, saved)
    cursor.path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "deleted":
        cursor.path.unlink(missing_ok=True)
    elif kind == "garbage":
        cursor.path.write_bytes(noise)
    else:
        cursor.path.write_text(json.dumps(damaged))


def _apply(world: World, name: str, arg: object) -> None:
    if name == "append":
        new = world.records(arg)  # type: ignore[arg-type]
        world.log.append(new)
        world.live += new
        world.owed_outbox |= {r["id"] for r in new}
        world.owed_index |= {r["id"] for r in new}
    elif name == "garbage":
        world.log.dir.mkdir(parents=True, exist_ok=True)
        with open(world.log.path, "ab") as handle:
            handle.write(arg)  # type: ignore[arg-type]
    elif name == "drain":
        _drain(world, arg)  # type: ignore[arg-type]
    elif name == "index":
        _index(world, arg)  # type: ignore[arg-type]
    elif name == "archive":  # what clear() does: the archive is still published, the index rebuilt
        if world.log.archive() is not None:
            world.index.stored.clear()
            world.owed_index -= {r["id"] for r in world.live}
            if world.place_lost:  # an unreadable cursor starts at the top of the current log, not archives
                world.owed_outbox -= {r["id"] for r in world.live}
            world.live = []
    elif name == "replace":
        _replace(world, *arg)  # type: ignore[misc]
    elif name == "damage":
        _damage(world, *arg)  # type: ignore[misc]
    elif name == "restart":  # another process opens the history: its outbox starts if it has not
        world.outbox = outbox.Outbox(world.root, NAMESPACE, TOPIC)
        world.outbox.ensure_started()


def _check_readers(world: World) -> None:
    """Every record of the current log read back as written, in order; every reader survives it."""
    ours = {r["id"]: r for r in world.live}
    read = [r for r in world.log.records() if r["id"] in ours]
    assert read == world.live, "a record was lost or changed in the log"
    history = PubSubChatMessageHistory(NAMESPACE, history_dir=world.root, publish=False)
    assert [m.id for m in history.messages if m.id in ours] == list(ours)
    for record in history.search_log("a") + history.records():
        record_text(record)
        assert parse_record(encode(record)) == record
    assert set(ours) <= world.log.ids()


@budget(2.0)
@given(operations)
@example([("append", ["\ud800"])])  # a lone surrogate (a JSON escape in an import) could not be written
@example([("append", ["a"]), ("drain", None), ("damage", ("garbage", "outbox", b"x")), ("restart", None),
          ("append", ["b"])])  # a restart took an unreadable cursor for none and skipped to the end
@example([("append", ["a", "b"]), ("drain", None), ("index", None), ("damage", ("huge", "outbox", b"")),
          ("damage", ("past_end", "index", b"")), ("append", ["c"])])  # an offset past 2**63 overflowed seek
@example([("append", ["a", "b", "c"]), ("drain", None), ("index", None),
          ("replace", ("unlink", ["x", "y", "z", "w"]))])  # the same inode again: offset fell on a line start
@example([("append", ["a"]), ("garbage", b'{"id": [1], "role": "human"}\n'), ("append", ["b"])])  # ids() crashed
@example([("append", ["a"]), ("garbage", b'{"id": "u", "role": "nobody"}\n')])  # .messages crashed on the role
@example([("archive", None), ("append", ["a"]), ("archive", None)])  # two clears: the middle archive was skipped
@example([("append", [""]), ("index", 1), ("replace", ("unlink", [""]))])  # same inode, same size: "up to date"
@example([("append", [""]), ("damage", ("past_end", "outbox", b"")),
          ("garbage", b"\x00" * 6 + b"\n")])  # the log grew up to a cursor with no digest: trusted, r0 skipped
def test_the_log_and_its_cursors_lose_nothing_whatever_happens(tmp_path_factory: object, ops: list) -> None:
    root = tmp_path_factory.mktemp("history")  # type: ignore[attr-defined]
    with mock.patch.object(outbox, "BATCH_RECORDS", 2), mock.patch.object(index_sync, "BATCH_RECORDS", 2), \
            time_limit(60):
        log = MessageLog(NAMESPACE, root, durable=False)
        world = World(root, log, outbox.Outbox(root, NAMESPACE, TOPIC), FakeIndex(root))
        world.outbox.ensure_started()
        for name, arg in ops:
            _apply(world, name, arg)
        _drain(world, None)
        _index(world, None)
        _check_readers(world)
    assert world.owed_outbox <= set(world.sent), f"never published: {world.owed_outbox - set(world.sent)}"
    assert world.owed_index <= set(world.index.indexed), "never indexed"
    for reader, counts in (("outbox", world.sent), ("index", world.index.indexed)):
        if reader not in world.disturbed:
            twice = {i for i, n in counts.items() if n > 1 and i.startswith("r")}
            assert not twice, f"{reader} delivered {twice} twice without a reason"


# ----------------------------------------------------------------------------------------- the bugs, plainly

def _made(ids: str) -> list[Record]:
    return [make_record(HumanMessage(f"text {i}"), NAMESPACE, record_id=f"id-{i}") for i in ids]


def _drained(box: outbox.Outbox) -> list[str]:
    sent: list[str] = []
    box.drain(lambda _topic, batch, _timeout: sent.extend(r["id"] for r in batch), time.monotonic() + 30)
    return sent


def test_a_log_written_anew_under_its_old_inode_is_read_from_the_top(tmp_path: Path) -> None:
    """ext4 hands a deleted file's inode to the next new file: the old cursor's offset fell on a line
    start of the new log and its first records were skipped."""
    log = MessageLog(NAMESPACE, tmp_path, durable=False)
    log.append(_made("abc"))
    cursor = LogCursor(log.path, tmp_path / "cursor.json", follow_archives=True)
    start = cursor.start_position()
    assert start is not None
    cursor.save(cursor.read(start).end)  # type: ignore[arg-type]
    inode = log.path.stat().st_ino
    log.path.unlink()
    log.append(_made("wxyz"))  # records of the same length: offset 3 lines in is a line start again
    if log.path.stat().st_ino != inode:
        pytest.skip("this file system gave the new log a new inode")
    loaded = cursor.load()
    assert loaded is not None
    assert [r["id"] for r in cursor.read(loaded).records] == ["id-w", "id-x", "id-y", "id-z"]


def test_two_clears_between_two_sends_publish_the_middle_archive_too(tmp_path: Path) -> None:
    """After the first archive the cursor went on with the current log, past the second archive."""
    log, box = MessageLog(NAMESPACE, tmp_path, durable=False), outbox.Outbox(tmp_path, NAMESPACE, TOPIC)
    box.ensure_started()
    for ids in ("a", "b"):
        log.append(_made(ids))
        log.archive()
    log.append(_made("c"))
    assert _drained(box) == ["id-a", "id-b", "id-c"]


def test_an_unreadable_outbox_cursor_resends_rather_than_skips(tmp_path: Path) -> None:
    """A restart took an unreadable cursor for none and started again at the end of the log."""
    log, box = MessageLog(NAMESPACE, tmp_path, durable=False), outbox.Outbox(tmp_path, NAMESPACE, TOPIC)
    box.ensure_started()
    log.append(_made("a"))
    assert _drained(box) == ["id-a"]
    log.append(_made("b"))
    box.cursor.path.write_bytes(b"\x00garbage")
    restarted = outbox.Outbox(tmp_path, NAMESPACE, TOPIC)
    restarted.ensure_started()
    assert "id-b" in _drained(restarted)  # at least once: "id-a" may come again
