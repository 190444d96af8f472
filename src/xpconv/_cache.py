"""A bounded least-recently-used cache, for xpconv's pure-Python memos.

Plain dicts (insertion-ordered) and no ``functools.lru_cache``: ``torch.compile`` warns
about ``lru_cache`` wrappers and traces through them, and an ``lru_cache`` hashes its
arguments, which a symbolic size (a ``SymInt``) must never be. Callers put only keys made
of plain Python values in it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class LRUCache(Generic[V]):
    """At most ``limit`` entries; the least recently used one is evicted first.

    Safe to use from several threads: a hit is one look-up and one ``move_to_end`` (no moment
    at which the entry is out of the dict, so a concurrent ``clear`` cannot be undone by it);
    a race can at worst evict an entry early or compute one twice.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be a positive int. Received: limit={limit!r}")
        self.limit = limit
        self._data: OrderedDict[Any, V] = OrderedDict()

    def get(self, key: Any) -> V | None:
        """The value for ``key`` (marked as most recently used), or ``None``."""
        data = self._data
        try:
            value = data[key]
            data.move_to_end(key)
        except KeyError:  # absent, or removed by another thread meanwhile
            return None
        return value

    def put(self, key: Any, value: V) -> None:
        data = self._data
        data[key] = value
        data.move_to_end(key)
        while len(data) > self.limit:
            try:
                data.popitem(last=False)  # the oldest
            except KeyError:  # another thread emptied it
                break

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data
