"""What the tasks of a Dask convolution run: halo bundles, one xpconv call per block (through the
call the dispatcher injects), and the sums over input-channel blocks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..._plan import ConvOptions, Kind


def bundle(block: Any, indices: tuple[tuple[slice, ...], ...]) -> tuple:
    """Copies of the slices of ``block`` that its neighbours read (a view would keep the whole
    block alive in the worker that holds the bundle)."""
    return tuple(_copy(block[index]) for index in indices)


def _copy(a: Any) -> Any:
    return a.copy() if hasattr(a, "copy") else a


def _assemble(pieces: Any, axes: tuple[int, ...]) -> Any:
    """Nested lists of ``[array or bundle, position]`` leaves (one level per spatial axis),
    concatenated into one region."""
    if not axes:
        source, position = pieces
        return source if position is None else source[position]
    parts = [_assemble(p, axes[1:]) for p in pieces]
    if len(parts) == 1:
        return parts[0]
    from array_api_compat import array_namespace

    return array_namespace(parts[0]).concat(parts, axis=axes[0])


def _spread(xp: Any, region: Any, axis: int, step: int) -> Any:
    """``region`` with ``step - 1`` zeros between its elements along ``axis`` (none after the last)."""
    n = region.shape[axis]
    stacked = xp.stack([region] + [xp.zeros_like(region)] * (step - 1), axis=axis + 1)
    shape = list(region.shape)
    shape[axis] = n * step
    return xp.reshape(stacked, tuple(shape))[(slice(None),) * axis + (slice(0, (n - 1) * step + 1),)]


@dataclass(frozen=True)
class BlockCall:
    """What every block's task needs besides its data: where its axes are, how far a transposed
    convolution spreads each axis, the options of its call (explicit padding added per block), and
    the call itself, injected by the dispatcher (``call(kind, block, weight, bias, options, method)``)."""

    spatial_axes: tuple[int, ...]
    channel_axis: int
    spreads: tuple[int, ...]
    options: ConvOptions
    method: str
    call: Callable[..., Any]

    def run(self, region: Any, weight: Any, bias: Any, padding: tuple[tuple[int, int], ...], groups: int) -> Any:
        options = self.options._replace(padding=padding, groups=groups)
        return self.call(Kind.FORWARD, region, weight, bias, options, self.method)


def run_block(pieces: Any, weight: Any, bias: Any, padding: tuple[tuple[int, int], ...],
               out_shape: tuple[int, ...], groups: int, block: BlockCall) -> Any:
    """One output block: its region assembled from the pieces (spread with zeros for a transposed
    convolution), convolved with explicit zero padding."""
    region = _assemble(pieces, block.spatial_axes)
    from array_api_compat import array_namespace

    xp = array_namespace(region)
    if any(region.shape[a] == 0 for a in block.spatial_axes):  # windows of zeros only: zeros (+ bias)
        out = xp.zeros(out_shape, dtype=region.dtype)
        return out if bias is None else out + _bias_shaped(bias, len(out_shape), block.channel_axis)
    for a, step in zip(block.spatial_axes, block.spreads):
        if step > 1:
            region = _spread(xp, region, a, step)
    return block.run(region, weight, bias, padding, groups)


def _bias_shaped(bias: Any, ndim: int, channel_axis: int) -> Any:
    """``bias`` reshaped to broadcast along the channel axis of an ``ndim``-D block."""
    shape = [1] * ndim
    shape[channel_axis] = bias.shape[0]
    return bias.reshape(tuple(shape))


def total(parts: list, bias: Any = None, channel_axis: int = 0) -> Any:
    """The sum of partial results (one node of the tree); the root adds the bias."""
    summed = functools.reduce(lambda a, b: a + b, parts)
    return summed if bias is None else summed + _bias_shaped(bias, summed.ndim, channel_axis)
