"""xpconv's own blocked convolution for NumPy, which has none of its own.

Channel-major, blocked over (image, block of output rows). For each block the needed input
rows are copied once into a zeroed, padded buffer ``F`` of shape ``(C, rows_in·Wp + slack)``.
The output is computed on the full padded width ``Wp`` (the ``Wp - W'`` extra columns are
dropped when the block is written out), which makes every kernel tap ``(i, j)`` of a
stride-1 convolution a plain offset ``i·dh·Wp + j·dw`` into each channel's flat row:

* stride 1: the ``kW`` horizontal shifts are gathered into ``X (C·kW, span)`` (contiguous row
  copies), and the ``kH`` row shifts are column slices of ``X`` that BLAS reads in place:
  ``acc (C_out, rows·Wp) = Σ_i W_i (C_out, C·kW) @ X[:, i·dh·Wp :][:, :rows·Wp]``;
* stride > 1: blocked im2col, ``(C·kH·kW, rows·W')``, one matrix product per block;
* 1×1, stride 1, no padding: one batched matrix product, no copies at all;
* depthwise (one input and one output channel per group): stride 1 gathers the taps of a
  small block and runs one (1 × taps) @ (taps × pixels) product per channel; other strides
  multiply-accumulate tap by tap.

Grouped convolutions run the same products batched over groups. Temporary memory is the
block buffers only, bounded by ``scratch_bytes`` whatever the input size; results are written
straight into the output in the caller's layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

if TYPE_CHECKING:
    from .._plan import ConvPlan

SCRATCH_BYTES = 16 * 1024 * 1024
DEPTHWISE_BLOCK_BYTES = 1024 * 1024  # small enough that a block's gathered taps stay in cache


def conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, plan: ConvPlan,
         *, scratch_bytes: int = SCRATCH_BYTES) -> np.ndarray:
    """Same contract as the direct kernel (batched arrays of one dtype, a forward plan), for 1 or 2
    spatial axes; a 1-D convolution runs as a 2-D one over a unit axis."""
    if plan.rank == 1:
        axis = plan.spatial_axes[0]
        y = conv(np.expand_dims(x, axis), weight[:, :, None], bias, plan.lifted(), scratch_bytes=scratch_bytes)
        return y.squeeze(axis)
    dtype = x.dtype
    work = np.dtype(np.float32) if dtype == np.float16 else dtype  # half precision accumulates in float32
    x_nchw = x.transpose(plan.to_channels_first)
    n, c_out, (ho, wo) = plan.batch, plan.out_channels, plan.out_size
    out = np.empty((n, ho, wo, c_out) if plan.channels_last else (n, c_out, ho, wo), dtype=work)
    out_nchw = out.transpose(plan.to_channels_first)
    wk = weight.astype(work, copy=False)
    if _is_pointwise(plan) and work == dtype:  # half precision goes through the blocks: widened per block
        _pointwise(x_nchw, wk, out_nchw, plan)
    else:
        _blocked(x_nchw, wk, out_nchw, plan, work, scratch_bytes)
    if bias is not None:
        out_nchw += bias.astype(work, copy=False)[:, None, None]
    return out.astype(dtype, copy=False)


def _is_pointwise(plan: ConvPlan) -> bool:
    return plan.kernel == (1, 1) and plan.stride == (1, 1) and plan.padding == ((0, 0), (0, 0))


def _pointwise(x: np.ndarray, w: np.ndarray, out: np.ndarray, plan: ConvPlan) -> None:
    """1×1: ``(G, O/G, C/G) @ (N, G, C/G, H·W)``, written into the output directly when it is contiguous."""
    n, g, (h, wd) = plan.batch, plan.groups, plan.in_size
    lhs = w.reshape(g, plan.out_channels // g, plan.in_channels // g)
    rhs = x.astype(w.dtype, copy=False).reshape(n, g, plan.in_channels // g, h * wd)
    if out.flags.c_contiguous:
        np.matmul(lhs, rhs, out=out.reshape(n, g, plan.out_channels // g, h * wd))
    else:
        out[...] = np.matmul(lhs, rhs).reshape(out.shape)


def _blocked(x: np.ndarray, w: np.ndarray, out: np.ndarray, plan: ConvPlan, work: np.dtype,
             scratch_bytes: int) -> None:
    n, c, groups = plan.batch, plan.in_channels, plan.groups
    (h, wd), (kh, kw), (ho, wo) = plan.in_size, plan.kernel, plan.out_size
    (sh, sw), (dh, dw) = plan.stride, plan.dilation
    (pt, _), (pl, pr) = plan.padding
    wp = wd + pl + pr
    depthwise = plan.in_channels == groups and plan.out_channels == groups
    stride_one = (sh, sw) == (1, 1)
    item = np.dtype(work).itemsize
    if depthwise:  # the padded block is the only big buffer; the kernel sub-blocks for cache
        rows = max(1, min(ho, scratch_bytes // (c * sh * wp * item)))
    elif stride_one:
        rows = max(1, min(ho, scratch_bytes // (c * kw * wp * item)))
    else:
        rows = max(1, min(ho, scratch_bytes // (c * kh * kw * wo * item)))
    halo = (kh - 1) * dh
    slack = (kw - 1) * dw  # the last row's dropped columns read this far past the block
    rows_in = (rows - 1) * sh + halo + 1
    buffer = np.empty((c, rows_in * wp + slack), dtype=work)
    kernel = _depthwise if depthwise else (_stride_one if stride_one else _im2col)
    modes = None if plan.zero_padded else (_source(h, plan.padding[0], plan.padding_mode),
                                           _source(wd, plan.padding[1], plan.padding_mode))
    for b in range(n):
        for r0 in range(0, ho, rows):
            r = min(rows, ho - r0)
            top = r0 * sh - pt  # first input row the block reads (negative: inside the padding)
            need = (r - 1) * sh + halo + 1
            f = buffer[:, : need * wp + slack]
            if modes is not None:  # the block's rows and columns read from the input through the mode
                rows_from, cols_from = modes[0][top + pt : top + pt + need], modes[1]
                f[:, : need * wp].reshape(c, need, wp)[...] = x[b][:, rows_from][:, :, cols_from]
                f[:, need * wp :] = 0
            else:
                f[...] = 0
                lo, hi = max(top, 0), min(top + need, h)
                if hi > lo:
                    f[:, : need * wp].reshape(c, need, wp)[:, lo - top : hi - top, pl : pl + wd] = x[b, :, lo:hi]
            out[b, :, r0 : r0 + r] = kernel(f, w, plan, r, wp)


def _source(n: int, pad: tuple[int, int], mode: str) -> np.ndarray:
    """For each position of an axis of ``n`` padded by ``pad``, the input index it reads in ``mode``
    (``reflect``, ``replicate`` or ``circular``, PyTorch's meanings)."""
    index = np.arange(-pad[0], n + pad[1])
    if mode == "replicate":
        return np.clip(index, 0, n - 1)
    if mode == "circular":
        return index % n
    return (n - 1) - np.abs((n - 1) - np.abs(index))  # reflect: mirror at 0 and at n - 1, edges once


def _stride_one(f: np.ndarray, w: np.ndarray, plan: ConvPlan, r: int, wp: int) -> np.ndarray:
    c, groups = plan.in_channels, plan.groups
    (kh, kw), (dh, dw), wo = plan.kernel, plan.dilation, plan.out_size[1]
    cg, og = c // groups, plan.out_channels // groups
    span = f.shape[1] - (kw - 1) * dw
    item = f.strides[1]
    gathered = as_strided(f, shape=(c, kw, span), strides=(f.strides[0], dw * item, item)).copy()
    cols = gathered.reshape(groups, cg * kw, span)  # rows (c, j): each group's rows contiguous
    m = r * wp
    acc = None
    for i in range(kh):
        lhs = w[:, :, i, :].reshape(groups, og, cg * kw)
        part = np.matmul(lhs, cols[:, :, i * dh * wp : i * dh * wp + m])
        if acc is None:
            acc = part
        else:
            acc += part
    return acc.reshape(plan.out_channels, r, wp)[:, :, :wo]


def _im2col(f: np.ndarray, w: np.ndarray, plan: ConvPlan, r: int, wp: int) -> np.ndarray:
    """Strided convolution: the block is split into its ``sh·sw`` phases first, so that every
    tap's gather is a run of contiguous elements, then one matrix product per block."""
    c, groups = plan.in_channels, plan.groups
    (kh, kw), (sh, sw), (dh, dw), wo = plan.kernel, plan.stride, plan.dilation, plan.out_size[1]
    cg, og = c // groups, plan.out_channels // groups
    rows_in = (f.shape[1] - (kw - 1) * dw) // wp
    image = f[:, : rows_in * wp].reshape(c, rows_in, wp)
    phases = {}
    cols = np.empty((c, kh, kw, r, wo), dtype=f.dtype)
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            phase = (top % sh, left % sw)
            if phase not in phases:
                phases[phase] = np.ascontiguousarray(image[:, phase[0] :: sh, phase[1] :: sw])
            src = phases[phase]
            cols[:, i, j] = src[:, top // sh : top // sh + r, left // sw : left // sw + wo]
    res = np.matmul(w.reshape(groups, og, cg * kh * kw), cols.reshape(groups, cg * kh * kw, r * wo))
    return res.reshape(plan.out_channels, r, wo)


def _depthwise(f: np.ndarray, w: np.ndarray, plan: ConvPlan, r: int, wp: int) -> np.ndarray:
    c = plan.in_channels
    (kh, kw), (sh, sw), (dh, dw), wo = plan.kernel, plan.stride, plan.dilation, plan.out_size[1]
    taps = w.reshape(c, kh, kw)
    if (sh, sw) == (1, 1):
        # Stride 1: each tap is a contiguous slice of every channel's flat row. Gathered as
        # (C, taps, rows·Wp), one batched (1 × taps) @ (taps × rows·Wp) product per channel
        # beats tap-by-tap ufuncs, whose broadcasting loops run ~4x below memory speed.
        lhs = taps.reshape(c, 1, kh * kw)
        acc = np.empty((c, 1, r * wp), dtype=f.dtype)
        sub = max(1, min(r, DEPTHWISE_BLOCK_BYTES // (c * kh * kw * wp * f.itemsize)))
        cols = np.empty((c, kh * kw, sub * wp), dtype=f.dtype)
        for s0 in range(0, r, sub):
            m = min(sub, r - s0) * wp
            for i in range(kh):
                for j in range(kw):
                    off = (s0 + i * dh) * wp + j * dw
                    cols[:, i * kw + j, :m] = f[:, off : off + m]
            np.matmul(lhs, cols[:, :, :m], out=acc[:, :, s0 * wp : s0 * wp + m])
        return acc.reshape(c, r, wp)[:, :, :wo]
    sc, item = f.strides
    acc = np.zeros((c, r, wo), dtype=f.dtype)
    tmp = np.empty_like(acc)
    for i in range(kh):
        for j in range(kw):
            view = as_strided(f[:, i * dh * wp + j * dw :], shape=(c, r, wo), strides=(sc, sh * wp * item, sw * item))
            np.multiply(view, taps[:, i, j, None, None], out=tmp)
            acc += tmp
    return acc
