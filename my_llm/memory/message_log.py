"""The JSONL message log: the system of record every other store is rebuilt from.

One file per namespace, ``$MESSAGE_HISTORY/<namespace>/memory.jsonl``, one JSON
object per line. Appends are crash- and concurrency-safe
(``my_llm.files.append_lines``, shared with other JSONL logs):

* the file is opened with ``O_APPEND`` and a whole batch of lines goes out in
  one ``write()``, under an exclusive ``fcntl.flock`` so writers on other
  processes (and NFS-less local disks) never interleave;
* ``fsync`` follows each batch (``durable=False`` skips it, for benchmarks);
* a torn last line left by a crash is fenced off with a newline by the next
  writer, and readers skip any unparsable line with a warning.

A record holds: ``id``, ``ts`` (UTC ISO-8601), ``namespace``, ``role`` (the
LangChain message type), ``content``, ``metadata`` (the caller's: task, run_id,
...) and ``lc`` (the rest of LangChain's ``message_to_dict`` data, so messages
round-trip). Never embeddings, user names or host names.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from my_llm.errors import MyLLMError
from my_llm.files import append_lines, locked_append_fd  # also imported from here by others

log = logging.getLogger("my_llm.memory")

LOG_NAME = "memory.jsonl"
RESERVED_NAMESPACES = frozenset({"chroma"})
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9])?$")
_announced_default = False

Record = dict[str, Any]


class MemoryStoreError(MyLLMError):
    """A memory store cannot be used as asked; the message names the namespace or file."""


def history_root() -> Path:
    """``$MY_LLM_HISTORY`` (or ``$MESSAGE_HISTORY``, or the config files' ``history``), else a
    folder in the app's data directory (named once)."""
    global _announced_default
    from my_llm import config

    env = config.text("history")
    if env:
        return Path(env).expanduser()
    import platformdirs

    root = config.app_path("data", "message_history",
                           Path(platformdirs.user_data_dir("my-llm", appauthor=False)) / "message_history")
    if not _announced_default and not root.exists():
        log.info("MY_LLM_HISTORY is not set: keeping messages in %s", root)
    _announced_default = True
    return root


def validate_namespace(namespace: str) -> str:
    """Namespaces become folder, collection and topic names, so they are kept plain."""
    if not isinstance(namespace, str) or not _NAMESPACE_RE.match(namespace) or ".." in namespace:
        raise MemoryStoreError(
            f"bad memory namespace {namespace!r}: use 1-100 letters, digits, '_', '-' or '.', "
            "starting and ending with a letter or digit"
        )
    if namespace in RESERVED_NAMESPACES:
        raise MemoryStoreError(f"memory namespace {namespace!r} is reserved, choose another")
    return namespace


def namespace_from(text: str, prefix: str = "") -> str:
    """Turn any name (a directory, a title) into a valid namespace, e.g. ``qna_my_repo``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.-")
    slug = re.sub(r"\.{2,}", ".", slug)[: 100 - len(prefix)].strip("_.-") or "default"
    return validate_namespace(prefix + slug)


def utc_now() -> str:
    """UTC ISO-8601 with milliseconds and a Z, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex


def _plain(value: Any) -> Any:
    """Make caller metadata JSON-safe without failing on odd values."""
    return json.loads(json.dumps(value, default=str))


def make_record(
    message: BaseMessage,
    namespace: str,
    metadata: Mapping[str, Any] | None = None,
    *,
    record_id: str | None = None,
    ts: str | None = None,
) -> Record:
    """Build one log record from a LangChain message."""
    if not isinstance(message, BaseMessage):
        raise MemoryStoreError(
            f"expected a LangChain message, got {type(message).__name__}: "
            "wrap text in HumanMessage/AIMessage or use add_user_message/add_ai_message"
        )
    data = message_to_dict(message)["data"]
    lc = {k: v for k, v in data.items() if k not in ("content", "type") and v not in (None, {}, [])}
    return {
        "id": record_id or new_id(),
        "ts": ts or utc_now(),
        "namespace": namespace,
        "role": message.type,
        "content": _plain(message.content),
        "metadata": _plain(dict(metadata or {})),
        "lc": _plain(lc),
    }


def record_to_message(record: Record) -> BaseMessage:
    """Back to a LangChain message; its ``id`` is the record id."""
    data = dict(record.get("lc") or {})
    data["content"] = record.get("content", "")
    data["id"] = record["id"]
    return messages_from_dict([{"type": record["role"], "data": data}])[0]


def record_text(record: Record) -> str:
    """The readable text of a record's content (string, or the text parts of a list)."""
    content = record.get("content", "")
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
    return "\n".join(parts)


def encode(record: Record) -> str:
    """One log line: UTF-8 text, except where a string cannot be UTF-8 (a lone surrogate, from a
    JSON escape in an import): then JSON's ``\\u`` escapes, which read back as the same string."""
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True, separators=(",", ":"))
    return line


