"""The direct convolution written once, against the Array API standard, for 1, 2 or 3 spatial axes.

Names no framework. Uses only :data:`xpconv.kernels.core_api.CORE_FUNCTIONS` on ``xp``, plain
indexing (basic slices with steps) and ``+``; never writes in place, so it runs on
immutable arrays (JAX), on tensors without item assignment (TensorFlow), under
``jax.jit`` and ``tf.function``, and under every framework's autodiff.

Formulation: blocked im2col. For a block of output rows (along the first spatial axis), the
input rows it reads are padded (never the whole input), and their ``prod(kernel)`` shifted,
strided views are stacked (one copy) into columns of shape
``(N, G, C_in/G · prod(kernel), rows · prod(other output sizes))`` and multiplied by the weight
viewed as ``(G, C_out/G, C_in/G · prod(kernel))`` in one batched matrix product per block. The
block is sized so that the gathered columns stay under ``scratch_elements``, which bounds
temporary memory whatever the input size. A 1×…×1 kernel is a single matrix product over
channels, with no gathering at all. A depthwise layer (one input channel per group) is a
broadcast multiply-add per tap instead (see ``_depthwise``).

The arrays are batched here (the dispatcher adds and removes a batch axis once); the layout is
the plan's. Forward plans only: a transposed plan reaches a forward kernel as its forward twin
(:mod:`xpconv.kernels.transpose`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from .._plan import ConvPlan, is_static
from .padding import pad, padded_range

#: Upper bound on the elements of one block of gathered columns (32 MiB of float32).
SCRATCH_ELEMENTS = 8 * 1024 * 1024


def conv(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan, *, scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """Cross-correlate a batched ``x`` with ``weight`` as ``plan`` says; arrays share one dtype.

    Half-precision inputs are computed in float32 and rounded once at the end; ``x`` is
    widened block by block (tap by tap for depthwise layers), never as a whole. Sizes come
    from the plan, never from ``x.shape``, so symbolic sizes (``None`` in a TensorFlow graph,
    ``SymInt``, JAX symbolic dimensions) work: then the input is processed as one block.
    """
    dtype = x.dtype
    widen = xp.isdtype(dtype, "real floating") and dtype not in (xp.float32, xp.float64)
    work = xp.float32 if widen else None
    if widen:
        weight = xp.astype(weight, xp.float32)
        bias = None if bias is None else xp.astype(bias, xp.float32)
    if plan.channels_last and plan.is_pointwise and plan.unpadded and not widen:
        y = _pointwise_channels_last(xp, x, weight, bias, plan)  # one product over the last axis
    elif plan.channels_last and plan.is_depthwise and plan.taps > 1 and plan.depth_multiplier == 1:
        padded = pad(xp, x, list(plan.batched_input_shape), plan.padding, plan.spatial_axes, plan.padding_mode)
        y = _depthwise_channels_last(xp, padded, weight, plan, work, scratch_elements)
        y = y if bias is None else y + bias
    else:
        if plan.channels_last:
            x = xp.permute_dims(x, plan.to_channels_first)
        y = _correlate(xp, x, weight, plan, scratch_elements, work)
        if bias is not None:
            y = y + xp.reshape(bias, (1, plan.out_channels) + (1,) * plan.rank)
        if plan.channels_last:
            y = xp.permute_dims(y, plan.from_channels_first)
    return xp.astype(y, dtype) if widen else y


def _window(x: Any, plan: ConvPlan, axis: int, starts: tuple[int, ...], rows: Any = None) -> Any:
    """``x`` at ``starts[k] + t·stride[k]`` for ``t < out[k]`` on the spatial axes from ``axis``
    (``rows`` output rows on the first, if given).

    With static sizes one basic slice per axis; with symbolic ones ``x[a : a+count]`` (stride 1)
    or ``x[a::s][:count]``, whose stops a symbolic size can prove non-negative (``jax.export``
    needs that; ``(n-1)·s + 1`` is not provably so). With a stride > 1 and symbolic spatial
    sizes, ``jax.export`` and ``torch.export`` still cannot prove the taps' lengths equal:
    that combination needs ``method="auto"`` or ``"native"`` (documented).
    """
    strides, out = plan.stride, plan.out_size
    counts = (out[0] if rows is None else rows, *out[1:])
    lead = (slice(None),) * axis
    if plan.spatial_static:
        return x[(*lead, *(slice(a, a + (c - 1) * s + 1, s) for a, c, s in zip(starts, counts, strides)), ...)]
    if all(s == 1 for s in strides):
        return x[(*lead, *(slice(a, a + c) for a, c in zip(starts, counts)), ...)]
    x = x[(*lead, *(slice(a, None, s) for a, s in zip(starts, strides)), ...)]
    return x[(*lead, *(slice(0, c) for c in counts), ...)]


def _offsets(plan: ConvPlan) -> list[tuple[int, ...]]:
    """Every kernel tap's offset into the padded input, ``index · dilation`` per axis, in weight order."""
    return [tuple(i * d for i, d in zip(index, plan.dilation)) for index in itertools.product(*map(range, plan.kernel))]


