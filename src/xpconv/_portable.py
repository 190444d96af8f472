"""The convolution written once, against the Array API standard.

Names no framework. Uses only :data:`xpconv._core_api.CORE_FUNCTIONS` on ``xp``, plain
indexing (basic slices with steps) and ``+``; never writes in place, so it runs on
immutable arrays (JAX), on tensors without item assignment (TensorFlow), under
``jax.jit`` and ``tf.function``, and under every framework's autodiff.

Formulation: blocked im2col. For a block of output rows, the input rows it reads are
zero-padded (never the whole input), and their ``kH·kW`` shifted, strided views are stacked
(one copy) into columns of shape ``(N, G, C_in/G · kH·kW, rows·W')``
and multiplied by the weight viewed as ``(G, C_out/G, C_in/G · kH·kW)`` in one batched
matrix product per block. The block is sized so that the gathered columns stay under
``scratch_elements``, which bounds temporary memory whatever the input size. A 1×1 kernel
is a single matrix product over channels, with no gathering at all. A depthwise layer (one
input channel per group) is a broadcast multiply-add per tap instead (see ``_depthwise``).
"""

from __future__ import annotations

from typing import Any

from ._spec import ConvPlan, is_static

#: Upper bound on the elements of one block of gathered columns (32 MiB of float32).
SCRATCH_ELEMENTS = 8 * 1024 * 1024


