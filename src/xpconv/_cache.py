"""A bounded least-recently-used cache, for xpconv's pure-Python memos.

Plain dicts (insertion-ordered) and no ``functools.lru_cache``: ``torch.compile`` warns
about ``lru_cache`` wrappers and traces through them, and an ``lru_cache`` hashes its
arguments, which a symbolic size (a ``SymInt``) must never be. Callers put only keys made
of plain Python values in it.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

V = TypeVar("V")

_MISSING: Any = object()


class LRUCache(Generic[V]):
    """At most ``limit`` entries; the least recently used one is evicted first.

    Safe to read and write from several threads (each operation is a few dict operations
    under the GIL; a race can at worst evict an entry early or compute one twice).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be a positive int. Received: limit={limit!r}")
        self.limit = limit
        self._data: dict[Any, V] = {}

    def get(self, key: Any) -> V | None:
        """The value for ``key`` (marked as most recently used), or ``None``."""
        data = self._data
        value = data.pop(key, _MISSING)
        if value is _MISSING:
            return None
        data[key] = value  # re-inserted: now the newest
        return value

    def put(self, key: Any, value: V) -> None:
        data = self._data
        data.pop(key, None)
        data[key] = value
        while len(data) > self.limit:
            try:
                del data[next(iter(data))]  # the oldest
            except (KeyError, StopIteration, RuntimeError):  # another thread got there first
                break

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data
