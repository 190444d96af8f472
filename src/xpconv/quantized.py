"""Quantized convolution, ONNX's ``ConvInteger`` and ``QLinearConv``, on every backend.

Both are :func:`xpconv.conv` of integers: the 8-bit input and weight are widened to int32 and
their zero points subtracted (per tensor, or per output channel for the weight), then the same
plan, validation and kernels run, exactly (integer sums; zero padding is the zero point). Every
shape, dtype and option is checked before any array work, naming the argument.
"""

from __future__ import annotations

from typing import Any

from ._dtypes import dtype_name
from ._plan import ConvOptions, ConvPlan, Kind, make_plan
from .backends import resolve
from .dispatch import call

#: The 8-bit dtypes of quantized data, with their ranges (what results saturate to).
RANGES = {"uint8": (0, 255), "int8": (-128, 127)}


def _integer_dtype(name: str, a: Any) -> str:
    found = dtype_name(a.dtype)
    if found not in RANGES:
        raise TypeError(f"{name} must have dtype uint8 or int8 (ONNX's quantized types). "
                        f"Received: {name} with dtype {found}")
    return found


def _zero_point(name: str, value: Any, dtype: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    """A Python int in ``dtype``'s range, or an array of ``dtype`` of one of ``shapes``."""
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = RANGES[dtype]
        if not low <= value <= high:
            raise ValueError(f"{name} must lie in {dtype}'s range [{low}, {high}]. Received: {name}={value}")
        return
    if not hasattr(value, "dtype") or not hasattr(value, "shape"):
        raise TypeError(f"{name} must be an int or an array of dtype {dtype}. Received: {name}={value!r}")
    if dtype_name(value.dtype) != dtype:
        raise TypeError(f"{name} must have the dtype of its tensor, {dtype}. "
                        f"Received: {name} with dtype {dtype_name(value.dtype)}")
    if tuple(value.shape) not in shapes:
        raise ValueError(f"{name} must have shape {' or '.join(map(str, shapes))}. "
                         f"Received: {name} with shape {tuple(value.shape)}")


def _scale(name: str, value: Any, shapes: tuple[tuple[int, ...], ...]) -> None:
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return
    if not hasattr(value, "dtype") or dtype_name(value.dtype) not in ("float16", "bfloat16", "float32", "float64"):
        raise TypeError(f"{name} must be a float or a floating-point array. Received: {name}={value!r}")
    if tuple(value.shape) not in shapes:
        raise ValueError(f"{name} must have shape {' or '.join(map(str, shapes))}. "
                         f"Received: {name} with shape {tuple(value.shape)}")


def _prepare(x: Any, weight: Any, arrays: dict[str, Any], options: ConvOptions) -> tuple[Any, Any, dict[str, Any], ConvPlan]:
    """Resolve the arrays (Python numbers stay numbers), check the input's, the weight's and their
    zero points' dtypes and shapes and the plan: every check, before any array work."""
    options = options.validated(Kind.FORWARD)
    named = {"x": x, "weight": weight, **{k: v for k, v in arrays.items() if hasattr(v, "shape")}}
    backend, converted = resolve(named)
    x_dtype = _integer_dtype("x", converted["x"])
    w_dtype = _integer_dtype("weight", converted["weight"])
    plan = make_plan(Kind.FORWARD, options, backend.shape(converted["x"]), backend.shape(converted["weight"]))
    scalar, per_channel = ((), (1,)), ((), (1,), (plan.out_channels,))
    _zero_point("x_zero_point", arrays["x_zero_point"], x_dtype, scalar)
    _zero_point("w_zero_point", arrays["w_zero_point"], w_dtype, per_channel)
    return backend, backend.namespace(converted["x"]), {**arrays, **converted}, plan


def _centred(xp: Any, a: Any, zero_point: Any, plan: ConvPlan, per_channel: bool) -> Any:
    """``a`` as int32 less its zero point (a weight's, shape ``(C_out,)``, per output channel)."""
    a = xp.astype(a, xp.int32)
    if isinstance(zero_point, int):
        return a - zero_point if zero_point else a
    ones = (1,) * (len(a.shape) - 1)  # shaped to broadcast, never 0-d (MXNet casts no 0-d array)
    if per_channel and tuple(zero_point.shape) == (plan.out_channels,):
        zero_point = xp.reshape(zero_point, (plan.out_channels, *ones))
    else:
        zero_point = xp.reshape(zero_point, (1, *ones))
    return a - xp.astype(zero_point, xp.int32)


def conv_integer(
    x: Any,
    weight: Any,
    x_zero_point: Any = 0,
    w_zero_point: Any = 0,
    *,
    stride: int | tuple[int, ...] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    data_format: str = "channels_first",
) -> Any:
    """ONNX ``ConvInteger``: ``conv(x - x_zero_point, weight - w_zero_point)`` in int32, exactly.

    Parameters
    ----------
    x : array
        uint8 or int8, ``(N, C_in, *spatial)`` (1 to 3 spatial axes; channels last with
        ``data_format``), or unbatched.
    weight : array
        uint8 or int8, ``(C_out, C_in/groups, *kernel)``.
    x_zero_point : int or array, optional
        ``x``'s dtype, a scalar (``()`` or ``(1,)``).
    w_zero_point : int or array, optional
        ``weight``'s dtype, a scalar or one per output channel, ``(C_out,)``.
    stride, padding, dilation, groups, data_format
        As for :func:`xpconv.conv` (``padding="same_lower"`` is ONNX's ``SAME_LOWER``).

    Returns
    -------
    array
        int32, ``(N, C_out, *out)``: the exact sums (the padding holds the zero point).

    Examples
    --------
    >>> import numpy as np, xpconv
    >>> x = np.arange(2, 11, dtype=np.uint8).reshape(1, 1, 3, 3)
    >>> xpconv.conv_integer(x, np.ones((1, 1, 2, 2), np.uint8), np.uint8(1)).tolist()
    [[[[12, 16], [24, 28]]]]
    """
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups, data_format=data_format)
    _, xp, arrays, plan = _prepare(x, weight, {"x_zero_point": x_zero_point, "w_zero_point": w_zero_point},
                                         options)
    return _accumulate(xp, arrays, plan, options)


