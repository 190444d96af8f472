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
