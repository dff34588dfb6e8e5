"""The old import path of `PubSubChatMessageHistory` (now my_llm/memory/history.py), kept working."""

from my_llm.memory.history import ImportReport, MemoryAnswer, PubSubChatMessageHistory, request_llm

__all__ = ["ImportReport", "MemoryAnswer", "PubSubChatMessageHistory", "request_llm"]
