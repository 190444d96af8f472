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

from ._spec import ConvPlan

#: Upper bound on the elements of one block of gathered columns (32 MiB of float32).
SCRATCH_ELEMENTS = 8 * 1024 * 1024


def conv2d(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan, *, scratch_elements: int = SCRATCH_ELEMENTS) -> Any:
    """Cross-correlate ``x`` with ``weight`` as ``plan`` says; arrays share one dtype.

    ``x`` is in the caller's layout and batchedness; so is the result. Half-precision
    inputs are computed in float32 and rounded once at the end.
    """
    dtype = x.dtype
    widen = xp.isdtype(dtype, "real floating") and dtype not in (xp.float32, xp.float64)
    if widen:
        x, weight = xp.astype(x, xp.float32), xp.astype(weight, xp.float32)
        bias = None if bias is None else xp.astype(bias, xp.float32)
    if not plan.batched:
        x = xp.reshape(x, (1, *x.shape))
    if plan.data_format == "NHWC" and plan.kernel_hw == (1, 1) and plan.groups == 1 and plan.padding == ((0, 0), (0, 0)):
        y = _pointwise_channels_last(xp, x, weight, bias, plan)  # one product over the last axis
        if not plan.batched:
            y = xp.reshape(y, y.shape[1:])
        return xp.astype(y, dtype) if widen else y
    if plan.data_format == "NHWC" and _is_depthwise(plan) and plan.out_channels == plan.groups:
        y = _depthwise_channels_last(xp, _pad(xp, x, plan.padding, axes=(1, 2)), weight, plan)
        y = y if bias is None else y + bias
        if not plan.batched:
            y = xp.reshape(y, y.shape[1:])
        return xp.astype(y, dtype) if widen else y
    if plan.data_format == "NHWC":
        x = xp.permute_dims(x, (0, 3, 1, 2))
    y = _correlate(xp, x, weight, plan, scratch_elements)
    if bias is not None:
        y = y + xp.reshape(bias, (1, plan.out_channels, 1, 1))
    if plan.data_format == "NHWC":
        y = xp.permute_dims(y, (0, 2, 3, 1))
    if not plan.batched:
        y = xp.reshape(y, y.shape[1:])
    return xp.astype(y, dtype) if widen else y