def _pointwise_channels_last(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """A 1×…×1 convolution of a channels-last array: ``x[:, ::s, ..., :] @ W.T``, no layout changes."""
    cols = _window(x, plan, 1, (0,) * plan.rank)
    y = xp.matmul(cols, xp.permute_dims(xp.reshape(weight, (plan.out_channels, plan.in_channels)), (1, 0)))
    return y if bias is None else y + bias


def _widened(xp: Any, a: Any, work: Any) -> Any:
    """``a`` in the working dtype (float32 for half precision), or as it is."""
    return a if work is None else xp.astype(a, work)


def _correlate(xp: Any, x: Any, weight: Any, plan: ConvPlan, scratch_elements: int, work: Any = None) -> Any:
    """Cross-correlation of an unpadded channels-first ``x``; returns ``(N, C_out, *out_size)``.

    Padding is applied per block of output rows, to the input rows that block reads, so
    no padded copy of the whole input is ever made (with symbolic sizes: one block). With a
    ``work`` dtype each block's rows are widened to it as they are read.
    """
    n, c_in, sizes, rank = plan.batch, plan.in_channels, plan.in_size, plan.rank
    shape = [n, c_in, *sizes]
    groups, c_out, mode = plan.groups, plan.out_channels, plan.padding_mode
    c_group, taps = c_in // groups, plan.taps
    out = plan.out_size
    spatial = tuple(range(2, rank + 2))
    if plan.is_depthwise and taps > 1:
        return _depthwise(xp, pad(xp, x, shape, plan.padding, spatial, mode), weight, plan, work, scratch_elements)
    w = xp.reshape(weight, (groups, c_out // groups, c_group * taps))
    if taps == 1 and work is None and plan.spatial_static:  # one product over channels, no gathering
        cols = _window(pad(xp, x, shape, plan.padding, spatial, mode), plan, 2, (0,) * rank)
        y = xp.matmul(w, xp.reshape(cols, (n, groups, c_group, math.prod(out))))
        return xp.reshape(y, (n, c_out, *out))
    if not plan.spatial_static:  # symbolic sizes: the whole padded input is the one block
        return _block(xp, pad(xp, _widened(xp, x, work), shape, plan.padding, spatial, mode), w, plan, out[0])
    images = n if is_static(n) else 1  # a symbolic batch: blocks sized per image
    rows = max(1, min(out[0], scratch_elements // max(1, images * c_in * taps * math.prod(out[1:]))))
    span_of = plan.extents[0]
    blocks = []
    for r0 in range(0, out[0], rows):
        r = min(rows, out[0] - r0)
        start = r0 * plan.stride[0]  # first row of the block, in padded coordinates
        stop = start + (r - 1) * plan.stride[0] + span_of
        block = _widened(xp, padded_range(xp, x, shape, 2, plan.padding[0], mode, start, stop), work)
        block_shape = [n, c_in, stop - start, *sizes[1:]]
        block = pad(xp, block, block_shape, plan.padding[1:], spatial[1:], mode)
        blocks.append(_block(xp, block, w, plan, r))
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=2)


def _block(xp: Any, block: Any, w: Any, plan: ConvPlan, r: Any) -> Any:
    """``r`` output rows from a padded block of input rows: its taps stacked, one product."""
    n, groups, rank = plan.batch, plan.groups, plan.rank
    k = plan.in_channels // plan.groups * plan.taps
    rest = plan.out_size[1:]
    shifted = [_window(block, plan, 2, offset, r) for offset in _offsets(plan)]
    taps = xp.stack(shifted, axis=2)  # (N, C_in, taps, r, *rest)
    if plan.spatial_static:
        cols = xp.reshape(taps, (n, groups, k, r * math.prod(rest)))
        return xp.reshape(xp.matmul(w, cols), (n, plan.out_channels, r, *rest))
    # Symbolic sizes: never merge two spatial sizes (jax.export cannot prove a product of two
    # symbolic sizes non-negative); the product runs over K with every spatial axis but the last
    # batched: (N, G, r, *rest[:-1], K, last).
    cols = xp.reshape(taps, (n, groups, k, r, *rest))
    last = rank + 2
    cols = xp.permute_dims(cols, (0, 1, *range(3, last), 2, last))
    lhs = xp.reshape(w, (1, groups, *(1,) * (rank - 1), plan.out_channels // groups, k))
    y = xp.matmul(lhs, cols)  # (N, G, r, *rest[:-1], C_out/G, last)
    y = xp.permute_dims(y, (0, 1, rank + 1, *range(2, rank + 1), rank + 2))
    return xp.reshape(y, (n, plan.out_channels, r, *rest))


def _in_row_blocks(xp: Any, x: Any, plan: ConvPlan, axis: int, work: Any, scratch_elements: int,
                   compute: Any) -> Any:
    """``compute(rows_of_x, r)`` over blocks of ``r`` output rows of a padded ``x`` (rows on
    ``axis``), joined. Used when widening half precision, so that float32 temporaries stay
    bounded; otherwise (or with symbolic sizes) one call over all rows."""
    out = plan.out_size
    if work is None or not plan.spatial_static:
        return compute(x, out[0])
    images = plan.batch if is_static(plan.batch) else 1
    rows = max(1, min(out[0], scratch_elements // max(1, images * plan.out_channels * math.prod(out[1:]))))
    if rows >= out[0]:
        return compute(x, out[0])
    step, span = plan.stride[0], plan.extents[0]
    lead = (slice(None),) * axis
    blocks = [
        compute(x[(*lead, slice(r0 * step, r0 * step + (min(rows, out[0] - r0) - 1) * step + span), ...)],
                min(rows, out[0] - r0))
        for r0 in range(0, out[0], rows)
    ]
    return xp.concat(blocks, axis=axis)


def _tap(w: Any, offset_index: tuple[int, ...]) -> Any:
    return w[(slice(None), *offset_index)]


def _depthwise(xp: Any, x: Any, weight: Any, plan: ConvPlan, work: Any = None,
               scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """One input channel per group: a broadcast multiply-add per tap, no matrix products.

    ``y[n, g, m] = Σ_taps x_shifted[n, g] · w[g, m, tap]`` for the ``m = C_out/G`` outputs of
    group ``g``; gathering columns would only feed ``G`` products of inner length ``prod(kernel)``.
    """
    n, groups, multiplier, rank = plan.batch, plan.groups, plan.depth_multiplier, plan.rank
    rest = plan.out_size[1:]
    # multiplier 1: the taps stay strided views, weights broadcast as (1, C, 1, ...)
    shape = (1, groups, *(1,) * rank) if multiplier == 1 else (1, groups, multiplier, *(1,) * rank)
    w = xp.reshape(weight, (groups * multiplier, *plan.kernel))
    indices = list(itertools.product(*map(range, plan.kernel)))

    def rows(x: Any, r: Any) -> Any:
        y = None
        for index, offset in zip(indices, _offsets(plan)):
            tap = _widened(xp, _window(x, plan, 2, offset, r), work)
            if multiplier > 1:
                tap = xp.reshape(tap, (n, groups, 1, r, *rest))
            term = tap * xp.reshape(_tap(w, index), shape)
            y = term if y is None else y + term
        return xp.reshape(y, (n, plan.out_channels, r, *rest))

    return _in_row_blocks(xp, x, plan, 2, work, scratch_elements, rows)


def _depthwise_channels_last(xp: Any, x: Any, weight: Any, plan: ConvPlan, work: Any = None,
                             scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """Depthwise (multiplier 1) on a padded channels-last array: weights broadcast over the last axis."""
    w = xp.reshape(weight, (plan.out_channels, *plan.kernel))
    indices = list(itertools.product(*map(range, plan.kernel)))

    def rows(x: Any, r: Any) -> Any:
        y = None
        for index, offset in zip(indices, _offsets(plan)):
            term = _widened(xp, _window(x, plan, 1, offset, r), work) * _tap(w, index)
            y = term if y is None else y + term
        return y

    return _in_row_blocks(xp, x, plan, 1, work, scratch_elements, rows)

