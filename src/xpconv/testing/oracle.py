"""The float64 (complex128) reference: a plain loop over output pixels, in NumPy, for any rank.

Deliberately independent of the rest of xpconv: explicit padding only, its own
output-size logic (the windows that fit), no shared helpers. Slow; for tests, ``verify``
and ``compare`` on small problems only.
"""

from __future__ import annotations

import itertools

import numpy as np

_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _exact(a: np.ndarray | None, absolute: bool) -> np.ndarray | None:
    """``a`` in complex128 if complex, else float64 (absolute values with ``absolute``)."""
    if a is None:
        return None
    a = np.asarray(a)
    a = a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)
    return np.abs(a) if absolute else a


def conv_oracle(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: tuple[int, ...] | None = None,
    padding: tuple[tuple[int, int], ...] | None = None,
    dilation: tuple[int, ...] | None = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    absolute: bool = False,
) -> np.ndarray:
    """Channels-first cross-correlation in float64 (complex128 for complex inputs) for any number
    of spatial axes: ``x (N, C_in, *spatial)``, ``w (C_out, C_in/groups, *kernel)``.

    ``padding`` is explicit, one ``(before, after)`` pair per axis (default none), filled as
    ``padding_mode`` says (``np.pad``'s constant, reflect, edge and wrap). With
    ``absolute=True`` it returns ``conv(|x|, |w|) + |b|``: the magnitude that rounding errors
    scale with, for tolerances. Complex products are ``x · w``, no conjugation.
    """
    x, w, b = _exact(x, absolute), _exact(w, absolute), _exact(b, absolute)
    rank = w.ndim - 2
    stride = stride or (1,) * rank
    dilation = dilation or (1,) * rank
    padding = padding or ((0, 0),) * rank
    x = np.pad(x, ((0, 0), (0, 0), *padding), mode=_MODES[padding_mode])
    c_out, c_group = w.shape[:2]
    o_group = c_out // groups
    extents = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)]
    starts = [range(0, n - e + 1, s) for n, e, s in zip(x.shape[2:], extents, stride)]
    out = np.zeros((x.shape[0], c_out, *map(len, starts)), dtype=np.result_type(x, w))
    for g in range(groups):
        xg = x[:, g * c_group : (g + 1) * c_group]
        wg = w[g * o_group : (g + 1) * o_group]
        for position in itertools.product(*(enumerate(r) for r in starts)):
            window = xg[(slice(None), slice(None), *(slice(t, t + e, d) for (_, t), e, d in zip(position, extents, dilation)))]
            index = (slice(None), slice(g * o_group, (g + 1) * o_group), *(i for i, _ in position))
            out[index] = np.tensordot(window, wg, axes=(list(range(1, rank + 2)), list(range(1, rank + 2))))
    if b is not None:
        out += b.reshape(1, -1, *(1,) * rank)
    return out


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
    """NCHW cross-correlation in float64: ``x (N, C_in, H, W)``, ``w (C_out, C_in/groups, kH, kW)``
    (:func:`conv_oracle` for two spatial axes and zero padding)."""
    return conv_oracle(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups, absolute=absolute)


def conv_transpose_oracle(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    stride: tuple[int, ...] | None = None,
    padding: tuple[tuple[int, int], ...] | None = None,
    output_padding: tuple[int, ...] | None = None,
    dilation: tuple[int, ...] | None = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    absolute: bool = False,
) -> np.ndarray:
    """Transposed convolution from its definition: every input element scatters ``x · w`` into
    the output window it would have been read from, then ``padding`` is cropped.

    ``x (N, C_in, *spatial)``, ``w (C_in, C_out/groups, *kernel)``; the uncropped output has
    ``(n-1)·s + d·(k-1) + 1 + output_padding`` positions per axis. A ``padding_mode`` other than
    zeros continues the input beyond its border (NumPy's ``np.pad`` by ``d·(k-1)`` per end, more
    than any output position reads) and crops ``s·d·(k-1)`` more: the same output window.
    """
    x, w, b = _exact(x, absolute), _exact(w, absolute), _exact(b, absolute)
    rank = w.ndim - 2
    stride = stride or (1,) * rank
    dilation = dilation or (1,) * rank
    padding = padding or ((0, 0),) * rank
    output_padding = output_padding or (0,) * rank
    if padding_mode != "zeros":
        more = [d * (k - 1) for d, k in zip(dilation, w.shape[2:])]
        x = np.pad(x, [(0, 0), (0, 0), *((m, m) for m in more)], mode=_MODES[padding_mode])
        padding = tuple((a + m * s, c + m * s) for (a, c), m, s in zip(padding, more, stride))
    n, c_in = x.shape[:2]
    c_group, o_group = c_in // groups, w.shape[1]
    full = [(i - 1) * s + d * (k - 1) + 1 + op
            for i, s, d, k, op in zip(x.shape[2:], stride, dilation, w.shape[2:], output_padding)]
    out = np.zeros((n, o_group * groups, *full), dtype=np.result_type(x, w))
    extents = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)]
    for g in range(groups):
        ins, outs = slice(g * c_group, (g + 1) * c_group), slice(g * o_group, (g + 1) * o_group)
        for position in itertools.product(*map(range, x.shape[2:])):
            window = tuple(slice(p * s, p * s + e, d) for p, s, e, d in zip(position, stride, extents, dilation))
            values = x[(slice(None), ins, *position)]  # (N, C_in/G)
            out[(slice(None), outs, *window)] += np.tensordot(values, w[ins], axes=([1], [0]))
    crop = tuple(slice(a, f - b2) for (a, b2), f in zip(padding, full))
    out = out[(slice(None), slice(None), *crop)]
    if b is not None:
        out = out + b.reshape(1, -1, *(1,) * rank)
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
