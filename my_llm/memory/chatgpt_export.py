"""ChatGPT's ``conversations.json`` export -> the messages of each conversation's active branch.

A conversation is a tree (``mapping``: node id -> ``{message, parent, children}``);
regenerating an answer or editing a prompt adds a sibling branch. What the user
last saw is the path from ``current_node`` up through ``parent``, reversed; the
other branches are dropped. Text is taken from every content type that carries
text; system, tool and hidden messages (custom instructions, memory context,
browsing and code-execution output) are skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from my_llm.memory.message_log import MemoryStoreError, Record, make_record, utc_now
from my_llm.user_input import MB, UserInputError, read_user_file

log = logging.getLogger("my_llm.memory")

ROLES = {"user": "human", "assistant": "ai"}
# Content that only instructs the model; never shown as a turn of the conversation.
HIDDEN_CONTENT_TYPES = frozenset(
    {"user_editable_context", "model_editable_context", "system_error", "reasoning_recap"}
)
MAX_EXPORT_BYTES = 1024 * MB  # large exports run to hundreds of MB; a file beyond this is not one
LOCK_NAME = ".import.lock"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first bytes (the second: an empty one)


@dataclass
class ImportReport:
    """What ``load_chatgpt_export`` did (`PubSubChatMessageHistory.load_chatgpt_export`)."""

    conversations: int = 0
    added: int = 0
    already_present: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"imported {self.added} messages from {self.conversations} conversations "
            f"({self.already_present} already present)"
        )
        if self.errors:
            text += f"; {len(self.errors)} conversations skipped: " + "; ".join(self.errors)
        return text


class ChatGPTExportError(MemoryStoreError):
    """The export file, or one conversation in it, is not what ChatGPT writes."""


@dataclass
class ChatGPTMessage:
    node_id: str
    role: str  # "human" or "ai"
    text: str
    create_time: float | None
    content_type: str
    model: str | None = None


@dataclass
class ChatGPTConversation:
    conversation_id: str
    title: str
    create_time: float | None
    messages: list[ChatGPTMessage] = field(default_factory=list)


def iso_utc(seconds: float | None) -> str | None:
    """A ChatGPT epoch timestamp as UTC ISO-8601, or None when missing."""
    if seconds is None:
        return None
    try:
        moment = datetime.fromtimestamp(float(seconds), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _typed(value: Any, kinds: type | tuple[type, ...], where: str) -> Any:
    """``value`` (or None) when it has the JSON type ChatGPT writes there; else it is malformed."""
    if value is None:
        return None
    if isinstance(value, kinds) and not isinstance(value, bool):
        return value
    names = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}
    wanted = " or ".join(
        dict.fromkeys(
            names.get(k, k.__name__) for k in (kinds if isinstance(kinds, tuple) else (kinds,))
        )
    )
    got = "null" if value is None else names.get(type(value), type(value).__name__)
    raise ChatGPTExportError(f"{where} is {got}, expected {wanted}")


def _seconds(value: Any, where: str) -> float | None:
    """A timestamp, or None when missing or not finite (a 5000-digit number reads as inf)."""
    number = _typed(value, (int, float), where)
    try:
        seconds = None if number is None else float(number)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return seconds if seconds is not None and math.isfinite(seconds) else None


def content_text(content: Any) -> str:
    """The text in any content type that carries text (empty when it carries none)."""
    if not isinstance(content, dict):
        return content if isinstance(content, str) else ""
    kind = content.get("content_type")
    if kind == "thoughts":
        thoughts = _typed(content.get("thoughts"), list, "'thoughts'") or []
        pieces = [t.get("content", "") for t in thoughts if isinstance(t, dict)]
        return "\n\n".join(p for p in pieces if isinstance(p, str) and p.strip())
    texts: list[str] = []
    for part in _typed(content.get("parts"), list, "'parts'") or []:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            # multimodal parts: text and audio transcriptions carry text; images do not
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("content_type") == "image_asset_pointer":
                texts.append("[image]")
    if not texts:
        for key in ("text", "result", "content"):
            value = content.get(key)
            if isinstance(value, str):
                texts.append(value)
                break
    return "\n".join(t for t in texts if t.strip()).strip()


def _hidden(message: dict[str, Any], meta: dict[str, Any]) -> bool:
    if meta.get("is_visually_hidden_from_conversation") or meta.get("is_user_system_message"):
        return True
    content = message.get("content") or {}
    return isinstance(content, dict) and content.get("content_type") in HIDDEN_CONTENT_TYPES


def active_branch(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes from the root to ``current_node``; sibling branches are left out."""
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        raise ChatGPTExportError("no 'mapping' of messages")
    node_id = conversation.get("current_node")
    if node_id is None:
        raise ChatGPTExportError("no 'current_node'")
    _typed(node_id, str, "'current_node'")
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node_id is not None:
        if node_id in seen:
            raise ChatGPTExportError(f"the message tree loops at node {node_id!r}")
        seen.add(node_id)
        node = mapping.get(node_id)
        if not isinstance(node, dict):
            raise ChatGPTExportError(f"node {node_id!r} is referenced but missing")
        path.append({**node, "id": node_id})  # the mapping's key is the node's identity
        node_id = _typed(node.get("parent"), str, f"the 'parent' of node {node_id!r}")
    path.reverse()
    return path


