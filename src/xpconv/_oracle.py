"""The float64 reference: a plain loop over output pixels, in NumPy.

Deliberately independent of the rest of xpconv: explicit padding only, its own
output-size logic (the windows that fit), no shared helpers. Slow; for tests, ``verify``
and ``compare`` on small problems only.
"""

from __future__ import annotations

import numpy as np


def conv2d_oracle(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
    absolute: bool = False,
) -> np.ndarray:
    """NCHW cross-correlation in float64: ``x (N, C_in, H, W)``, ``w (C_out, C_in/groups, kH, kW)``.

    With ``absolute=True`` it returns ``conv(|x|, |w|) + |b|``: the magnitude that
    rounding errors scale with, for tolerances.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if absolute:
        x, w = np.abs(x), np.abs(w)
    x = np.pad(x, ((0, 0), (0, 0), padding[0], padding[1]))
    n, _, h, wd = x.shape
    c_out, c_group, kh, kw = w.shape
    o_group = c_out // groups
    extent_h, extent_w = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    rows = range(0, h - extent_h + 1, stride[0])
    cols = range(0, wd - extent_w + 1, stride[1])
    out = np.zeros((n, c_out, len(rows), len(cols)))
    for g in range(groups):
        xg = x[:, g * c_group : (g + 1) * c_group]
        wg = w[g * o_group : (g + 1) * o_group]
        for oi, top in enumerate(rows):
            for oj, left in enumerate(cols):
                window = xg[:, :, top : top + extent_h : dilation[0], left : left + extent_w : dilation[1]]
                out[:, g * o_group : (g + 1) * o_group, oi, oj] = np.einsum("nckl,ockl->no", window, wg)
    if b is not None:
        bias = np.asarray(b, dtype=np.float64)
        out += (np.abs(bias) if absolute else bias)[None, :, None, None]
    return out


def conv2d_oracle_grad(
    x: np.ndarray,
    w: np.ndarray,
    g: np.ndarray,
    *,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
    absolute: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``sum(conv2d(x, w, b) * g)`` in float64, by the same loop as :func:`conv2d_oracle`.

    Parameters
    ----------
    x : ndarray
        ``(N, C_in, H, W)``.
    w : ndarray
        ``(C_out, C_in/groups, kH, kW)``.
    g : ndarray
        ``(N, C_out, H', W')``: the output's cotangent, with ``H'``, ``W'`` the number of
        windows that fit (as :func:`conv2d_oracle` counts them).
    stride, dilation : (int, int)
    padding : ((int, int), (int, int))
        Explicit ``((top, bottom), (left, right))`` zero padding.
    groups : int
    absolute : bool
        With ``True``, the same sums of ``|x|``, ``|w|`` and ``|g|``: the magnitude that
        rounding errors scale with, for tolerances.

    Returns
    -------
    dx : ndarray
        ``(N, C_in, H, W)``: for each output position, ``g · w`` added into the window it
        read, then the padding stripped.
    dw : ndarray
        ``(C_out, C_in/groups, kH, kW)``: ``Σ window · g`` over all output positions.
    db : ndarray
        ``(C_out,)``: ``g`` summed over ``N``, ``H'`` and ``W'`` (the bias gradient, whether
        or not the convolution has a bias).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if absolute:
        x, w, g = np.abs(x), np.abs(w), np.abs(g)
    (top, bottom), (left, right) = padding
    n, _, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    c_out, c_group, kh, kw = w.shape
    o_group = c_out // groups
    extent_h, extent_w = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    rows = range(0, padded.shape[2] - extent_h + 1, stride[0])
    cols = range(0, padded.shape[3] - extent_w + 1, stride[1])
    if g.shape != (n, c_out, len(rows), len(cols)):
        raise ValueError(f"g must have shape {(n, c_out, len(rows), len(cols))}. Received: g with shape {g.shape}")
    dpadded = np.zeros_like(padded)
    dw = np.zeros_like(w)
    for group in range(groups):
        ins, outs = slice(group * c_group, (group + 1) * c_group), slice(group * o_group, (group + 1) * o_group)
        for oi, top_row in enumerate(rows):
            for oj, left_col in enumerate(cols):
                window = (
                    slice(None), ins,
                    slice(top_row, top_row + extent_h, dilation[0]),
                    slice(left_col, left_col + extent_w, dilation[1]),
                )
                gy = g[:, outs, oi, oj]  # (N, C_out/groups)
                dpadded[window] += np.einsum("no,ockl->nckl", gy, w[outs])
                dw[outs] += np.einsum("nckl,no->ockl", padded[window], gy)
    dx = dpadded[:, :, top : top + h, left : left + wd]
    db = g.sum(axis=(0, 2, 3))
    return dx, dw, db
