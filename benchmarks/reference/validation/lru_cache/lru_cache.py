"""Reference solution for benchmarks/validation/lru_cache, written from prompt.txt."""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class LRUCache:
    """At most capacity items; putting a new key into a full cache drops the least recently used."""

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self.capacity = capacity
        self._data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The stored value (a use of the key), or None."""
        if key not in self._data:
            return None
        self._data.move_to_end(key)
        return self._data[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Store value under key (a use of the key)."""
        if key in self._data:
            self._data.move_to_end(key)
        elif len(self._data) >= self.capacity:
            self._data.popitem(last=False)
        self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> list[Hashable]:
        """The stored keys, least recently used first."""
        return list(self._data)
