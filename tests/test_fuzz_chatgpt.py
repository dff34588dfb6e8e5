"""Property tests: ChatGPT exports, whatever the file holds.

Any bytes (a zip archive with odd members, another encoding, any JSON shape, nesting too deep for
Python) are read as an export or refused with one ChatGPTExportError line; inside a valid list,
each good conversation is taken with exactly the messages of its active branch and each bad one is
reported by name in one line; importing writes nothing when the file is refused, never changes a
byte already in the log, and adds each message once however often the file is imported.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from my_llm.memory.chatgpt_export import ChatGPTExportError, parse_export
from my_llm.memory.history import PubSubChatMessageHistory
from tests.fuzzing import budget, one_line, refused_in_one_line, time_limit

texts = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=10)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=20,
)
CONTENT_KEYS = ["mapping", "current_node", "title", "id", "conversation_id", "create_time", "message", "author",
                "role", "content", "parts", "parent", "children", "metadata", "content_type", "text"]
# Objects with ChatGPT's keys and any values: they get past the first checks more often than random keys.
chatgpt_shaped = st.recursive(
    st.one_of(st.none(), st.integers(), texts, st.sampled_from(["user", "assistant", "text", "n1", "root"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(CONTENT_KEYS), inner,
                                                                            max_size=6)),
    max_leaves=25,
)


@st.composite
def zip_archives(draw: st.DrawFn) -> bytes:
    """ChatGPT's export is a zip: give the archive itself, with members of any name and content."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # a duplicate member name, on purpose
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.sampled_from(["conversations.json", "../escape.json", "/abs.json", "dir/", "é.json",
                                         "conversations.json", "chat.html", " "]))
            archive.writestr(name, draw(st.binary(max_size=30)))
    return buffer.getvalue()


