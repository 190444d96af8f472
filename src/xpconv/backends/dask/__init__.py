"""Dask arrays: detection, mixing with a weight of the chunks' library, a container's kernel.

The convolution itself is a graph of one task per output block (:mod:`.graph`); each task hands
its block back to xpconv on the blocks' own library (NumPy chunks run xpconv's NumPy kernel), with
the ``method`` the caller asked for, through the call the dispatcher injects. Every rank (1-D to
3-D), every padding mode and transposed convolutions.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from ..._dtypes import STANDARD
from ..base import Backend, Kernel
from ..registry import backend_for

#: The chunk libraries Dask itself can type and join (NumPy's dtypes; CuPy shares them).
_CHUNK_LIBRARIES = ("numpy", "cupy")


def _chunk_backend(x: Any) -> Backend:
    """The backend of ``x``'s chunks (from its meta array, a 0-size array of that library)."""
    return backend_for(x._meta)


class DaskBackend(Backend):
    """``dask.array.Array`` inputs of NumPy (or CuPy) chunks."""

    name = "dask"
    module = "dask"  # a top-level name: the installed check imports nothing
    priority = 80
    extra = "dask"
    lane = "dask"
    requirements = ("numpy.txt", "dask.txt")
    container = True
    dtypes = STANDARD | {"float16"}  # what NumPy chunks compute

    def is_loaded(self) -> bool:
        return sys.modules.get("dask.array") is not None and super().is_loaded()

    def matches(self, x: object) -> bool:
        return isinstance(x, sys.modules["dask.array"].Array)

    def namespace(self, x: Any) -> Any:
        from .namespace import namespace

        return namespace()

    def device(self, x: Any) -> Any:
        return None  # the chunks' devices are known only when they are computed

    def shape(self, x: Any) -> tuple[Any, ...]:
        return tuple(x.shape)  # NaN for unknown chunk sizes: the plan refuses them, naming the argument

    def native_backend(self, x: Any) -> Backend:
        """``method="native"`` is handed on to the blocks: their library's convolution runs."""
        return _chunk_backend(x)

    def dense(self, name: str, a: Any) -> Any:
        """Dask arrays of NumPy (or CuPy) chunks: Dask keeps a NumPy dtype for every array, which
        the tensors of other libraries (torch, JAX, TensorFlow) do not have, so their chunks
        cannot be typed, rechunked or joined by Dask itself."""
        meta = getattr(a, "_meta", None)
        if type(meta).__module__.split(".")[0] not in _CHUNK_LIBRARIES:
            try:
                library = _chunk_backend(a).name
            except TypeError:  # not even an array xpconv knows
                library = type(meta).__module__.split(".")[0]
            raise TypeError(
                f"{name} must be a Dask array of NumPy or CuPy chunks: Dask types, rechunks and joins blocks "
                f"with NumPy's own functions, which {library} arrays do not go through. Received: {name} with "
                f"chunks of type {type(meta).__module__}.{type(meta).__qualname__} ({library}); use "
                f"{name}.map_blocks(numpy.asarray) for NumPy chunks, or {library} arrays without Dask"
            )
        return a

    def adopt(self, value: Any, like: Any) -> Any:
        """A weight or bias of the input's chunk library, as a one-chunk Dask array (lazy)."""
        if not self.matches(like):
            return None
        try:
            same = _chunk_backend(like).matches(value)
        except TypeError:
            return None
        if not same:
            return None
        import dask.array as da

        return da.from_array(value, chunks=tuple(value.shape), asarray=False)

    def container_kernel(self, method: str, call: Callable[..., Any]) -> Kernel:
        from . import graph

        return functools.partial(graph.conv, method=method, call=call)

    def version(self) -> str:
        import dask

        return dask.__version__