def _message(node: dict[str, Any]) -> ChatGPTMessage | None:
    """The visible user or assistant turn a node carries, or None; wrong types raise."""
    where = f"node {node['id']!r}"
    message = _typed(node.get("message"), dict, f"the 'message' of {where}")
    if message is None:
        return None  # the root node carries no message
    author = _typed(message.get("author"), dict, f"the 'author' of {where}") or {}
    role = ROLES.get(_typed(author.get("role"), str, f"the author 'role' of {where}") or "")
    meta = _typed(message.get("metadata"), dict, f"the 'metadata' of {where}") or {}
    content = _typed(message.get("content"), (dict, str), f"the 'content' of {where}")
    create_time = _seconds(message.get("create_time"), f"the 'create_time' of {where}")
    if role is None or _hidden(message, meta):
        return None  # system and tool messages, hidden context
    try:
        text = content_text(content)
    except ChatGPTExportError as exc:
        raise ChatGPTExportError(f"in {where}: {exc}") from None
    if not text:
        return None
    kind = content.get("content_type", "text") if isinstance(content, dict) else "text"
    return ChatGPTMessage(
        node_id=node["id"],
        role=role,
        text=text,
        create_time=create_time,
        content_type=kind if isinstance(kind, str) else "text",
        model=meta.get("model_slug") if isinstance(meta.get("model_slug"), str) else None,
    )


def parse_conversation(conversation: Any) -> ChatGPTConversation:
    """One conversation; raises ChatGPTExportError when it is malformed (any field of a wrong type)."""
    if not isinstance(conversation, dict):
        raise ChatGPTExportError("not a JSON object")
    conv_id = conversation.get("conversation_id") or conversation.get("id")
    if not conv_id:
        raise ChatGPTExportError("no conversation id")
    result = ChatGPTConversation(
        conversation_id=str(_typed(conv_id, (str, int), "the conversation id")),
        title=_typed(conversation.get("title"), str, "'title'") or "Untitled",
        create_time=_seconds(conversation.get("create_time"), "'create_time'"),
    )
    for node in active_branch(conversation):
        message = _message(node)
        if message is not None:
            result.messages.append(message)
    return result


def _big_int(text: str) -> int | float:
    """JSON integers: Python refuses to read over 4300 digits, so those become a float (inf)."""
    return int(text) if len(text) <= 4300 else float(text)


def _export_file(path: str | Path) -> Path:
    file = Path(path)
    if file.is_dir():
        file = file / "conversations.json"
    if not os.path.lexists(file):
        raise ChatGPTExportError(
            f"ChatGPT export not found: {file}: give conversations.json or the unzipped export folder"
        )
    return file


