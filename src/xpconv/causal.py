"""The streaming causal depthwise 1-D convolution of Mamba-style layers: ONNX's ``CausalConvWithState``.

A sequence fed in pieces, each with the state the previous piece left, gives what it gives fed
whole: the state holds the last ``k - 1`` positions. One step of decoding (``L = 1``) is a
product of each channel's window with its kernel (no convolution set up for one position); a
longer piece is a depthwise :func:`xpconv.conv` of the state and the piece joined, through the
same plan, checks and kernels.
"""

from __future__ import annotations

from typing import Any

from ._dtypes import dtype_name
from ._plan import ConvOptions, Kind
from .backends import resolve
from .dispatch import call, check_dtypes

#: The fused activations: ``"silu"`` and its other name ``"swish"``, ``x·sigmoid(x)``.
ACTIVATIONS = (None, "none", "silu", "swish")


def _check(backend: Any, xp: Any, arrays: dict[str, Any], activation: Any) -> tuple[int, int, int, int]:
    """Every shape, dtype and option, named, before any work; ``(N, C, L, k)``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}. Received: activation={activation!r}")
    check_dtypes(backend, xp, arrays)
    shapes = {name: tuple(backend.shape(a)) for name, a in arrays.items() if a is not None}
    if len(shapes["x"]) != 3:
        raise ValueError(f"x must be 3-D, (N, C, L). Received: x with shape {shapes['x']}")
    n, c, length = shapes["x"]
    w = shapes["weight"]
    if len(w) != 3 or w[0] != c or w[1] != 1 or not w[2] >= 1:
        raise ValueError(f"weight must be (C, 1, k), one kernel per channel of x (C={c}). "
                         f"Received: weight with shape {w}")
    k = w[2]
    expected = {"bias": (c,), "state": (n, c, k - 1)}
    for name, shape in expected.items():
        if name in shapes and shapes[name] != shape:
            raise ValueError(f"{name} must have shape {shape} ({'C' if name == 'bias' else '(N, C, k - 1)'}). "
                             f"Received: {name} with shape {shapes[name]}")
    floating = [name for name, a in arrays.items() if a is not None and not xp.isdtype(a.dtype, "real floating")]
    if floating:
        name = floating[0]
        raise TypeError(f"{name} must have a real floating-point dtype. Received: {name} with dtype "
                        f"{dtype_name(arrays[name].dtype)}")
    if isinstance(length, int) and length < 1:
        raise ValueError(f"x must have at least one position, (N, C, L) with L >= 1. Received: x with shape {shapes['x']}")
    return n, c, length, k


def causal_conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    state: Any = None,
    *,
    activation: str | None = None,
) -> tuple[Any, Any]:
    """ONNX ``CausalConvWithState``: a causal depthwise 1-D convolution that carries its state.

    Parameters
    ----------
    x : array
        ``(N, C, L)``, real floating point.
    weight : array
        ``(C, 1, k)``: one kernel per channel (``groups = C``, ONNX's ``Conv`` layout).
    bias : array, optional
        ``(C,)``.
    state : array, optional
        ``(N, C, k - 1)``: the last ``k - 1`` positions before ``x`` (zeros when None).
    activation : {None, "none", "silu", "swish"}, optional
        ``"silu"`` (``"swish"``): ``y·sigmoid(y)``, fused.

    Returns
    -------
    y : array
        ``(N, C, L)``: ``y[n, c, t] = Σ_j weight[c, 0, j] · s[n, c, t + j] (+ bias[c])`` over the
        state and ``x`` joined, ``s``.
    new_state : array
        ``(N, C, k - 1)``: the last ``k - 1`` positions of ``s``, for the next piece.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x, w = np.arange(1.0, 6.0).reshape(1, 1, 5), np.array([[[1.0, 10.0, 100.0]]])
    >>> y, state = xpconv.causal_conv1d(x[..., :3], w)
    >>> y2, _ = xpconv.causal_conv1d(x[..., 3:], w, state=state)
    >>> np.concatenate([y, y2], axis=2).tolist(), state.tolist()
    ([[[100.0, 210.0, 321.0, 432.0, 543.0]]], [[[2.0, 3.0]]])
    """
    backend, arrays = resolve({"x": x, "weight": weight, "bias": bias, "state": state})
    xp = backend.namespace(arrays["x"])
    n, c, length, k = _check(backend, xp, arrays, activation)
    # checked: now the work, in the arrays' common dtype
    dtype = xp.result_type(*(a for a in arrays.values() if a is not None))
    x, weight, bias, state = (None if a is None else xp.astype(a, dtype) if a.dtype != dtype else a
                              for a in arrays.values())
    if state is None and k > 1:
        state = xp.broadcast_to(xp.zeros_like(x[:, :, :1]), (n, c, k - 1))
    joined = x if k == 1 else xp.concat([state, x], axis=2)  # (N, C, L + k - 1)
    if length == 1:  # a decode step: each channel's window times its kernel, (N, C, 1, k) @ (C, k, 1)
        half = dtype_name(dtype) in ("float16", "bfloat16")  # computed in float32, as conv computes halves
        window, kernel = xp.reshape(joined, (n, c, 1, k)), xp.reshape(weight, (c, k, 1))
        if half:
            window, kernel = xp.astype(window, xp.float32), xp.astype(kernel, xp.float32)
        y = xp.reshape(xp.matmul(window, kernel), (n, c, 1))
        if bias is not None:
            y = y + (xp.astype(xp.reshape(bias, (c, 1)), xp.float32) if half else xp.reshape(bias, (c, 1)))
        if half:
            y = xp.astype(y, dtype)
    else:
        y = call(Kind.FORWARD, joined, weight, bias, ConvOptions(groups=c))
    if activation in ("silu", "swish"):
        y = y / (1 + xp.exp(-y))
    return y, joined[:, :, -(k - 1):] if k > 1 else x[:, :, :0]
