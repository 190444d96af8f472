"""The output-size rules and how shapes are written in messages; plain Python, any size symbolic.

Sizes may be symbolic: a ``torch.SymInt`` (``torch.export``, ``torch.compile(dynamic=True)``), a
JAX symbolic dimension (``jax.export``) or, for a TensorFlow dimension that is ``None`` at trace
time, a scalar tensor holding its run-time value. Every rule here is integer arithmetic that all
of them support; nothing symbolic is compared, hashed or formatted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The largest stride, dilation, padding and padded spatial size (which bounds the dilated kernel
#: extent and the output): what the frameworks' own kernels index with 32-bit ints.
SIZE_LIMIT = 2**31 - 1
#: Spatial axis names by rank, for messages.
AXES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


def is_static(size: object) -> bool:
    """Whether ``size`` is a plain Python int (not a symbolic or unknown size)."""
    return type(size) is int


def extent(kernel: int, dilation: int) -> int:
    """The dilated kernel's extent along one axis: ``dilation·(kernel - 1) + 1``."""
    return dilation * (kernel - 1) + 1


def same_padding(size: Any, kernel: int, stride: int, dilation: int,
                 maximum: Callable[[Any, Any], Any] = max) -> tuple[Any, Any]:
    """TensorFlow's and JAX's "same" rule; the odd pixel goes to the end.

    The total is ``max((ceil(n/s) - 1)·s + e - n, 0)`` with ``e = d·(k-1) + 1``, in integer
    arithmetic that a symbolic ``n`` supports (``ceil(n/s) = (n + s - 1) // s``). When
    ``e >= s`` the total is never negative and no ``max`` is taken, and the padded size is
    ``(ceil(n/s) - 1)·s + e``, from which the output size simplifies to exactly ``ceil(n/s)``
    (symbolic shape checkers can then bound it). ``maximum`` is the framework's maximum for a
    symbolic ``n`` (only used when ``e < s``).
    """
    e = extent(kernel, dilation)
    if e == 1:
        return (0, 0)  # a 1-pixel window never pads (and stays a plain int for a symbolic size)
    total = ((size + stride - 1) // stride - 1) * stride + e - size
    if e < stride:
        total = max(total, 0) if is_static(size) else maximum(total, 0)
    return (total // 2, total - total // 2)


def output_size(size: Any, kernel: int, stride: int, dilation: int, pad: tuple[Any, Any]) -> Any:
    """The one output-size rule: ``floor((n + p0 + p1 - d·(k-1) - 1) / s) + 1`` (symbolic-safe)."""
    return (size + pad[0] + pad[1] - extent(kernel, dilation)) // stride + 1


def transposed_size(size: Any, kernel: int, stride: int, dilation: int, pad: tuple[int, int], extra: int) -> Any:
    """The transposed rule: ``(n-1)·s - p0 - p1 + d·(k-1) + output_padding + 1``."""
    return (size - 1) * stride - pad[0] - pad[1] + extent(kernel, dilation) + extra


def transposed_extension(kernel: int, stride: int, dilation: int, pad: tuple[int, int], extra: int) -> tuple[int, int]:
    """How far a transposed convolution's output window reads beyond its input, per end: the
    input elements ``(before, after)`` a padding mode makes up, ``floor((e - 1 - p0) / s)`` and
    ``floor((e - 1 - p1 + output_padding) / s)`` (none where negative), ``e = d·(k-1) + 1``."""
    reach = extent(kernel, dilation) - 1
    return max((reach - pad[0]) // stride, 0), max((reach - pad[1] + extra) // stride, 0)


def dim_text(size: object) -> str:
    """One size in a message: the int, ``nan`` for a lazy library's unknown chunk size, a symbolic
    dimension's own name, else ``None`` (TensorFlow's unknown size)."""
    if is_static(size):
        return str(size)
    if isinstance(size, float):
        return "nan"
    return str(size) if type(size).__name__ in ("SymInt", "_DimExpr", "DimExpr") else "None"


def describe(shape: tuple[Any, ...]) -> str:
    """A shape in a message, ``(2, 3, None)``; a 1-tuple keeps its comma."""
    texts = [dim_text(d) for d in shape]
    return "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"


def run_time_text(name: str, shape: tuple[Any, ...], traced: bool) -> str:
    """How a message made for a run-time check describes the input's sizes: while torch traces,
    formatting a size would fix it, so none is shown."""
    if traced:
        return f"sizes of {name} known only at run time"
    return f"known only at run time; {name} shape {describe(shape)}"


def joined(sizes: tuple[int, ...]) -> str:
    """``3x3`` for ``(3, 3)``: sizes in a message."""
    return "x".join(map(str, sizes))
