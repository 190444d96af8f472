"""A bounded least-recently-used cache, and the one rule for what may key one.

Plain dicts (insertion-ordered) and no ``functools.lru_cache``: ``torch.compile`` warns
about ``lru_cache`` wrappers and traces through them, and an ``lru_cache`` hashes its
arguments, which a symbolic size (a ``SymInt``) must never be. Every cache of xpconv (options,
plans, validated calls) keys with :func:`cache_key`.
"""

from __future__ import annotations

import itertools
from typing import Any, Generic, TypeVar

V = TypeVar("V")

_EXACT = (int, str, type(None))
_PLAIN = (int, bool, str, float, type(None))


def cache_key(values: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """``values`` as a cache key, or ``None`` where they may not key a cache.

    Only plain Python values (ints, strings, bools, floats, ``None`` and tuples or lists of
    them) are keys, with their types, since ``True`` and ``1`` hash alike but must never meet.
    Anything else (a NumPy int or a 0-d tensor, which hash by identity and can change in place;
    a symbolic size) gives ``None``: the caller then works without the cache. The common case,
    exact ints and strings, is its own key (one pass of ``type`` checks)."""
    for value in values:
        if type(value) not in _EXACT:
            break
    else:
        return values
    try:
        return tuple(_typed(v) for v in values)
    except TypeError:
        return None


def _typed(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_typed(v) for v in value))
    if type(value) not in _PLAIN:
        raise TypeError(f"not a plain value: {type(value).__name__}")
    return (type(value), value)


class LRUCache(Generic[V]):
    """At most ``limit`` entries; the least recently used ones are evicted first.

    A hit is one dict look-up and a clock tick stamped into the entry (no second hash of the
    key, no moment at which the entry is out of the dict, so a concurrent ``clear`` cannot be
    undone by it). When a ``put`` overflows the limit, the least recently used eighth is evicted
    in one sort, so eviction costs O(log n) per miss, amortized. Safe from several threads: a race
    can at worst evict an entry early or compute one twice.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be a positive int. Received: limit={limit!r}")
        self.limit = limit
        self._data: dict[Any, list] = {}
        self._clock = itertools.count()

    def get(self, key: Any) -> V | None:
        """The value for ``key`` (marked as most recently used), or ``None``."""
        entry = self._data.get(key)
        if entry is None:
            return None
        entry[1] = next(self._clock)
        return entry[0]

    def put(self, key: Any, value: V) -> None:
        data = self._data
        data[key] = [value, next(self._clock)]
        if len(data) > self.limit:
            entries = list(data.items())  # one C call: a consistent snapshot under the GIL
            entries.sort(key=lambda item: item[1][1])
            for old, _ in entries[: len(entries) - self.limit + max(1, self.limit // 8) - 1]:
                data.pop(old, None)

    def clear(self) -> None:
        self._data.clear()

    def keys(self) -> list[Any]:
        """The keys held now (a snapshot), least recently used first is not promised."""
        return list(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data
