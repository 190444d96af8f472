"""``xpconv.explain``: the arithmetic behind one output element, written as the chapter writes it.

The chapter's figure sums one 2×2 product per input channel: ``56 = (0·0 + 1·1 + 3·2 + 4·3) +
(1·1 + 2·2 + 4·3 + 5·4)``. :func:`explain` writes that sum for any element of any convolution
xpconv computes forward (1-D to 3-D, stride, padding and its modes, dilation, groups, a bias):
one parenthesis per input channel the output channel reads, one product per tap, the padded
input's value where a tap falls in the padding.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

from ._plan import ConvOptions, Kind
from ._plan.plan import make_plan
from .backends import resolve

#: The multiplication sign between an input value and a weight.
TIMES = "·"


def explain(
    X: Any,
    K: Any,
    index: tuple[int, ...],
    bias: Any = None,
    *,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> str:
    """The sum of products behind one element of the cross-correlation of ``X`` with ``K``, as text.

    Parameters
    ----------
    X : array
        ``(C_in, *spatial)``: one sample (no batch axis), channels first; any framework's array, or nested lists.
    K : array
        ``(C_in, *k)`` or ``(C_out, C_in / groups, *k)``: one kernel per input channel (the chapter's ``corr2d_multi_in``: one output channel), or
        one such stack per output channel (``corr2d_multi_in_out`` and :func:`xpconv.conv`).
    index : tuple of int
        The output element: ``(*position)`` for a ``(C_in, *k)`` kernel, ``(c_out, *position)``
        for a ``(C_out, C_in / groups, *k)`` one; ``position`` has one entry per spatial axis.
    bias : array or scalar, optional
        ``(C_out,)`` or a scalar: added after the products.
    stride, padding, dilation, groups, padding_mode
        As for :func:`xpconv.conv`.

    Returns
    -------
    str
        ``"value = (x·w + ...) + (x·w + ...)"``: the element's value (computed in float64, or
        exactly for integers), then one parenthesis per input channel of the output channel's
        group, its products in the kernel's order (last axis fastest), then ``+ bias``.

    Raises
    ------
    ValueError, TypeError
        Shapes or options as :func:`xpconv.conv` would refuse them (naming ``X`` and ``K``), or
        an ``index`` that is not a tuple of ints inside the output.

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> X = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    >>> K = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]])
    >>> print(xpconv.explain(X, K, (0, 0)))
    56 = (0·0 + 1·1 + 3·2 + 4·3) + (1·1 + 2·2 + 4·3 + 5·4)
    """
    import numpy as np  # a text explanation: the values are read into NumPy, whatever their framework

    backend, arrays = resolve({"X": X, "K": K, "bias": bias})
    x_shape, k_shape = tuple(arrays["X"].shape), tuple(arrays["K"].shape)
    if len(k_shape) not in (len(x_shape), len(x_shape) + 1) or len(x_shape) < 2:
        raise ValueError(f"K must have as many dimensions as X, (C_in, *k), or one more, (C_out, C_in / groups, *k), "
                         f"for X of shape (C_in, *spatial). Received: X with shape {x_shape}, K with shape {k_shape}")
    one_output = len(k_shape) == len(x_shape)
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups,
                          padding_mode=padding_mode).validated(Kind.FORWARD)
    plan = make_plan(Kind.FORWARD, options, x_shape, (1, *k_shape) if one_output else k_shape, names=("X", "K"))
    c_out, position = _where(index, plan.out_size, plan.out_channels, one_output)
    b_shape = None if bias is None else tuple(arrays["bias"].shape)
    if b_shape not in (None, (), (plan.out_channels,)):
        raise ValueError(f"bias must be a scalar or of shape ({plan.out_channels},) (C_out,). "
                         f"Received: bias with shape {b_shape}")
    # checked: now the values (a Dask array is computed here)
    x, k = np.asarray(backend.to_numpy(arrays["X"])), np.asarray(backend.to_numpy(arrays["K"]))
    b = None if bias is None else np.broadcast_to(np.asarray(backend.to_numpy(arrays["bias"])), (plan.out_channels,))
    return _sum(_padded(x, plan), k[None] if one_output else k, b, plan, c_out, position)


def _sum(padded: Any, weight: Any, b: Any, plan: Any, c_out: int, position: tuple[int, ...]) -> str:
    """The text of one output element: its value, then its products, one parenthesis per channel."""
    import numpy as np

    per_group = plan.in_channels // plan.groups
    first = (c_out // (plan.out_channels // plan.groups)) * per_group
    exact = np.issubdtype(padded.dtype, np.integer) and np.issubdtype(weight.dtype, np.integer)
    total: Any = 0
    parentheses = []
    for c in range(first, first + per_group):
        products = []
        for tap in itertools.product(*(range(n) for n in plan.kernel)):
            at = tuple(p * s + t * d for p, s, t, d in zip(position, plan.stride, tap, plan.dilation))
            value, w = padded[(c, *at)], weight[(c_out, c - first, *tap)]
            total += int(value) * int(w) if exact else complex(value) * complex(w)
            products.append(f"{_number(value)}{TIMES}{_number(w)}")
        parentheses.append(f"({' + '.join(products)})" if len(products) > 1 else products[0])
    text = " + ".join(parentheses)
    if b is not None:
        total += int(b[c_out]) if exact and np.issubdtype(b.dtype, np.integer) else complex(b[c_out])
        text += f" + {_number(b[c_out])}"
    return f"{_number(total)} = {text}"


def _where(index: Any, out_size: tuple[int, ...], out_channels: int, one_output: bool) -> tuple[int, tuple[int, ...]]:
    """``(c_out, position)`` of ``index``, checked against the output's shape."""
    shape = out_size if one_output else (out_channels, *out_size)
    what = "(*position)" if one_output else "(c_out, *position)"
    ints = isinstance(index, (tuple, list)) and all(
        hasattr(type(i), "__index__") and not isinstance(i, bool) for i in index)  # NumPy's integers too
    if not ints or len(index) != len(shape):
        raise TypeError(f"index must be a tuple of {len(shape)} ints, {what}, for an output of shape {shape}. "
                        f"Received: index={index!r}")
    index = tuple(operator.index(i) for i in index)
    if not all(0 <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"index must lie inside the output, of shape {shape} {what}. Received: index={tuple(index)}")
    return (0, tuple(index)) if one_output else (index[0], tuple(index[1:]))


def _padded(x: Any, plan: Any) -> Any:
    """``x`` (NumPy, channels first, unbatched) padded as the plan says."""
    from .backends import get_backend
    from .kernels.padding import pad

    xp = get_backend("numpy").namespace(x)  # the standard's names (concat) on NumPy < 2 too
    return pad(xp, x[None], list(plan.batched_input_shape), plan.padding, plan.spatial_axes, plan.padding_mode)[0]


def _number(value: Any) -> str:
    """A value as the chapter writes it: ``3`` for 3.0, ``0.25``, ``-1.5``, ``(1+2j)``."""
    v = complex(value) if not isinstance(value, int) else value
    if isinstance(v, complex):
        if v.imag:
            return f"({v.real:g}{v.imag:+g}j)"
        v = v.real
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)