@st.composite
def conversations(draw: st.DrawFn, number: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A well-formed conversation and the (role, text) turns its active branch shows."""
    mapping: dict[str, Any] = {"root": {"message": None, "parent": None, "children": []}}
    parent, expected = "root", []
    for index in range(draw(st.integers(0, 5))):
        node = f"n{index}"
        role = draw(st.sampled_from(["user", "assistant", "system", "tool"]))
        parts = draw(st.lists(texts, max_size=2))
        hidden = draw(st.integers(0, 5)) == 0
        mapping[node] = {"parent": parent, "children": [], "message": {
            "author": {"role": role}, "create_time": draw(st.one_of(st.none(), st.floats(0, 2e9), st.just(10**400))),
            "content": {"content_type": "text", "parts": parts},
            "metadata": {"is_visually_hidden_from_conversation": True} if hidden else {},
        }}
        if draw(st.booleans()):  # a regenerated sibling: never part of the active branch
            mapping[f"{node}b"] = {"parent": parent, "children": [], "message": {
                "author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["sibling"]}}}
        text = "\n".join(p for p in parts if p.strip()).strip()
        if role in ("user", "assistant") and not hidden and text:
            expected.append(("human" if role == "user" else "ai", text))
        parent = node
    conv = {"id": f"c{number}-{draw(texts)}", "title": draw(st.one_of(st.none(), texts)), "mapping": mapping,
            "current_node": parent, "create_time": draw(st.one_of(st.none(), st.floats(0, 2e9)))}
    return conv, expected


@st.composite
def mixed_exports(draw: st.DrawFn) -> tuple[list[Any], dict[str, list[tuple[str, str]]]]:
    """A list of good conversations with bad entries among them; the good ones' expected turns by id."""
    good = [draw(conversations(n)) for n in range(draw(st.integers(0, 4)))]
    entries: list[Any] = [conv for conv, _ in good]
    for _ in range(draw(st.integers(0, 3))):
        entries.insert(draw(st.integers(0, len(entries))), draw(st.one_of(json_values, chatgpt_shaped)))
    return entries, {conv["id"]: turns for conv, turns in good}


def _write(folder: Path, data: bytes) -> Path:
    path = folder / "conversations.json"
    path.write_bytes(data)
    return path


def _stored(history: PubSubChatMessageHistory) -> bytes:
    return history.log.path.read_bytes() if history.log.path.exists() else b""


def _parse(path: Path, errors: list[str]) -> list[Any] | None:
    try:
        with time_limit(30):
            return parse_export(path, errors)
    except Exception as exc:  # noqa: BLE001 - the property is about which exceptions escape
        refused_in_one_line(exc, ChatGPTExportError)
        return None


@budget(5.0)
@given(st.one_of(st.binary(max_size=200), zip_archives(), json_values.map(lambda v: json.dumps(v).encode()),
                 chatgpt_shaped.map(lambda v: json.dumps([v]).encode()),
                 st.integers(1, 60_000).map(lambda n: b"[" * n + b"]" * n)))
@example(b"PK\x03\x04")
@example(b"[" * 100_000)
@example(b'[{"id": "c", "current_node": "n", "mapping": {"n": {"message": {"author": {"role": "user"}, '
         b'"content": {"parts": ["\\ud800"]}}}}}]')
def test_any_file_is_an_export_or_one_line_refusal(tmp_path_factory: Any, data: bytes) -> None:
    errors: list[str] = []
    parsed = _parse(_write(tmp_path_factory.mktemp("export"), data), errors)
    for line in errors:
        assert "\n" not in line and "\r" not in line, line
    if parsed is not None:
        assert all(c.conversation_id for c in parsed)


@budget(3.0)
@given(mixed_exports())
def test_good_conversations_are_taken_whole_and_bad_ones_named(
        tmp_path_factory: Any, export: tuple[list[Any], dict[str, Any]]) -> None:
    entries, expected = export
    folder = tmp_path_factory.mktemp("export")
    errors: list[str] = []
    parsed = _parse(_write(folder, json.dumps(entries).encode()), errors)
    assert parsed is not None, "a list of conversations is an export"
    assert len(parsed) + len(errors) == len(entries)
    got = {c.conversation_id: [(m.role, m.text) for m in c.messages] for c in parsed}
    for conv_id, turns in expected.items():
        assert got.get(conv_id) == turns, f"{conv_id}: {got.get(conv_id)} != {turns}"


@budget(2.0)
@given(mixed_exports(), st.lists(texts, max_size=3), st.one_of(st.none(), st.binary(max_size=50), zip_archives()))
@example(([{"id": "c", "current_node": "n", "mapping": {"n": {"message": {
    "author": {"role": "user"}, "content": {"parts": ["\ud800"]}}}}}], {"c": [("human", "\ud800")]}), [], None)
def test_import_changes_nothing_stored_and_adds_each_message_once(
        tmp_path_factory: Any, export: tuple[list[Any], dict[str, Any]], before: list[str], broken: bytes | None) -> None:
    root = tmp_path_factory.mktemp("history")
    history = PubSubChatMessageHistory("imports", history_dir=root, publish=False)
    for text in before:
        history.add_user_message(text)
    stored = _stored(history)
    entries, expected = export
    path = _write(tmp_path_factory.mktemp("export"), broken if broken is not None else json.dumps(entries).encode())
    with time_limit(30):
        try:
            report = history.load_chatgpt_export(path)
        except ChatGPTExportError as exc:
            one_line(exc)
            assert _stored(history) == stored
            return
        again = history.load_chatgpt_export(path)
    assert _stored(history).startswith(stored), "the import changed what was stored"
    assert again.added == 0 and again.already_present == report.added + report.already_present
    if broken is None:
        assert report.added >= sum(len(turns) for turns in expected.values())  # (a bad entry may be good by luck)
    records = history.records()
    assert [r["content"] for r in records[:len(before)]] == before
    assert len({r["id"] for r in records}) == len(records)


def test_the_zip_chatgpt_sends_is_named_as_a_zip_not_as_bad_text(tmp_path: Path) -> None:
    """It used to say "not UTF-8 text: save it as UTF-8", which sends the user the wrong way."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", "[]")
    path = tmp_path / "chatgpt-export.zip"
    path.write_bytes(buffer.getvalue())
    errors: list[str] = []
    try:
        parse_export(path, errors)
    except ChatGPTExportError as exc:
        assert "zip archive" in one_line(exc) and "conversations.json" in str(exc)
    else:
        raise AssertionError("a zip archive was read as an export")