def load_export(path: str | Path) -> list[Any]:
    """The raw list of conversations; a clear error naming the file when it is not one.

    Only a regular file is read (a FIFO or device would hang or never end), at most
    MAX_EXPORT_BYTES of it; JSON too deep for Python or not JSON at all is one error line.
    """
    file = _export_file(path)
    try:
        data = read_user_file(file, "ChatGPT export", MAX_EXPORT_BYTES)
    except UserInputError as exc:
        raise ChatGPTExportError(str(exc)) from exc
    if data.startswith(ZIP_MAGIC):  # what ChatGPT sends: the archive, not the file in it
        raise ChatGPTExportError(f"{file} is a zip archive: unzip ChatGPT's export and give its "
                                 "conversations.json (or the unzipped folder)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChatGPTExportError(f"ChatGPT export {file} is not UTF-8 text: save it as UTF-8") from exc
    try:
        data = json.loads(text, parse_int=_big_int)
    except RecursionError as exc:
        raise ChatGPTExportError(
            f"{file} nests too deeply to read (not a ChatGPT export): give the conversations.json ChatGPT wrote"
        ) from exc
    except ValueError as exc:  # JSONDecodeError and any other refusal of the json reader
        reason = " ".join(str(exc).split())[:200]
        raise ChatGPTExportError(f"{file} is not valid JSON: {reason}") from exc
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        data = data["conversations"]
    if not isinstance(data, list):
        raise ChatGPTExportError(
            f"{file} is not a ChatGPT export: expected a list of conversations"
        )
    return data


def _name(number: int, raw: Any) -> str:
    """How a warning names a conversation: its position, title and id (each shortened)."""
    name = f"conversation {number}"
    if isinstance(raw, dict):
        title, conv_id = raw.get("title"), raw.get("conversation_id") or raw.get("id")
        if isinstance(title, str) and title:
            name += f" ({_short(title)!r})"
        if isinstance(conv_id, str | int) and not isinstance(conv_id, bool):
            name += f" id {_short(str(conv_id))}"
    return name


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_export(
    path: str | Path, errors: list[str] | None = None, progress: bool = False
) -> list[ChatGPTConversation]:
    """Every good conversation of the file, all parsed before anything is written.

    A malformed conversation (a field of a type ChatGPT never writes there) is skipped with a
    warning that names it and said in ``errors``; the file as a whole must be an export.
    """
    raw_list = load_export(path)
    bar = _progress_bar(progress, len(raw_list))
    parsed: list[ChatGPTConversation] = []
    try:
        for number, raw in enumerate(raw_list, start=1):
            try:
                parsed.append(parse_conversation(raw))
            except (
                ChatGPTExportError,
                TypeError,
                ValueError,
                AttributeError,
                RecursionError,
            ) as exc:
                message = f"{path}: {_name(number, raw)}: {' '.join(str(exc).split())}"
                log.warning("%s; skipped", message)
                if errors is not None:
                    errors.append(message)
            if bar is not None:
                bar.advance(bar.task_ids[0])
    finally:
        if bar is not None:
            bar.stop()
    return parsed


def _progress_bar(enabled: bool, total: int) -> Any:
    if not enabled:
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.add_task("reading conversations", total=total)
    bar.start()
    return bar


def iter_conversations(
    path: str | Path, errors: list[str] | None = None
) -> Iterator[ChatGPTConversation]:
    """Parse every conversation (all of them first); a bad one is reported in ``errors`` and skipped."""
    yield from parse_export(path, errors)


@contextlib.contextmanager
def import_lock(folder: Path) -> Iterator[None]:
    """One importer per namespace at a time: reading the ids present and appending is one step.

    Without it two imports of one file both saw the ids absent and both appended every message.
    A lock file of its own, because the log's own flock is taken again by the append.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def conversation_records(conv: ChatGPTConversation, namespace: str) -> list[Record]:
    """The log records of one conversation; ids come from the conversation and node ids."""
    records = []
    for msg in conv.messages:
        meta = {
            "task": "chatgpt_import",
            "source": "chatgpt",
            "title": conv.title,
            "conversation_id": conv.conversation_id,
            "node_id": msg.node_id,
            "content_type": msg.content_type,
            "create_time": msg.create_time,
            "model": msg.model,
        }
        message = HumanMessage(msg.text) if msg.role == "human" else AIMessage(msg.text)
        records.append(
            make_record(
                message,
                namespace,
                {k: v for k, v in meta.items() if v is not None},
                record_id=f"chatgpt-{conv.conversation_id}-{msg.node_id}",
                ts=iso_utc(msg.create_time) or iso_utc(conv.create_time) or utc_now(),
            )
        )
    return records


def store_conversations(
    history: Any, conversations: list[ChatGPTConversation], errors: list[str] | None = None
) -> ImportReport:
    """Append the messages not yet in the history's log, once each, and return an ``ImportReport``.

    Under the namespace's import lock the ids present are read and the new messages appended in
    one write (then published), so concurrent imports of one file add each message once.
    """
    report = ImportReport(conversations=len(conversations), errors=list(errors or []))
    records = [r for conv in conversations for r in conversation_records(conv, history.namespace)]
    with import_lock(history.log.dir):
        present = history.log.ids()
        new: list[Record] = []
        for record in records:
            if record["id"] in present:
                report.already_present += 1
                continue
            present.add(record["id"])  # a conversation listed twice in the file counts once
            new.append(record)
        history._store(new)  # the log first, then Pub/Sub: the history's one way to write
    report.added = len(new)
    return report


def import_conversations(history: Any, path: str | Path, progress: bool = False) -> Any:
    """Import an export into a ``PubSubChatMessageHistory``: all or nothing, each message once.

    Every conversation is parsed and checked first, so a bad file writes nothing and a bad
    conversation is skipped by name; then ``store_conversations`` writes the rest.
    """
    errors: list[str] = []
    report = store_conversations(history, parse_export(path, errors, progress), errors)
    log.info("%s: %s", path, report)
    return report