def iter_records(path: Path) -> Iterator[Record]:
    """Every intact record in order; torn or corrupt lines are skipped with a warning."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = parse_record(line)
            if record is None:
                log.warning("%s line %d is incomplete or corrupt; skipped", path, number)
                continue
            yield record


# A record's fields and the JSON types they may have (id and role must be there): a line of
# another shape is corrupt, so every reader can use a record's fields without checking each.
_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,), "role": (str,), "ts": (str,), "namespace": (str,), "content": (str, list, type(None)),
    "metadata": (dict, type(None)), "lc": (dict, type(None)),
}


def parse_record(line: str | bytes) -> Record | None:
    """One log line as a record, or None for a torn or corrupt line (the caller says where)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or nested past Python's stack
        return None
    if not isinstance(record, dict) or "id" not in record or "role" not in record:
        return None
    if any(key in record and not isinstance(record[key], kinds) for key, kinds in _FIELDS.items()):
        return None
    return record


def records_to_messages(records: Iterable[Record]) -> list[BaseMessage]:
    """The records as LangChain messages; one that LangChain cannot read back (a role it does not
    know, extra data of the wrong shape) is left out with a warning, not fatal to the rest."""
    messages: list[BaseMessage] = []
    for record in records:
        try:
            messages.append(record_to_message(record))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("message %s cannot be read back (%s); left out", record.get("id"), " ".join(str(exc).split())[:200])
    return messages


class MessageLog:
    """The JSONL file of one namespace."""

    def __init__(self, namespace: str, root: Path | None = None, *, durable: bool = True) -> None:
        self.namespace = validate_namespace(namespace)
        self.root = Path(root) if root is not None else history_root()
        self.dir = self.root / self.namespace
        self.path = self.dir / LOG_NAME
        self.durable = durable

    def append(self, records: Iterable[Record]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        append_lines(self.path, [encode(r) for r in records], durable=self.durable)

    def records(self) -> list[Record]:
        return list(iter_records(self.path))

    def ids(self) -> set[str]:
        return {r["id"] for r in iter_records(self.path)}

    def archive(self) -> Path | None:
        """Rename the log to ``memory-<UTC stamp>.jsonl``; returns the archive, or None."""
        if not self.path.exists():
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.dir / f"memory-{stamp}.jsonl"
        with locked_append_fd(self.path):
            n = 1
            while target.exists():
                target = self.dir / f"memory-{stamp}-{n}.jsonl"
                n += 1
            os.rename(self.path, target)
        return target


def list_namespaces(root: Path | None = None) -> list[str]:
    """Namespaces that have a log (current or archived) under the history root."""
    base = Path(root) if root is not None else history_root()
    if not base.is_dir():
        return []
    found = []
    for child in sorted(base.iterdir()):
        if (
            child.is_dir()
            and _NAMESPACE_RE.match(child.name)
            and child.name not in RESERVED_NAMESPACES
        ):
            if (child / LOG_NAME).exists():
                found.append(child.name)
    return found
