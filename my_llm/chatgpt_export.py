"""ChatGPT's ``conversations.json`` export -> the messages of each conversation's active branch.

A conversation is a tree (``mapping``: node id -> ``{message, parent, children}``);
regenerating an answer or editing a prompt adds a sibling branch. What the user
last saw is the path from ``current_node`` up through ``parent``, reversed; the
other branches are dropped. Text is taken from every content type that carries
text; system, tool and hidden messages (custom instructions, memory context,
browsing and code-execution output) are skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from my_llm.message_log import MemoryStoreError

log = logging.getLogger("my_llm.memory")

ROLES = {"user": "human", "assistant": "ai"}
# Content that only instructs the model; never shown as a turn of the conversation.
HIDDEN_CONTENT_TYPES = frozenset(
    {"user_editable_context", "model_editable_context", "system_error", "reasoning_recap"}
)


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


def content_text(content: Any) -> str:
    """The text in any content type that carries text (empty when it carries none)."""
    if not isinstance(content, dict):
        return content if isinstance(content, str) else ""
    kind = content.get("content_type")
    if kind == "thoughts":
        pieces = [
            t.get("content", "") for t in content.get("thoughts") or [] if isinstance(t, dict)
        ]
        return "\n\n".join(p for p in pieces if isinstance(p, str) and p.strip())
    texts: list[str] = []
    for part in content.get("parts") or []:
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


def _hidden(message: dict[str, Any]) -> bool:
    meta = message.get("metadata") or {}
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
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node_id is not None:
        if node_id in seen:
            raise ChatGPTExportError(f"the message tree loops at node {node_id!r}")
        seen.add(node_id)
        node = mapping.get(node_id)
        if not isinstance(node, dict):
            raise ChatGPTExportError(f"node {node_id!r} is referenced but missing")
        path.append({"id": node_id, **node})
        node_id = node.get("parent")
    path.reverse()
    return path


def parse_conversation(conversation: Any) -> ChatGPTConversation:
    """One conversation; raises ChatGPTExportError when it is malformed."""
    if not isinstance(conversation, dict):
        raise ChatGPTExportError("not a JSON object")
    conv_id = conversation.get("conversation_id") or conversation.get("id")
    if not conv_id:
        raise ChatGPTExportError("no conversation id")
    result = ChatGPTConversation(
        conversation_id=str(conv_id),
        title=str(conversation.get("title") or "Untitled"),
        create_time=conversation.get("create_time"),
    )
    for node in active_branch(conversation):
        message = node.get("message")
        if not isinstance(message, dict):
            continue  # the root node carries no message
        role = ROLES.get(((message.get("author") or {}).get("role")) or "")
        if role is None or _hidden(message):
            continue  # system and tool messages, hidden context
        content = message.get("content")
        text = content_text(content)
        if not text:
            continue
        meta = message.get("metadata") or {}
        result.messages.append(
            ChatGPTMessage(
                node_id=str(node["id"]),
                role=role,
                text=text,
                create_time=message.get("create_time"),
                content_type=str((content or {}).get("content_type", "text")),
                model=meta.get("model_slug"),
            )
        )
    return result


def load_export(path: str | Path) -> list[Any]:
    """The raw list of conversations; a clear error naming the file when it is not one."""
    file = Path(path)
    if file.is_dir():
        file = file / "conversations.json"
    try:
        with open(file, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError as exc:
        raise ChatGPTExportError(f"ChatGPT export not found: {file}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChatGPTExportError(f"{file} is not valid JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        data = data["conversations"]
    if not isinstance(data, list):
        raise ChatGPTExportError(
            f"{file} is not a ChatGPT export: expected a list of conversations"
        )
    return data


def iter_conversations(
    path: str | Path, errors: list[str] | None = None
) -> Iterator[ChatGPTConversation]:
    """Parse every conversation; a bad one is reported in ``errors`` and skipped."""
    for number, raw in enumerate(load_export(path), start=1):
        try:
            yield parse_conversation(raw)
        except ChatGPTExportError as exc:
            title = raw.get("title") if isinstance(raw, dict) else None
            name = f"conversation {number}" + (f" ({title!r})" if title else "")
            message = f"{path}: {name}: {exc}"
            log.warning("%s; skipped", message)
            if errors is not None:
                errors.append(message)
