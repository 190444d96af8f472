"""Dask: arrays of NumPy chunks, two blocks along every axis (halos, channel sums and group
realignment in every test), computed with the synchronous scheduler."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Adapter


class DaskAdapter(Adapter):
    name = "dask"
    module = "dask.array"

    @property
    def has_native(self) -> bool:
        return False  # "native" goes to the chunks' library: NumPy has none

    def dtype(self, name: str) -> Any:
        return np.dtype(name)

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        a = np.asarray(a)
        a = np.asarray(a, dtype=dtype or a.dtype.name)
        return self.m.from_array(a, chunks=tuple(max(1, (s + 1) // 2) for s in a.shape))

    def sync(self, t: Any) -> Any:
        """``t`` computed, still a Dask array (its chunks in memory): what ``xpconv bench`` times
        (a Dask call alone only builds a graph)."""
        return t.persist() if self.is_array(t) else t

    def to_numpy(self, t: Any) -> np.ndarray:
        return np.asarray(t.compute(scheduler="sync"))

    def is_array(self, t: Any) -> bool:
        return isinstance(t, self.m.Array)

    def device(self, t: Any) -> Any:
        return None

    def version(self) -> str:
        import dask

        return dask.__version__