def _pointwise_channels_last(xp: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """A 1×1 convolution of an NHWC array: ``x[:, ::sh, ::sw, :] @ W.T``, no layout changes."""
    (sh, sw), (ho, wo) = plan.stride, plan.out_hw
    cols = x[:, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, :]
    y = xp.matmul(cols, xp.permute_dims(xp.reshape(weight, (plan.out_channels, plan.in_channels)), (1, 0)))
    return y if bias is None else y + bias


def _zeros(xp: Any, x: Any, axis: int, size: int) -> Any:
    """Zeros shaped like ``x`` but ``size`` long on ``axis``: same dtype and device, no device query."""
    edge = x[(slice(None),) * axis + (slice(0, 1), ...)]
    shape = list(x.shape)
    shape[axis] = size
    return xp.broadcast_to(xp.zeros_like(edge), tuple(shape))


def _pad(xp: Any, x: Any, padding: tuple[tuple[int, int], tuple[int, int]], axes: tuple[int, int] = (2, 3)) -> Any:
    """Zero-pad the two spatial ``axes`` (the standard has no ``pad``): concatenations."""
    for axis, (before, after) in zip(axes, padding):
        if before or after:
            parts = [x]
            if before:
                parts.insert(0, _zeros(xp, x, axis, before))
            if after:
                parts.append(_zeros(xp, x, axis, after))
            x = xp.concat(parts, axis=axis)
    return x


def _is_depthwise(plan: ConvPlan) -> bool:
    return plan.groups > 1 and plan.groups == plan.in_channels and plan.kernel_hw != (1, 1)


def _correlate(xp: Any, x: Any, weight: Any, plan: ConvPlan, scratch_elements: int) -> Any:
    """Cross-correlation of an unpadded NCHW ``x``; returns ``(N, C_out, H', W')``.

    Padding is applied per block of output rows, to the input rows that block reads, so
    no padded copy of the whole input is ever made.
    """
    n, c_in, h = x.shape[0], x.shape[1], x.shape[2]
    groups, c_out = plan.groups, plan.out_channels
    c_group = c_in // groups
    (kh, kw), (sh, sw), (dh, dw) = plan.kernel_hw, plan.stride, plan.dilation
    (pt, _), (pl, pr) = plan.padding
    ho, wo = plan.out_hw
    taps = kh * kw
    if _is_depthwise(plan):
        return _depthwise(xp, _pad(xp, x, plan.padding), weight, plan)
    w = xp.reshape(weight, (groups, c_out // groups, c_group * taps))
    if taps == 1:
        x = _pad(xp, x, plan.padding)
        cols = x[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
        y = xp.matmul(w, xp.reshape(cols, (n, groups, c_group, ho * wo)))
        return xp.reshape(y, (n, c_out, ho, wo))
    rows = max(1, min(ho, scratch_elements // max(1, n * c_in * taps * wo)))
    blocks = []
    for r0 in range(0, ho, rows):
        r = min(rows, ho - r0)
        top = r0 * sh - pt  # first input row of the block, in unpadded coordinates
        span = (r - 1) * sh + (kh - 1) * dh + 1
        lo, hi = max(top, 0), min(top + span, h)
        if hi > lo:
            block = _pad(xp, x[:, :, lo:hi, :], ((lo - top, top + span - hi), (pl, pr)))
        else:  # the block reads nothing but padding rows
            block = _pad(xp, _zeros(xp, x, 2, span), ((0, 0), (pl, pr)))
        shifted = [
            block[:, :, i * dh : i * dh + (r - 1) * sh + 1 : sh, j * dw : j * dw + (wo - 1) * sw + 1 : sw]
            for i in range(kh)
            for j in range(kw)
        ]
        cols = xp.reshape(xp.stack(shifted, axis=2), (n, groups, c_group * taps, r * wo))
        blocks.append(xp.reshape(xp.matmul(w, cols), (n, c_out, r, wo)))
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=2)


def _depthwise(xp: Any, x: Any, weight: Any, plan: ConvPlan) -> Any:
    """One input channel per group: a broadcast multiply-add per tap, no matrix products.

    ``y[n, g, m] = Σ_taps x_shifted[n, g] · w[g, m, tap]`` for the ``m = C_out/G`` outputs of
    group ``g``; gathering columns would only feed ``G`` products of inner length ``kH·kW``.
    """
    n, groups, multiplier = x.shape[0], plan.groups, plan.out_channels // plan.groups
    (kh, kw), (sh, sw), (dh, dw) = plan.kernel_hw, plan.stride, plan.dilation
    ho, wo = plan.out_hw
    # multiplier 1: the taps stay strided views, weights broadcast as (1, C, 1, 1)
    shape = (1, groups, 1, 1) if multiplier == 1 else (1, groups, multiplier, 1, 1)
    w = xp.reshape(weight, (groups * multiplier, kh, kw))
    y = None
    for i in range(kh):
        for j in range(kw):
            tap = x[:, :, i * dh : i * dh + (ho - 1) * sh + 1 : sh, j * dw : j * dw + (wo - 1) * sw + 1 : sw]
            if multiplier > 1:
                tap = xp.reshape(tap, (n, groups, 1, ho, wo))
            term = tap * xp.reshape(w[:, i, j], shape)
            y = term if y is None else y + term
    return xp.reshape(y, (n, plan.out_channels, ho, wo))


def _depthwise_channels_last(xp: Any, x: Any, weight: Any, plan: ConvPlan) -> Any:
    """Depthwise (multiplier 1) on a padded NHWC array: weights broadcast over the last axis."""
    (kh, kw), (sh, sw), (dh, dw) = plan.kernel_hw, plan.stride, plan.dilation
    ho, wo = plan.out_hw
    w = xp.reshape(weight, (plan.out_channels, kh, kw))
    y = None
    for i in range(kh):
        for j in range(kw):
            tap = x[:, i * dh : i * dh + (ho - 1) * sh + 1 : sh, j * dw : j * dw + (wo - 1) * sw + 1 : sw, :]
            term = tap * w[:, i, j]
            y = term if y is None else y + term
    return y