def _accumulate(xp: Any, arrays: dict[str, Any], plan: ConvPlan, options: ConvOptions) -> Any:
    xi = _centred(xp, arrays["x"], arrays["x_zero_point"], plan, per_channel=False)
    wi = _centred(xp, arrays["weight"], arrays["w_zero_point"], plan, per_channel=True)
    return call(Kind.FORWARD, xi, wi, None, options)


def qlinear_conv(
    x: Any,
    x_scale: Any,
    x_zero_point: Any,
    weight: Any,
    w_scale: Any,
    w_zero_point: Any,
    y_scale: Any,
    y_zero_point: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, ...] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    data_format: str = "channels_first",
) -> Any:
    """ONNX ``QLinearConv``: the quantized convolution, requantized to 8 bits.

    ``y = saturate(round_half_even((conv_integer(x, weight) + bias) · x_scale · w_scale / y_scale)
    + y_zero_point)``. The multiplier ``x_scale · w_scale / y_scale`` is computed in the scales'
    dtype (float32 in ONNX); its product with the int32 sums in float64 where the backend has it
    (JAX needs ``jax_enable_x64``), else float32.

    Parameters
    ----------
    x, weight, x_zero_point, w_zero_point, stride, padding, dilation, groups, data_format
        As for :func:`conv_integer`.
    x_scale, y_scale : float or array
        Scalars (``()`` or ``(1,)``).
    w_scale : float or array
        A scalar, or one per output channel, ``(C_out,)``.
    y_zero_point : int or array
        The output's zero point; its dtype (uint8 or int8) is the output's (an int: ``x``'s dtype).
    bias : array, optional
        int32 ``(C_out,)``, at scale ``x_scale · w_scale``.

    Returns
    -------
    array
        ``y_zero_point``'s dtype, ``(N, C_out, *out)``.
    """
    options = ConvOptions(stride=stride, padding=padding, dilation=dilation, groups=groups, data_format=data_format)
    extra = {"x_zero_point": x_zero_point, "w_zero_point": w_zero_point, "x_scale": x_scale, "w_scale": w_scale,
             "y_scale": y_scale, "y_zero_point": y_zero_point, "bias": bias}
    backend, xp, arrays, plan = _prepare(x, weight, extra, options)
    scalar = ((), (1,))
    _scale("x_scale", x_scale, scalar)
    _scale("w_scale", w_scale, (*scalar, (plan.out_channels,)))
    _scale("y_scale", y_scale, scalar)
    out = dtype_name(arrays["x"].dtype) if isinstance(y_zero_point, int) else _integer_dtype("y_zero_point", y_zero_point)
    _zero_point("y_zero_point", y_zero_point, out, scalar)
    if bias is not None and (dtype_name(arrays["bias"].dtype) != "int32" or tuple(bias.shape) != (plan.out_channels,)):
        raise TypeError(f"bias must be int32 of shape ({plan.out_channels},) (C_out,). Received: bias with dtype "
                        f"{dtype_name(arrays['bias'].dtype)} and shape {tuple(bias.shape)}")
    # checked: now the work
    total = _accumulate(xp, arrays, plan, options)
    if bias is not None:
        total = total + xp.reshape(arrays["bias"], plan.bias_shape if plan.batched else plan.bias_shape[1:])
    wide = xp.float64 if "float64" in backend.dtypes else xp.float32
    multiplier = _multiplier(xp, arrays, plan, wide)
    y = xp.astype(total, wide) * multiplier
    ones = (1,) * len(plan.output_shape)
    y = xp.round(y + (y_zero_point if isinstance(y_zero_point, int) else
                      xp.astype(xp.reshape(arrays["y_zero_point"], ones), wide)))
    low, high = RANGES[out]
    return xp.astype(xp.clip(y, float(low), float(high)), getattr(xp, out))  # y is floating: float bounds


def _multiplier(xp: Any, arrays: dict[str, Any], plan: ConvPlan, wide: Any) -> Any:
    """``x_scale · w_scale / y_scale`` in the scales' dtype, then ``wide``, shaped to broadcast
    over the output (per output channel for a ``(C_out,)`` weight scale)."""
    def scale(name: str) -> Any:
        value = arrays[name]
        return xp.asarray(value, dtype=xp.float32) if isinstance(value, (int, float)) else value

    ones = (1,) * len(plan.output_shape)  # shaped to broadcast over the output, never 0-d
    x_scale, w_scale, y_scale = (scale(n) for n in ("x_scale", "w_scale", "y_scale"))
    x_scale, y_scale = xp.reshape(x_scale, ones), xp.reshape(y_scale, ones)
    if tuple(w_scale.shape) == (plan.out_channels,) and plan.out_channels > 1:
        w_scale = xp.reshape(w_scale, plan.bias_shape if plan.batched else plan.bias_shape[1:])
    else:
        w_scale = xp.reshape(w_scale, ones)
    return xp.astype(x_scale * w_scale / y_scale, wide)