def conv2d(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan, *, scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """Cross-correlate ``x`` with ``weight`` as ``plan`` says; arrays share one dtype.

    ``x`` is in the caller's layout and batchedness; so is the result. Half-precision
    inputs are computed in float32 and rounded once at the end; ``x`` is widened block by
    block (tap by tap for depthwise layers), never as a whole. Sizes come from the plan,
    never from ``x.shape``, so symbolic sizes (``None`` in a TensorFlow graph, ``SymInt``,
    JAX symbolic dimensions) work: then the input is processed as one block.
    """
    dtype = x.dtype
    widen = xp.isdtype(dtype, "real floating") and dtype not in (xp.float32, xp.float64)
    work = xp.float32 if widen else None
    if widen:
        weight = xp.astype(weight, xp.float32)
        bias = None if bias is None else xp.astype(bias, xp.float32)
    n, c_in, (h, w) = plan.batch, plan.in_channels, plan.in_hw
    nhwc = plan.data_format == "NHWC"
    shape = [n, h, w, c_in] if nhwc else [n, c_in, h, w]
    if not plan.batched:
        x = xp.reshape(x, tuple(shape))
    if nhwc and plan.is_pointwise and plan.padding == ((0, 0), (0, 0)) and not widen:
        y = _pointwise_channels_last(xp, x, weight, bias, plan)  # one product over the last axis
    elif nhwc and plan.is_depthwise and plan.kernel_hw != (1, 1) and plan.depth_multiplier == 1:
        y = _depthwise_channels_last(xp, _pad(xp, x, shape, plan.padding, axes=(1, 2)), weight, plan, work,
                                     scratch_elements)
        y = y if bias is None else y + bias
    else:
        if nhwc:
            x = xp.permute_dims(x, (0, 3, 1, 2))
        y = _correlate(xp, x, weight, plan, scratch_elements, work)
        if bias is not None:
            y = y + xp.reshape(bias, (1, plan.out_channels, 1, 1))
        if nhwc:
            y = xp.permute_dims(y, (0, 2, 3, 1))
    if not plan.batched:
        y = xp.reshape(y, plan.output_shape)
    return xp.astype(y, dtype) if widen else y


def _window(x: Any, plan: ConvPlan, axis: int, starts: tuple[int, int], rows: Any = None) -> Any:
    """``x`` at ``starts[k] + t·stride[k]`` for ``t < out[k]`` on the two spatial axes from ``axis``
    (``rows`` output rows on the first, if given).

    With static sizes one basic slice per axis; with symbolic ones ``x[a : a+count]`` (stride 1)
    or ``x[a::s][:count]``, whose stops a symbolic size can prove non-negative (``jax.export``
    needs that; ``(n-1)·s + 1`` is not provably so). With a stride > 1 and symbolic spatial
    sizes, ``jax.export`` and ``torch.export`` still cannot prove the taps' lengths equal:
    that combination needs ``method="auto"`` or ``"native"`` (documented).
    """
    (sh, sw), (ho, wo) = plan.stride, plan.out_hw
    counts = (ho if rows is None else rows, wo)
    lead = (slice(None),) * axis
    if plan.spatial_static:
        return x[(*lead, *(slice(a, a + (c - 1) * s + 1, s) for a, c, s in zip(starts, counts, (sh, sw))), ...)]
    if (sh, sw) == (1, 1):
        return x[(*lead, *(slice(a, a + c) for a, c in zip(starts, counts)), ...)]
    x = x[(*lead, slice(starts[0], None, sh), slice(starts[1], None, sw), ...)]
    return x[(*lead, slice(0, counts[0]), slice(0, counts[1]), ...)]


def _pointwise_channels_last(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """A 1×1 convolution of an NHWC array: ``x[:, ::sh, ::sw, :] @ W.T``, no layout changes."""
    cols = _window(x, plan, 1, (0, 0))
    y = xp.matmul(cols, xp.permute_dims(xp.reshape(weight, (plan.out_channels, plan.in_channels)), (1, 0)))
    return y if bias is None else y + bias


def _widened(xp: Any, a: Any, work: Any) -> Any:
    """``a`` in the working dtype (float32 for half precision), or as it is."""
    return a if work is None else xp.astype(a, work)


def _zeros(xp: Any, x: Any, shape: list[Any], axis: int, size: Any) -> Any:
    """Zeros of ``shape`` but ``size`` long on ``axis``: same dtype and device as ``x``, no device query."""
    edge = x[(slice(None),) * axis + (slice(0, 1), ...)]
    full = list(shape)
    full[axis] = size
    return xp.broadcast_to(xp.zeros_like(edge), tuple(full))


def _pad(xp: Any, x: Any, shape: list[Any], padding: tuple, axes: tuple[int, int] = (2, 3)) -> Any:
    """Zero-pad two spatial ``axes`` of ``x`` (whose shape is ``shape``; the standard has no
    ``pad``) by concatenation. A symbolic amount is always concatenated (it may be zero)."""
    shape = list(shape)
    for axis, (before, after) in zip(axes, padding):
        parts = [x]
        if not is_static(before) or before:
            parts.insert(0, _zeros(xp, x, shape, axis, before))
        if not is_static(after) or after:
            parts.append(_zeros(xp, x, shape, axis, after))
        if len(parts) > 1:
            x = xp.concat(parts, axis=axis)
            shape[axis] = shape[axis] + before + after
    return x


def _correlate(xp: Any, x: Any, weight: Any, plan: ConvPlan, scratch_elements: int, work: Any = None) -> Any:
    """Cross-correlation of an unpadded NCHW ``x``; returns ``(N, C_out, H', W')``.

    Padding is applied per block of output rows, to the input rows that block reads, so
    no padded copy of the whole input is ever made (with symbolic sizes: one block). With a
    ``work`` dtype each block's rows are widened to it as they are read.
    """
    n, c_in, (h, wd) = plan.batch, plan.in_channels, plan.in_hw
    shape = [n, c_in, h, wd]
    groups, c_out = plan.groups, plan.out_channels
    c_group = c_in // groups
    (kh, kw), sh, dh = plan.kernel_hw, plan.stride[0], plan.dilation[0]
    (pt, _), (pl, pr) = plan.padding
    ho, wo = plan.out_hw
    taps = kh * kw
    if plan.is_depthwise and taps > 1:
        return _depthwise(xp, _pad(xp, x, shape, plan.padding), weight, plan, work, scratch_elements)
    w = xp.reshape(weight, (groups, c_out // groups, c_group * taps))
    if taps == 1 and work is None and plan.spatial_static:  # one product over channels, no gathering
        cols = _window(_pad(xp, x, shape, plan.padding), plan, 2, (0, 0))
        y = xp.matmul(w, xp.reshape(cols, (n, groups, c_group, ho * wo)))
        return xp.reshape(y, (n, c_out, ho, wo))
    if not plan.spatial_static:  # symbolic sizes: the whole padded input is the one block
        return _block(xp, _pad(xp, _widened(xp, x, work), shape, plan.padding), w, plan, ho)
    images = n if is_static(n) else 1  # a symbolic batch: blocks sized per image
    rows = max(1, min(ho, scratch_elements // max(1, images * c_in * taps * wo)))
    blocks = []
    for r0 in range(0, ho, rows):
        r = min(rows, ho - r0)
        top = r0 * sh - pt  # first input row of the block, in unpadded coordinates
        span = (r - 1) * sh + (kh - 1) * dh + 1
        lo, hi = max(top, 0), min(top + span, h)
        if hi > lo:
            rows_read = _widened(xp, x[:, :, lo:hi, :], work)
            block = _pad(xp, rows_read, [n, c_in, hi - lo, wd], ((lo - top, top + span - hi), (pl, pr)))
        else:  # the block reads nothing but padding rows
            nothing = _widened(xp, _zeros(xp, x, shape, 2, span), work)
            block = _pad(xp, nothing, [n, c_in, span, wd], ((0, 0), (pl, pr)))
        blocks.append(_block(xp, block, w, plan, r))
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=2)


def _block(xp: Any, block: Any, w: Any, plan: ConvPlan, r: Any) -> Any:
    """``r`` output rows from a padded block of input rows: its taps stacked, one product."""
    n, groups, c_group = plan.batch, plan.groups, plan.in_channels // plan.groups
    (kh, kw), (dh, dw), wo = plan.kernel_hw, plan.dilation, plan.out_hw[1]
    shifted = [_window(block, plan, 2, (i * dh, j * dw), r) for i in range(kh) for j in range(kw)]
    taps = xp.stack(shifted, axis=2)  # (N, C_in, kH·kW, r, W')
    if plan.spatial_static:
        cols = xp.reshape(taps, (n, groups, c_group * kh * kw, r * wo))
        return xp.reshape(xp.matmul(w, cols), (n, plan.out_channels, r, wo))
    # Symbolic sizes: never merge r and W' (jax.export cannot prove a product of two symbolic
    # sizes non-negative); the product is batched over rows instead.
    cols = xp.permute_dims(xp.reshape(taps, (n, groups, c_group * kh * kw, r, wo)), (0, 1, 3, 2, 4))
    y = xp.matmul(xp.reshape(w, (1, groups, 1, plan.out_channels // groups, c_group * kh * kw)), cols)
    return xp.reshape(xp.permute_dims(y, (0, 1, 3, 2, 4)), (n, plan.out_channels, r, wo))


def _in_row_blocks(xp: Any, x: Any, plan: ConvPlan, axis: int, work: Any, scratch_elements: int,
                   compute: Any) -> Any:
    """``compute(rows_of_x, r)`` over blocks of ``r`` output rows of a padded ``x`` (rows on
    ``axis``), joined. Used when widening half precision, so that float32 temporaries stay
    bounded; otherwise (or with symbolic sizes) one call over all rows."""
    ho = plan.out_hw[0]
    if work is None or not plan.spatial_static:
        return compute(x, ho)
    images = plan.batch if is_static(plan.batch) else 1
    rows = max(1, min(ho, scratch_elements // max(1, images * plan.out_channels * plan.out_hw[1])))
    if rows >= ho:
        return compute(x, ho)
    sh, span = plan.stride[0], (plan.kernel_hw[0] - 1) * plan.dilation[0] + 1
    lead = (slice(None),) * axis
    blocks = [
        compute(x[(*lead, slice(r0 * sh, r0 * sh + (min(rows, ho - r0) - 1) * sh + span), ...)], min(rows, ho - r0))
        for r0 in range(0, ho, rows)
    ]
    return xp.concat(blocks, axis=axis)


def _depthwise(xp: Any, x: Any, weight: Any, plan: ConvPlan, work: Any = None,
               scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """One input channel per group: a broadcast multiply-add per tap, no matrix products.

    ``y[n, g, m] = Σ_taps x_shifted[n, g] · w[g, m, tap]`` for the ``m = C_out/G`` outputs of
    group ``g``; gathering columns would only feed ``G`` products of inner length ``kH·kW``.
    """
    n, groups, multiplier = plan.batch, plan.groups, plan.depth_multiplier
    (kh, kw), (dh, dw) = plan.kernel_hw, plan.dilation
    wo = plan.out_hw[1]
    # multiplier 1: the taps stay strided views, weights broadcast as (1, C, 1, 1)
    shape = (1, groups, 1, 1) if multiplier == 1 else (1, groups, multiplier, 1, 1)
    w = xp.reshape(weight, (groups * multiplier, kh, kw))

    def rows(x: Any, r: Any) -> Any:
        y = None
        for i in range(kh):
            for j in range(kw):
                tap = _widened(xp, _window(x, plan, 2, (i * dh, j * dw), r), work)
                if multiplier > 1:
                    tap = xp.reshape(tap, (n, groups, 1, r, wo))
                term = tap * xp.reshape(w[:, i, j], shape)
                y = term if y is None else y + term
        return xp.reshape(y, (n, plan.out_channels, r, wo))

    return _in_row_blocks(xp, x, plan, 2, work, scratch_elements, rows)


def _depthwise_channels_last(xp: Any, x: Any, weight: Any, plan: ConvPlan, work: Any = None,
                             scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """Depthwise (multiplier 1) on a padded NHWC array: weights broadcast over the last axis."""
    (kh, kw), (dh, dw) = plan.kernel_hw, plan.dilation
    w = xp.reshape(weight, (plan.out_channels, kh, kw))

    def rows(x: Any, r: Any) -> Any:
        y = None
        for i in range(kh):
            for j in range(kw):
                term = _widened(xp, _window(x, plan, 1, (i * dh, j * dw), r), work) * w[:, i, j]
                y = term if y is None else y + term
        return y

    return _in_row_blocks(xp, x, plan, 1, work, scratch_elements, rows)
