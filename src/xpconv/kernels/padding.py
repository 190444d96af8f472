"""Padding modes, written once against the Array API: ``zeros``, ``reflect``, ``replicate``, ``circular``.

PyTorch's meanings (``nn.Conv2d(padding_mode=...)``): ``reflect`` mirrors without repeating the
edge (``[2, 1 | 0, 1, 2, 3 | 2, 1]``), ``replicate`` repeats the edge, ``circular`` wraps around.
A padded axis is never built whole unless asked for: :func:`padded_range` returns any run of
positions of the padded axis, made from slices of the input (flipped for ``reflect``), the
edge broadcast (``replicate``) or zeros, so a kernel that pads per block copies only the block.
With symbolic sizes only the whole padded axis is asked for (``start`` and ``stop`` omitted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .._plan import ConvPlan, is_static

Kernel = Callable[[Any, Any, Any, ConvPlan], Any]


def axis_range(x: Any, axis: int, start: Any, stop: Any) -> Any:
    """Positions ``start..stop`` of ``x`` along ``axis`` (a basic slice: a view where the library has views)."""
    return x[(slice(None),) * axis + (slice(start, stop), ...)]


def _zeros(xp: Any, x: Any, shape: list[Any], axis: int, size: Any) -> Any:
    """Zeros of ``shape`` but ``size`` long on ``axis``: same dtype and device as ``x``, no device query."""
    edge = axis_range(x, axis, 0, 1)
    full = list(shape)
    full[axis] = size
    return xp.broadcast_to(xp.zeros_like(edge), tuple(full))


def _edge(xp: Any, x: Any, shape: list[Any], axis: int, index: Any, size: Any) -> Any:
    full = list(shape)
    full[axis] = size
    return xp.broadcast_to(axis_range(x, axis, index, index + 1), tuple(full))


def _before(xp: Any, x: Any, shape: list[Any], axis: int, pad: Any, a: Any, b: Any, mode: str) -> Any:
    """Positions ``a..b`` of the ``pad`` positions before the input (``0 <= a < b <= pad``)."""
    n = shape[axis]
    if mode == "zeros":
        return _zeros(xp, x, shape, axis, b - a)
    if mode == "replicate":
        return _edge(xp, x, shape, axis, 0, b - a)
    if mode == "reflect":  # position p reads pad - p
        return xp.flip(axis_range(x, axis, pad - b + 1, pad - a + 1), axis=axis)
    return axis_range(x, axis, n - pad + a, n - pad + b)  # circular: position p reads n - pad + p


def _after(xp: Any, x: Any, shape: list[Any], axis: int, a: Any, b: Any, mode: str) -> Any:
    """Positions ``a..b`` of those after the input (``0 <= a < b``)."""
    n = shape[axis]
    if mode == "zeros":
        return _zeros(xp, x, shape, axis, b - a)
    if mode == "replicate":
        return _edge(xp, x, shape, axis, n - 1, b - a)
    if mode == "reflect":  # position q reads n - 2 - q
        return xp.flip(axis_range(x, axis, n - 1 - b, n - 1 - a), axis=axis)
    return axis_range(x, axis, a, b)  # circular: position q reads q


def padded_range(xp: Any, x: Any, shape: list[Any], axis: int, pad: tuple[Any, Any], mode: str,
                 start: int | None = None, stop: int | None = None) -> Any:
    """Positions ``start..stop`` of ``x`` padded by ``pad = (before, after)`` along ``axis``.

    ``shape`` is ``x``'s shape (sizes from the plan, possibly symbolic). Without ``start`` and
    ``stop``, the whole padded axis; a symbolic amount is always concatenated (it may be zero).
    """
    before, after = pad
    n = shape[axis]
    if start is None or stop is None:
        parts = [x]
        if not is_static(before) or before:
            parts.insert(0, _before(xp, x, shape, axis, before, 0, before, mode))
        if not is_static(after) or after:
            parts.append(_after(xp, x, shape, axis, 0, after, mode))
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=axis)
    parts = []
    if start < before:
        parts.append(_before(xp, x, shape, axis, before, start, min(stop, before), mode))
    lo, hi = max(start - before, 0), min(stop - before, n)
    if hi > lo:
        parts.append(axis_range(x, axis, lo, hi))
    if stop > before + n:
        parts.append(_after(xp, x, shape, axis, max(start - before - n, 0), stop - before - n, mode))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=axis)


def pad(xp: Any, x: Any, shape: list[Any], padding: tuple[tuple[Any, Any], ...], axes: tuple[int, ...],
        mode: str = "zeros") -> Any:
    """``x`` (of ``shape``) padded on ``axes`` by ``padding``, one ``(before, after)`` pair per axis."""
    shape = list(shape)
    for axis, amounts in zip(axes, padding):
        x = padded_range(xp, x, shape, axis, amounts, mode)
        shape[axis] = shape[axis] + amounts[0] + amounts[1]
    return x


def pad_first(xp: Any, plan: ConvPlan) -> tuple[Callable[[Kernel], Kernel], ConvPlan]:
    """For a kernel that pads with zeros only (every native): the plan of the input padded as
    ``plan``'s mode says, and a wrapper that pads the input that way before the kernel runs."""
    after = dataclasses.replace(plan, in_size=plan.padded_size, padding=((0, 0),) * plan.rank, padding_mode="zeros",
                                same=False)

    def wrap(kernel: Kernel) -> Kernel:
        def run(x: Any, weight: Any, bias: Any, _: ConvPlan) -> Any:
            padded = pad(xp, x, list(plan.batched_input_shape), plan.padding, plan.spatial_axes, plan.padding_mode)
            return kernel(padded, weight, bias, after)

        return run

    return wrap, after
